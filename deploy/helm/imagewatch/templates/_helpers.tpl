{{/* Names, labels and the values every template shares. */}}

{{- define "imagewatch.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "imagewatch.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The pipeline stages KEDA scales, with the subjects each consumes (durable consumer = <stage>-<subject with _ for .>). */}}
{{- define "imagewatch.stageSubjects" -}}
fetcher: ["iw.push"]
inventory: ["iw.fetched"]
secrets: ["iw.fetched"]
matcher: ["iw.inventory", "iw.vulndb"]
notifier: ["iw.findings", "iw.secrets"]
{{- end -}}

{{- define "imagewatch.components" -}}
[api, fetcher, inventory, secrets, matcher, notifier, updater]
{{- end -}}

{{- define "imagewatch.selectorLabels" -}}
app.kubernetes.io/name: {{ include "imagewatch.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "imagewatch.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "imagewatch.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: imagewatch
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Labels of one component: (dict "root" $ "component" "inventory"). */}}
{{- define "imagewatch.componentSelector" -}}
{{ include "imagewatch.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "imagewatch.componentLabels" -}}
{{ include "imagewatch.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "imagewatch.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding tokens and the NATS password. */}}
{{- define "imagewatch.secretName" -}}
{{- default .Values.secrets.name .Values.secrets.existingSecret -}}
{{- end -}}

{{/* The NATS subchart's resource name (its own fullname rule). */}}
{{- define "imagewatch.natsFullname" -}}
{{- if .Values.nats.fullnameOverride -}}
{{- .Values.nats.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains "nats" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-nats" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The NATS servers, comma-separated: every node of the subchart's cluster, or bus.externalUrl. */}}
{{- define "imagewatch.natsUrl" -}}
{{- if .Values.nats.enabled -}}
{{- $nats := include "imagewatch.natsFullname" . -}}
{{- $urls := list -}}
{{- range $i := until (int .Values.nats.config.cluster.replicas) -}}
{{- $urls = append $urls (printf "nats://%s-%d.%s-headless.%s.svc:4222" $nats $i $nats $.Release.Namespace) -}}
{{- end -}}
{{- join "," $urls -}}
{{- else -}}
{{- required "bus.externalUrl is required when nats.enabled is false" .Values.bus.externalUrl -}}
{{- end -}}
{{- end -}}

{{/* host:port of JetStream monitoring for KEDA (the headless service: KEDA asks each node by name). */}}
{{- define "imagewatch.natsMonitoring" -}}
{{- if .Values.nats.enabled -}}
{{- $nats := include "imagewatch.natsFullname" . -}}
{{- printf "%s-headless.%s.svc.cluster.local:%d" $nats .Release.Namespace (int .Values.nats.config.monitor.port) -}}
{{- else -}}
{{- required "bus.externalMonitoringEndpoint is required for KEDA when nats.enabled is false" .Values.bus.externalMonitoringEndpoint -}}
{{- end -}}
{{- end -}}

{{- define "imagewatch.cnpgName" -}}
{{- printf "%s-pg" (include "imagewatch.fullname" .) | trunc 50 | trimSuffix "-" -}}
{{- end -}}

{{/* The env var with the PostgreSQL URL (CloudNativePG's app secret, an existing secret or ours). */}}
{{- define "imagewatch.databaseEnv" -}}
- name: IMAGEWATCH_DATABASE_URL
  valueFrom:
    secretKeyRef:
{{- if .Values.postgresql.cnpg.enabled }}
      name: {{ include "imagewatch.cnpgName" . }}-app
      key: uri
{{- else if .Values.postgresql.external.existingSecret }}
      name: {{ .Values.postgresql.external.existingSecret }}
      key: {{ .Values.postgresql.external.existingSecretKey }}
{{- else if .Values.postgresql.external.url }}
      name: {{ include "imagewatch.secretName" . }}
      key: IMAGEWATCH_DATABASE_URL
{{- else }}
{{- fail "postgresql: set postgresql.external.url, postgresql.external.existingSecret or postgresql.cnpg.enabled" }}
{{- end }}
{{- end -}}

{{/* The api's TLS secret. */}}
{{- define "imagewatch.tlsSecret" -}}
{{- if .Values.tls.existingSecret -}}
{{- .Values.tls.existingSecret -}}
{{- else if .Values.tls.certManager.enabled -}}
{{- printf "%s-api-tls" (include "imagewatch.fullname" .) -}}
{{- else -}}
{{- fail "tls: enable tls.certManager or set tls.existingSecret (and tls.caBundle for admission)" -}}
{{- end -}}
{{- end -}}

{{/* Helm reads every YAML number as a float; turn whole ones back into integers, in place,
     so that toToml writes 4 (an int for imagewatch) rather than 4.0. */}}
{{- define "imagewatch.wholeNumbers" -}}
{{- $d := . -}}
{{- range $k, $v := $d -}}
{{- if eq (kindOf $v) "float64" -}}
{{- if eq (float64 (int64 $v)) $v -}}
{{- $_ := set $d $k (int64 $v) -}}
{{- end -}}
{{- else if eq (kindOf $v) "map" -}}
{{- include "imagewatch.wholeNumbers" $v -}}
{{- else if eq (kindOf $v) "slice" -}}
{{- range $item := $v -}}
{{- if eq (kindOf $item) "map" -}}
{{- include "imagewatch.wholeNumbers" $item -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
