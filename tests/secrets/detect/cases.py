"""Per-rule true- and false-positive cases, built at run time from parts.

Tokens are assembled from random characters so that no well-formed token
appears literally in the repository (push protection, scanners of this repo).
Each case is (rule id, text before, secret, text after, false-positive text);
the true positive is before + secret + after, and the rule must report exactly
``secret``. The false positive must not be reported by that rule.
"""

from __future__ import annotations

import random
import string

_R = random.Random(20240611)
ALNUM = string.ascii_letters + string.digits
LOWER = string.ascii_lowercase + string.digits
UPPER = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
TOK = ALNUM + "_-"


def rnd(n: int, alphabet: str = ALNUM) -> str:
    """A random string of ``n`` characters drawn from ``alphabet``."""
    return "".join(_R.choice(alphabet) for _ in range(n))


def uuid() -> str:
    return f"{rnd(8, HEX)}-{rnd(4, HEX)}-{rnd(4, HEX)}-{rnd(4, HEX)}-{rnd(12, HEX)}"


def pem(label: str, lines: int = 4) -> str:
    body = "\n".join(rnd(64, B64) for _ in range(lines))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----"


def _jwt() -> str:
    import base64
    import json

    def enc(o: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(o).encode()).decode().rstrip("=")

    return f"{enc({'alg': 'HS256', 'typ': 'JWT'})}.{enc({'sub': rnd(10), 'iat': 1700000000})}.{rnd(43, TOK)}"


def _b64_words(n: int) -> str:
    import base64

    return base64.b64encode(rnd(n).encode()).decode()


EMPTY_PEM = "-----BEGIN {0}----- -----END {0}-----"
OWM = "T3Blbk" + "FJ"  # the OpenAI key watermark, split so this file holds no key


def cases() -> list[tuple[str, str, str, str, str]]:
    """Return the case table; called once per test session."""
    gh = lambda p: p + "_" + rnd(36)  # noqa: E731
    return [
        ("private-key-rsa", "key: |\n", pem("RSA PRIVATE KEY"), "\n", EMPTY_PEM.format("RSA PRIVATE KEY")),
        ("private-key-ec", "", pem("EC PRIVATE KEY", 2), "\n", EMPTY_PEM.format("EC PRIVATE KEY")),
        ("private-key-dsa", "", pem("DSA PRIVATE KEY"), "", "-----BEGIN DSA PRIVATE KEY-----\n...\n-----END DSA PRIVATE KEY-----"),
        ("private-key-openssh", "", pem("OPENSSH PRIVATE KEY", 6), "\n", EMPTY_PEM.format("OPENSSH PRIVATE KEY")),
        ("private-key-pgp", "", pem("PGP PRIVATE KEY BLOCK", 6), "\n", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n" + rnd(64, B64)),
        ("private-key-pkcs8", '{"private_key": "', pem("PRIVATE KEY").replace("\n", "\\n"), '"}', EMPTY_PEM.format("PRIVATE KEY")),
        ("private-key-pkcs8-encrypted", "", pem("ENCRYPTED PRIVATE KEY"), "", EMPTY_PEM.format("ENCRYPTED PRIVATE KEY")),
        ("private-key-other", "", pem("SSH2 ENCRYPTED PRIVATE KEY"), "", "-----BEGIN CERTIFICATE-----\n" + rnd(64, B64)),
        ("private-key-putty", "", "PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nPrivate-Lines: 1\n" + rnd(64, B64) + "\nPrivate-MAC: " + rnd(40, HEX), "\n", "PuTTY-User-Key-File-2: ssh-rsa\nPrivate-MAC: none"),
        ("age-secret-key", "# created\n", "AGE-SECRET-KEY-1" + rnd(58, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"), "\n", "AGE-SECRET-KEY-1" + rnd(30, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L")),
        ("aws-access-key-id", "AWS_ACCESS_KEY_ID=", "AKIA" + rnd(16, UPPER), "\n", "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7" + "EXAMPLE"),
        ("aws-secret-access-key", 'aws_secret_access_key = "', rnd(40, B64), '"', 'aws_secret_access_key = "' + rnd(41, ALNUM) + '"'),
        ("aws-session-token", "aws_session_token=", rnd(300, B64), "\n", "aws_session_token=${AWS_SESSION_TOKEN}"),
        ("aws-sts-token-value", "token: ", "FwoGZXIvYXdz" + rnd(200, B64), "\n", "token: FwoGZXIvYXdz" + rnd(20, B64)),
        ("aws-mws-key", "mws=", "amzn.mws." + uuid(), "", "mws=amzn.mws.1234"),
        ("gcp-service-account-key-id", '{"type": "service_account", "private_key_id": "', rnd(40, HEX), '"}', '{"private_key_id": "' + rnd(12, HEX) + '"}'),
        ("gcp-api-key", "key=", "AIza" + rnd(35, TOK), "&x=1", "key=AIza" + rnd(20, TOK)),
        ("gcp-oauth-client-secret", "client_secret: ", "GOCSPX-" + rnd(28, TOK), "\n", "GOCSPX-" + rnd(10)),
        ("gcp-oauth-access-token", "Authorization: Bearer ", "ya29." + rnd(120, TOK), "\n", "ya29.short"),
        ("firebase-fcm-server-key", "server_key=", "AAAA" + rnd(7, TOK) + ":APA91b" + rnd(134, TOK), "\n", "AAAA" + rnd(7) + ":APA91b" + rnd(20)),
        ("azure-storage-account-key", "DefaultEndpointsProtocol=https;AccountName=acc;AccountKey=", rnd(86, B64) + "==", ";EndpointSuffix=core.windows.net", "AccountKey=" + rnd(40, B64)),
        ("azure-shared-access-key", "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=", rnd(43, B64) + "=", "", "SharedAccessKey=" + rnd(20, B64)),
        ("azure-sas-token", "https://acc.blob.core.windows.net/c?sv=2023-11-03&sr=b&sp=r&sig=", rnd(43, ALNUM) + "%3D", "", "?sv=2023-11-03&sig=short"),
        ("azure-app-config-connection-string", "Endpoint=https://store.azconfig.io;Id=ab12;Secret=", rnd(44, B64), "\n", "Endpoint=https://store.azconfig.io;Id=ab12;Secret=${SECRET}"),
        ("azure-entra-client-secret", "client_secret=", rnd(3) + "8Q~" + rnd(34, ALNUM + "_.-"), "\n", "client_secret=" + rnd(3) + "8Q~" + rnd(10)),
        ("azure-client-secret", "AZURE_CLIENT_SECRET=", rnd(40, ALNUM + "_.-"), "\n", "AZURE_CLIENT_SECRET=$AZURE_SECRET"),
        ("azure-devops-pat", "AZURE_DEVOPS_TOKEN=", rnd(52, "abcdefghijklmnopqrstuvwxyz234567"), "\n", "AZURE_DEVOPS_TOKEN=" + rnd(20, LOWER)),
        ("azure-ai-services-key", "key=", rnd(52) + "JQQJ99" + rnd(18) + "ACOG" + rnd(4), "\n", "key=" + rnd(30) + "JQQJ99" + rnd(8)),
        ("azure-container-registry-key", "pw=", rnd(52) + "JQQJ99" + rnd(18) + "AZCR" + rnd(4), "\n", "pw=" + rnd(52) + "JQQJ99" + rnd(18) + "ZZZZ" + rnd(4)),
        ("azure-container-registry-password", "registry: reg.azurecr.io password: ", rnd(32, B64), "\n", "registry: reg.azurecr.io password: ${ACR_PASSWORD}"),
        ("github-pat", "GITHUB_TOKEN=", gh("ghp"), "\n", "GITHUB_TOKEN=ghp_" + rnd(20)),
        ("github-fine-grained-pat", "token: ", "github_pat_" + rnd(22) + "_" + rnd(59), "\n", "github_pat_" + rnd(30)),
        ("github-oauth-token", "oauth=", gh("gho"), "", "oauth=gho_" + rnd(35)),
        ("github-user-to-server-token", "t=", gh("ghu"), "", "t=ghu_" + rnd(37)),
        ("github-app-installation-token", "t=", gh("ghs"), "", "t=ghs_" + rnd(12)),
        ("github-refresh-token", "t=", "ghr_" + rnd(76), "", "t=ghr_" + rnd(20)),
        ("gitlab-pat", "GITLAB_TOKEN=", "glpat-" + rnd(20, TOK), "\n", "glpat_" + rnd(20, TOK)),
        ("gitlab-deploy-token", "t=", "gldt-" + rnd(20, TOK), "\n", "t=gldt-" + rnd(12, TOK)),
        ("gitlab-runner-registration-token", "t=", "GR1348941" + rnd(20, TOK), "\n", "t=GR1348941" + rnd(10)),
        ("gitlab-runner-auth-token", "token = ", "glrt-" + rnd(20, TOK), "\n", "glrt-" + rnd(8)),
        ("gitlab-ci-build-token", "t=", "glcbt-" + rnd(20, TOK), "\n", "t=glcbt-" + rnd(8)),
        ("gitlab-incoming-mail-token", "t=", "glimt-" + rnd(25, TOK), "\n", "t=glimt-" + rnd(27, ALNUM)),
        ("gitlab-trigger-token", "t=", "glptt-" + rnd(40, TOK), "\n", "t=glptt-" + rnd(20)),
        ("gitlab-agent-token", "t=", "glagent-" + rnd(50, TOK), "\n", "t=glagent-" + rnd(20)),
        ("gitlab-oauth-app-secret", "t=", "gloas-" + rnd(64, TOK), "\n", "t=gloas-" + rnd(40)),
        ("gitlab-scim-token", "t=", "glsoat-" + rnd(20, TOK), "\n", "t=glsoat-" + rnd(51, ALNUM)),
        ("gitlab-feed-token", "t=", "glft-" + rnd(20, TOK), "\n", "t=glft-" + rnd(10)),
        ("gitlab-feature-flag-token", "t=", "glffct-" + rnd(20, TOK), "\n", "t=glffct-" + rnd(10)),
        ("bitbucket-app-password", "pw=", "ATBB" + rnd(32), "\n", "pw=ATBB" + rnd(10)),
        ("bitbucket-client-secret", "BITBUCKET_CLIENT_SECRET=", rnd(32), "\n", "BITBUCKET_CLIENT_SECRET=${BB_SECRET}"),
        ("atlassian-api-token", "t=", "ATATT3" + rnd(186, TOK), "\n", "t=ATATT3" + rnd(40)),
        ("atlassian-contextual-token", "JIRA_API_TOKEN=", rnd(24), "\n", "JIRA_API_TOKEN=" + "x" * 24),
        ("slack-bot-token", "SLACK=", "xoxb-" + rnd(11, string.digits) + "-" + rnd(12, string.digits) + "-" + rnd(24), "\n", "abcdexoxb-1234567890"),
        ("slack-user-token", "t=", "xoxp-" + "-".join(rnd(11, string.digits) for _ in range(3)) + "-" + rnd(32, LOWER), "\n", "t=xoxp-" + rnd(8, string.digits)),
        ("slack-legacy-token", "t=", "xoxa-2-" + rnd(40), "\n", "t=xoxa-" + rnd(4)),
        ("slack-app-token", "t=", "xapp-1-A" + rnd(10, UPPER) + "-" + rnd(13, string.digits) + "-" + rnd(64, HEX), "\n", "t=xapp-x-" + rnd(10)),
        ("slack-config-token", "t=", "xoxe.xoxp-1-" + rnd(160, UPPER), "\n", "t=xoxe.xoxp-1-" + rnd(20, UPPER)),
        ("slack-webhook-url", "url: https://", "hooks.slack.com/services/T" + rnd(10, UPPER) + "/B" + rnd(10, UPPER) + "/" + rnd(24), "\n", "url: https://hooks.slack.com/services/T000/B000/XXXX"),
        ("discord-bot-token", "DISCORD_TOKEN=", "M" + rnd(23, TOK) + "." + rnd(6, TOK) + "." + rnd(27, TOK), "\n", "P" + rnd(23, TOK) + "." + rnd(6, TOK) + "." + rnd(27, TOK)),
        ("discord-webhook-url", "hook: ", "https://discord.com/api/webhooks/" + rnd(18, string.digits) + "/" + rnd(68, TOK), "\n", "hook: https://discord.com/api/webhooks/123/abc"),
        ("discord-client-secret", "DISCORD_CLIENT_SECRET=", rnd(32, TOK), "\n", "DISCORD_CLIENT_SECRET=${DISCORD_SECRET}"),
        ("telegram-bot-token", "TELEGRAM_TOKEN=", rnd(10, string.digits) + ":AA" + rnd(33, TOK), "\n", "bot" + rnd(9, string.digits) + ":AA" + rnd(33, TOK)),
        ("telegram-bot-url", "https://api.telegram.org/bot", rnd(10, string.digits) + ":AA" + rnd(33, TOK), "/getMe", "https://api.telegram.org/bot<token>/getMe"),
        ("microsoft-teams-webhook", "", f"https://acme.webhook.office.com/webhookb2/{uuid()}@{uuid()}/IncomingWebhook/{rnd(32, HEX)}/{uuid()}", "\n", "https://acme.webhook.office.com/webhookb2/x@y/IncomingWebhook/z/w"),
        ("stripe-secret-key", "STRIPE_KEY=", "sk_" + "live_" + rnd(24), "\n", "STRIPE_KEY=pk_" + "live_" + rnd(24)),
        ("stripe-webhook-secret", "STRIPE_WEBHOOK=", "whsec_" + rnd(32), "\n", "whsec_" + rnd(10)),
        ("square-access-token", "t=", "EAAA" + rnd(60, TOK), "\n", "t=EAAA" + rnd(20)),
        ("square-oauth-secret", "t=", "sq0csp-" + rnd(43, TOK), "\n", "t=sq0csp-" + rnd(20)),
        ("braintree-access-token", "t=", "access_token$production$" + rnd(16, LOWER) + "$" + rnd(32, HEX), "\n", "access_token$sandbox$" + rnd(16, LOWER) + "$" + rnd(32, HEX)),
        ("paypal-client-secret", "PAYPAL_CLIENT_SECRET=", rnd(60, TOK), "\n", "PAYPAL_CLIENT_SECRET=${PAYPAL_SECRET}"),
        ("flutterwave-secret-key", "k=", "FLWSECK-" + rnd(32, "abcdefgh0123456789") + "-X", "\n", "ABCDFLWSECK_TEST-" + rnd(20)),
        ("shopify-access-token", "t=", "shpat_" + rnd(32, HEX), "\n", "t=shpat_" + rnd(20, HEX)),
        ("shopify-shared-secret", "t=", "shpss_" + rnd(32, HEX), "\n", "t=shpss_" + rnd(31, HEX)),
        ("twilio-api-key", "TWILIO_SID=", "AC" + rnd(32, HEX), "\n", "TWILIO_SID=AC" + rnd(32, UPPER)),
        ("sendgrid-api-key", "SENDGRID=", "SG." + rnd(22, TOK) + "." + rnd(43, TOK), "\n", "AG." + rnd(22, TOK) + "." + rnd(43, TOK)),
        ("mailgun-api-key", "MAILGUN=", "key-" + rnd(32, HEX), "\n", "MAILGUN=key-" + rnd(32, UPPER)),
        ("mailchimp-api-key", "MC=", rnd(32, HEX) + "-us12", "\n", "MC=" + rnd(32, HEX).upper() + "-us12"),
        ("hubspot-private-app-token", "HS=", "pat-na1-" + uuid(), "\n", "HS=pat-na1-1234"),
        ("hubspot-api-key", "HUBSPOT_API_KEY=", uuid(), "\n", "HUBSPOT_API_KEY=" + rnd(20, HEX)),
        ("npm-access-token", "NPM_TOKEN=", "npm_" + rnd(36), "\n", "NPM_TOKEN=npm_" + rnd(20)),
        ("npmrc-auth-token", "//registry.npmjs.org/:_authToken=", rnd(36), "\n", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}"),
        ("npmrc-auth-password", "//npm.example.org/:_password=", _b64_words(12), "\n", "//npm.example.org/:_password=${NPM_PASS}"),
        ("pypi-upload-token", "password = ", "pypi-AgEIcHlwaS5vcmc" + rnd(150, TOK), "\n", "pypi-AgEIcHlwaS5vcmc" + rnd(40, TOK)),
        ("rubygems-api-key", "GEM_HOST_API_KEY=", "rubygems_" + rnd(48, HEX), "\n", "rubygems_" + rnd(20, HEX)),
        ("clojars-deploy-token", "t=", "CLOJARS_" + rnd(60, LOWER), "\n", "t=CLOJARS_" + rnd(20, LOWER)),
        ("private-packagist-token", "T=", "packagist_uut_" + rnd(68, HEX), "\n", "T=packagist_xxx_" + rnd(68, HEX)),
        ("dockerhub-pat", "DOCKER_PAT=", "dckr_pat_" + rnd(27, TOK), "\n", "DOCKER_PAT=dckr_pat_" + rnd(10)),
        ("docker-config-auth", '{"auths": {"https://index.docker.io/v1/": {"auth": "', _b64_words(18), '"}}}', '{"auths": {"r": {"auth": ""}}}'),
        ("kubernetes-docker-config-secret", "data:\n  .dockerconfigjson: ", _b64_words(30), "\n", "data:\n  .dockerconfigjson: {{ .Values.cfg }}"),
        ("artifactory-api-key", "X-JFrog-Art-Api: ", "AKC" + rnd(69), "\n", "testAKCwithinsomeirrelevantstring"),
        ("maven-settings-password", "<server><password>", rnd(16), "</password></server>", "<password>{COQLCE6DU6GtcS5P=}</password>"),
        ("maven-settings-master-password", "<settingsSecurity><master>", rnd(12), "</master>", "<master>{jSMOWnoPFgsHVpMvz5VrIt5kRbzGpI8u+9EF1iFQyJQ=}</master>"),
        ("heroku-api-key", "HEROKU_API_KEY=", uuid(), "\n", "HEROKU_API_KEY=${HEROKU_KEY}"),
        ("heroku-platform-token", "t=", "HRKU-AA" + rnd(58, TOK), "\n", "t=HRKU-AA" + rnd(20)),
        ("digitalocean-token", "DO=", "dop_v1_" + rnd(64, HEX), "\n", "DO=dop_v1_" + rnd(20, HEX)),
        ("alibaba-access-key-id", "key = ", "LTAI" + rnd(20), ",", "asdLTAI" + rnd(20)),
        ("ibm-cloud-api-key", "ibm_cloud_api_key: ", rnd(44, TOK), "\n", "ibm_cloud_api_key: " + rnd(44, TOK) + "extra"),
        ("ibm-cos-hmac-secret", "secret_access_key = ", rnd(48, HEX), "\n", "secret_access_key = " + rnd(52, HEX)),
        ("softlayer-api-key", "softlayer_api_key: ", rnd(64, LOWER), "\n", "softlayer_api_key: insert_key_here"),
        ("softlayer-api-url", "http://api.softlayer.com/soap/v3/", rnd(64, LOWER), "\n", "http://api.softlayer.com/soap/v3/short"),
        ("ibm-cloudant-credential", "cloudant_password='", rnd(64, HEX), "'", "cloudant_password = 'a-fake-tooshort-key'"),
        ("hashicorp-vault-token", "VAULT_TOKEN=", "hvs." + rnd(90, TOK), "\n", "VAULT_TOKEN=hvs." + rnd(8)),
        ("terraform-cloud-token", "token = \"", rnd(14) + ".atlasv1." + rnd(67, TOK), '"', "token = \"" + rnd(14) + ".atlasv1." + rnd(20) + '"'),
        ("pulumi-access-token", "PULUMI_ACCESS_TOKEN=", "pul-" + rnd(40, HEX), "\n", "PULUMI_ACCESS_TOKEN=pul-" + rnd(20, HEX)),
        ("doppler-token", "DOPPLER_TOKEN=", "dp.st." + rnd(43), "\n", "DOPPLER_TOKEN=dp.st." + rnd(10)),
        ("fastly-api-token", "FASTLY_API_TOKEN=", rnd(32, TOK), "\n", "FASTLY_API_TOKEN=${FASTLY}"),
        ("cloudflare-api-token", "CLOUDFLARE_API_TOKEN=", rnd(40, TOK), "\n", "CLOUDFLARE_API_TOKEN=" + rnd(10)),
        ("cloudflare-origin-ca-key", "k=", "v1.0-" + rnd(24, HEX) + "-" + rnd(146, HEX), "\n", "k=v1.0-" + rnd(24, HEX) + "-" + rnd(20, HEX)),
        ("netlify-access-token", "NETLIFY=", "nfp_" + rnd(36), "\n", "NETLIFY=nfp_" + rnd(20)),
        ("netlify-contextual-token", "NETLIFY_AUTH_TOKEN=", rnd(43, TOK), "\n", "NETLIFY_AUTH_TOKEN=${NETLIFY_AUTH_TOKEN}"),
        ("vercel-token", "VERCEL_TOKEN=", rnd(24), "\n", "VERCEL_TOKEN=" + rnd(10)),
        ("supabase-token", "SUPABASE=", "sbp_" + rnd(40, HEX), "\n", "SUPABASE=sbp_" + rnd(20, HEX)),
        ("planetscale-token", "PS=", "pscale_tkn_" + rnd(43, TOK), "\n", "PS=pscale_tkn_" + rnd(10)),
        ("databricks-token", "DATABRICKS_TOKEN=", "dapi" + rnd(32, HEX), "\n", "DATABRICKS_TOKEN=dapi" + rnd(32, UPPER)),
        ("scalingo-token", "t=", "tk-us-" + rnd(48, TOK), "\n", "t=tk-us-" + rnd(20)),
        ("openai-api-key", "OPENAI_API_KEY=", "sk-proj-" + rnd(20) + OWM + rnd(20), "\n", "sk-ant-" + rnd(20) + OWM + rnd(20)),
        ("openai-realtime-client-secret", "secret: ", "ek_" + rnd(32, HEX), "\n", "week_" + rnd(32, HEX)),
        ("anthropic-api-key", "ANTHROPIC_API_KEY=", "sk-ant-api03-" + rnd(93, TOK) + "AA", "\n", "ANTHROPIC_API_KEY=sk-ant-" + rnd(40)),
        ("huggingface-token", "HF_TOKEN=", "hf_" + rnd(34), "\n", "_call_hf_processorz1DeepseekOCRMultiModalProcessor._call_hf_processor"),
        ("huggingface-org-token", "t=", "api_org_" + rnd(34), "\n", "t=api_org_" + rnd(10)),
        ("grafana-api-key", "GRAFANA_TOKEN=", "eyJrIjoi" + rnd(80, B64), "\n", "GRAFANA_TOKEN=eyJrIjoi" + rnd(20)),
        ("grafana-cloud-token", "t=", "glc_" + rnd(40, B64), "\n", "t=glc_" + rnd(20)),
        ("grafana-service-account-token", "t=", "glsa_" + rnd(32) + "_" + rnd(8, HEX), "\n", "t=glsa_" + rnd(20)),
        ("datadog-api-key", "DD_API_KEY=", rnd(32, HEX), "\n", "DD_API_KEY=${DD_API_KEY}"),
        ("newrelic-user-api-key", "NR=", "NRAK-" + rnd(27, UPPER), "\n", "NR=NRAK-" + rnd(10, UPPER)),
        ("newrelic-insert-key", "NR=", "NRII-" + rnd(32, TOK), "\n", "NR=NRII-" + rnd(10)),
        ("newrelic-license-key", "license_key: ", rnd(36, HEX) + "NRAL", "\n", "license_key: " + rnd(20, HEX) + "NRAL"),
        ("sentry-org-token", "SENTRY_AUTH_TOKEN=", "sntrys_eyJpYXQiO" + rnd(80, B64), "\n", "SENTRY_AUTH_TOKEN=sntrys_" + rnd(20)),
        ("sentry-user-token", "SENTRY_AUTH_TOKEN=", "sntryu_" + rnd(64, HEX), "\n", "SENTRY_AUTH_TOKEN=sntryu_" + rnd(20, HEX)),
        ("dynatrace-api-token", "DT=", "dt0c01." + rnd(24, UPPER) + "." + rnd(64, UPPER), "\n", "DT=dt0c01." + rnd(10, UPPER)),
        ("okta-api-token", "OKTA_API_TOKEN=", "00" + rnd(40, TOK), "\n", "OKTA_API_TOKEN=${OKTA_TOKEN}"),
        ("postman-api-key", "POSTMAN=", "PMAK-" + rnd(24, HEX) + "-" + rnd(34, HEX), "\n", "POSTMAN=PMAK-" + rnd(10, HEX)),
        ("linear-api-key", "LINEAR=", "lin_api_" + rnd(40), "\n", "LINEAR=lin_api_" + rnd(20)),
        ("notion-token", "NOTION=", "ntn_" + rnd(11, string.digits) + rnd(35), "\n", "NOTION=ntn_" + rnd(10)),
        ("contentful-token", "CONTENTFUL=", "CFPAT-" + rnd(43, TOK), "\n", "CONTENTFUL=CFPAT-" + rnd(10)),
        ("asana-token", "ASANA_TOKEN=", "2/" + rnd(16, string.digits) + "/" + rnd(16, string.digits) + ":" + rnd(32, HEX), "\n", "ASANA_TOKEN=${ASANA}"),
        ("airtable-token", "AIRTABLE_API_KEY=", "pat" + rnd(14) + "." + rnd(64, HEX), "\n", "AIRTABLE_API_KEY=${AIRTABLE}"),
        ("algolia-admin-key", "ALGOLIA_ADMIN_KEY=", rnd(32, HEX), "\n", "ALGOLIA_ADMIN_KEY=" + rnd(10, HEX)),
        ("sourcegraph-token", "SRC=", "sgp_" + rnd(16, HEX) + "_" + rnd(40, HEX), "\n", "SRC=sgp_" + rnd(10, HEX)),
        ("prefect-api-key", "PREFECT_API_KEY=", "pnu_" + rnd(36), "\n", "PREFECT_API_KEY=pnu_" + rnd(10)),
        ("readme-api-key", "README=", "rdme_" + rnd(70, LOWER), "\n", "README=rdme_" + rnd(10, LOWER)),
        ("mapbox-secret-token", "MAPBOX=", "sk.eyJ1Ijoi" + rnd(80, TOK), "\n", "MAPBOX=pk.eyJ1Ijoi" + rnd(80, TOK)),
        ("facebook-access-token", "FB=", "EAACEdEose0cBA" + rnd(100), "\n", "FB=EAAB" + rnd(20)),
        ("shippo-api-token", "SHIPPO=", "shippo_live_" + rnd(40, HEX), "\n", "SHIPPO=shippo_test_" + rnd(40, HEX)),
        ("frameio-api-token", "FRAMEIO=", "fio-u-" + rnd(64, TOK), "\n", "FRAMEIO=fio-u-" + rnd(10)),
        ("symfony-default-secret", "parameters:\n  secret: ", "ThisTokenIsNotSoSecret" + "ChangeIt", "\n", "parameters:\n  secret: '%env(APP_SECRET)%'"),
        ("symfony-app-secret", "APP_SECRET=", rnd(32, HEX), "\n", "APP_SECRET=${APP_SECRET}"),
        ("snyk-api-token", "SNYK_TOKEN=", uuid(), "\n", "SNYK_ORG_ID=" + uuid()),
        ("sidekiq-enterprise-credentials", "BUNDLE_ENTERPRISE__CONTRIBSYS__COM=", rnd(8, HEX) + ":" + rnd(8, HEX), "\n",
         "BUNDLE_ENTERPRISE__CONTRIBSYS__COM=${SIDEKIQ_CREDS}"),
        ("sonarqube-token", "sonar.token=", "squ_" + rnd(40, HEX), "\n", "sonar.token=squ_" + rnd(12, HEX)),
        ("sonarqube-contextual-token", "SONAR_TOKEN=", rnd(40, HEX), "\n", "SONAR_HOST_URL=" + rnd(40, HEX)),
        ("flyio-access-token", "FLY_API_TOKEN=", "fm2_" + rnd(160, B64), "\n", "FLY_API_TOKEN=fm2_" + rnd(20)),
        ("sumologic-access-id", "SUMO_ACCESS_ID=", "su" + rnd(12), "\n", "SUMO_ACCESS_ID=su" + rnd(4)),
        ("sumologic-access-key", "SUMO_ACCESS_KEY=", rnd(64), "\n", "SUMO_ENDPOINT=" + rnd(64)),
        ("1password-service-account-token", "OP_SERVICE_ACCOUNT_TOKEN=", "ops_eyJ" + rnd(300, B64), "\n",
         "OP_SERVICE_ACCOUNT_TOKEN=ops_eyJ" + rnd(40)),
        ("1password-secret-key", "secret key: ", "A3-" + rnd(6, UPPER) + "-" + rnd(11, UPPER) + "-" + rnd(5, UPPER)
         + "-" + rnd(5, UPPER) + "-" + rnd(5, UPPER), "\n", "A3-" + rnd(6, UPPER) + "-" + rnd(4, UPPER)),
        ("facebook-page-access-token", "FB_PAGE_TOKEN=", "EAAG" + rnd(180), "\n", "FB_PAGE_TOKEN=EAAG" + rnd(40)),
        ("facebook-app-secret", "FACEBOOK_CLIENT_TOKEN=", rnd(16, "0123456789") + "|" + rnd(32, TOK), "\n",
         "FACEBOOK_CLIENT_TOKEN=" + rnd(16, "0123456789")),
        ("intra42-client-secret", "FT_SECRET=", "s-s4t2ud-" + rnd(64, HEX), "\n", "FT_UID=u-s4t2ud-" + rnd(64, HEX)),
        ("slack-config-refresh-token", "SLACK_CONFIG_REFRESH_TOKEN=", "xoxe-1-" + rnd(146), "\n",
         "SLACK_CONFIG_REFRESH_TOKEN=xoxe-1-" + rnd(20)),
        ("sourcegraph-legacy-token", "SRC_ACCESS_TOKEN=", "sgp_" + rnd(40, HEX), "\n", "SRC_ACCESS_TOKEN=sgp_" + rnd(12, HEX)),
        ("stripe-test-key", "STRIPE_KEY=", "rk_test_" + rnd(30), "\n", "STRIPE_KEY=pk_test_" + rnd(30)),
        ("aws-bedrock-api-key", "AWS_BEARER_TOKEN_BEDROCK=", "ABSKQmVkcm9ja0FQSUtleS" + rnd(120, B64), "\n",
         "AWS_BEARER_TOKEN_BEDROCK=ABSK" + rnd(30)),
        ("cloudflare-global-api-key", "CLOUDFLARE_API_KEY=", rnd(37, HEX), "\n", "CLOUDFLARE_ZONE_ID=" + rnd(32, HEX)),
        ("gcp-service-account-private-key", '{"type": "service_account", "project_id": "p", "private_key": "',
         "-----BEGIN PRIVATE KEY-----\\n" + "\\n".join(rnd(64, B64) for _ in range(4)) + "\\n-----END PRIVATE KEY-----",
         '\\n", "client_email": "x@p.iam.gserviceaccount.com"}',
         '{"type": "service_account", "private_key": "${GCP_KEY}"}'),
        ("messagebird-api-key", "MESSAGEBIRD_API_KEY=", rnd(25), "\n", "MESSAGEBIRD_ORIGINATOR=" + rnd(25)),
        ("openshift-user-token", "oc login --token=", "sha256~" + rnd(43, TOK), " --server=https://api.ocp:6443",
         "digest: sha256:" + rnd(64, HEX)),
        ("vault-legacy-token", "VAULT_TOKEN=", "s." + rnd(24), "\n", "VAULT_ADDR=s." + rnd(24)),
        ("terraform-token-env", "TF_TOKEN_registry_example_io=", rnd(40), "\n", "TF_TOKEN_app_terraform_io=${TFC_TOKEN}"),
        ("curl-user-password", "curl -fsS -u deploy:", rnd(16), " https://repo.internal/upload",
         "curl -u deploy:$DEPLOY_PASSWORD https://repo.internal/upload"),
        ("http-auth-header-argument", 'curl -H "Authorization: token ', rnd(30), '" https://api.internal/',
         'curl -H "Authorization: token $GITHUB_TOKEN" https://api.internal/'),
        ("kubernetes-secret-data", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\ndata:\n  password: ",
         rnd(24, B64) + "==", "\n", "apiVersion: v1\nkind: ConfigMap\ndata:\n  password: " + rnd(24, B64) + "=="),
        ("nuget-cleartext-password", '<packageSourceCredentials><feed><add key="ClearTextPassword" value="', rnd(14), '" />',
         '<add key="ClearTextPassword" value="%NUGET_PASSWORD%" />'),
        ("jwt", "jwt: ", _jwt(), "\n", "bm90X3ZhbGlkX2pzb25fYXRfYWxs.bm90X3ZhbGlkX2pzb25fYXRfYWxs." + rnd(43, TOK)),
        ("url-credentials", "DATABASE_URL=postgres://app:", rnd(16), "@db.internal:5432/app", "DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app"),
        ("netrc-password", "machine api.example.com login bot password ", rnd(20), "\n", "machine api.example.com login bot"),
        ("linux-password-hash", "root:", "$6$" + rnd(16, LOWER) + "$" + rnd(86, ALNUM + "./"), ":19000:0:99999:7:::", "root:*:19000:0:99999:7:::"),
        ("http-basic-auth-header", "Authorization: Basic ", _b64_words(20), "\n", "Authorization: Basic ${CREDS}"),
        ("http-bearer-token", "Authorization: Bearer ", rnd(40, TOK), "\n", "Authorization: Bearer <your-token>"),
        ("generic-password", 'db_password = "', rnd(14, ALNUM + "!#%"), '"', 'db_password = "changeme"'),
        ("generic-secret", "CLIENT_SECRET: ", rnd(24), "\n", "client_secret = settings.CLIENT_SECRET"),
        ("generic-api-key", "api_key: ", rnd(32), "\n", 'api_key = os.environ["API_KEY"]'),
        ("generic-token", 'auth_token = "', rnd(32), '"', 'auth_token = "' + "a" * 32 + '"'),
    ]
