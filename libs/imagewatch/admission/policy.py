"""Kubernetes admission: read an AdmissionReview, judge its images, answer.

Pure functions, no I/O: the api resolves each image to a digest and looks up
its scan (``ImageStatus``); :func:`decide` applies the policy
(:class:`~imagewatch.config.AdmissionConfig`) and :func:`review_response`
writes the ``admission.k8s.io/v1`` answer.

Images are normalised like Docker and Kubernetes do (``nginx`` is
``docker.io/library/nginx:latest``) by :class:`~imagewatch.oci.Reference`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from imagewatch.config import AdmissionConfig
from imagewatch.models import SEVERITY_ORDER
from imagewatch.oci import InvalidReference, Reference
from imagewatch.errors import ImagewatchError

API_VERSION = "admission.k8s.io/v1"
CONTAINER_FIELDS = ("initContainers", "containers", "ephemeralContainers")
# kind -> path from the object to its pod spec
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "PodTemplate": ("template", "spec"),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
MAX_WARNING = 256


class AdmissionError(ImagewatchError, ValueError):
    """admission: the AdmissionReview is malformed; the message says where."""


@dataclass(frozen=True)
class ContainerImage:
    """One container's image as written in the pod spec."""

    container: str
    field: str
    image: str


@dataclass(frozen=True)
class Review:
    """What an AdmissionReview asks about: its uid, object kind, namespace and images.

    ``platforms`` are the ``os/arch`` the pod could run on (node selector and
    required node affinity; the configured node platforms when the pod names
    none), or None when that cannot be told: then every platform of an image
    index is judged. ``platform`` is the first of them (or the default).
    """

    uid: str
    kind: str
    namespace: str
    operation: str
    name: str = ""
    images: tuple[ContainerImage, ...] = ()
    platform: str = "linux/amd64"
    platforms: tuple[str, ...] | None = ("linux/amd64",)


@dataclass
class ImageStatus:
    """What is known about one image: its resolved digest, scan state and finding counts.

    ``scanned`` is true once the matcher has stored the image's findings;
    ``note`` says why an image is not scanned (unknown tag, scan failed, ...).
    ``counts`` and ``fixable`` count findings by severity; ``malware`` counts
    malware findings (known-malicious packages, malicious or tampered files);
    ``partial`` is true when a stage could not read everything (the counts may be too low);
    ``not_covered`` names the OS release and ecosystems no advisory data covers (nothing was checked there).
    """

    image: ContainerImage
    reference: Reference | None = None
    platform: str = ""
    digest: str = ""
    scanned: bool = False
    note: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    fixable: dict[str, int] = field(default_factory=dict)
    malware: int = 0
    partial: bool = False
    not_covered: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        ref = str(self.reference) if self.reference else self.image.image[:200]
        short = f" ({self.digest[:19]}…)" if self.digest and self.digest not in ref else ""
        where = f" [{self.platform}]" if self.platform else ""
        return f"{self.image.container}={ref}{short}{where}"


@dataclass
class Decision:
    """The answer: allowed or not, the reason, and warnings for the user."""

    allowed: bool
    message: str = ""
    warnings: list[str] = field(default_factory=list)


def _at(obj: Any, path: tuple[str, ...], where: str) -> Any:
    for key in path:
        if obj is None:
            return None
        if not isinstance(obj, dict):
            raise AdmissionError(f"admission: {where}: expected an object")
        obj, where = obj.get(key), f"{where}.{key}"
    return obj


def _string(obj: dict, key: str, where: str, required: bool = False) -> str:
    value = obj.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise AdmissionError(f"admission: {where}.{key}: expected a non-empty string")
    return value


def container_images(spec: Any, where: str = "spec") -> list[ContainerImage]:
    """Every container image of a pod spec: init, regular and ephemeral containers."""
    if spec is None:
        return []
    if not isinstance(spec, dict):
        raise AdmissionError(f"admission: {where}: expected an object")
    out = []
    for name in CONTAINER_FIELDS:
        items = spec.get(name) or []
        if not isinstance(items, list):
            raise AdmissionError(f"admission: {where}.{name}: expected a list")
        for i, c in enumerate(items):
            if not isinstance(c, dict):
                raise AdmissionError(f"admission: {where}.{name}[{i}]: expected an object")
            out.append(ContainerImage(container=_string(c, "name", f"{where}.{name}[{i}]") or f"{name}[{i}]",
                                      field=name, image=_string(c, "image", f"{where}.{name}[{i}]", True)))
    return out


_OS_KEYS = ("kubernetes.io/os", "beta.kubernetes.io/os")
_ARCH_KEYS = ("kubernetes.io/arch", "beta.kubernetes.io/arch")
Unsure = None


def _selector_value(selector: Any, keys: tuple[str, ...]) -> set[str] | None:
    if not isinstance(selector, dict):
        return None
    found = {v for k in keys if isinstance(v := selector.get(k), str)}
    return found or None


def _term_values(term: Any, keys: tuple[str, ...]) -> tuple[str, set[str] | None]:
    """What one required node-affinity term says of ``keys``: ("in", values), ("open", None)
    when it does not mention them, or ("unsure", None) for operators without a bound (NotIn, Exists ...)."""
    allowed: set[str] | None = None
    exprs = term.get("matchExpressions") if isinstance(term, dict) else None
    for expr in exprs if isinstance(exprs, list) else []:
        if not isinstance(expr, dict) or expr.get("key") not in keys:
            continue
        values = expr.get("values")
        if expr.get("operator") != "In" or not isinstance(values, list):
            return "unsure", None
        named = {v for v in values if isinstance(v, str)}
        allowed = named if allowed is None else allowed & named
    return ("open", None) if allowed is None else ("in", allowed)


def _affinity_values(spec: dict, keys: tuple[str, ...]) -> tuple[str, set[str] | None]:
    """What the required node affinity allows for ``keys``: ("none", None) when it does not
    constrain them, ("in", values) when every term pins them, else ("unsure", None)."""
    required = _at(spec, ("affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"), "spec")
    terms = required.get("nodeSelectorTerms") if isinstance(required, dict) else None
    if not isinstance(terms, list) or not terms:
        return "none", None
    kinds = [_term_values(term, keys) for term in terms]  # terms are ORed
    if all(kind == "open" for kind, _ in kinds):
        return "none", None
    if any(kind != "in" for kind, _ in kinds):  # one open or unbounded term opens the whole
        return "unsure", None
    return "in", set().union(*(values for _, values in kinds))


def platforms_of(spec: Any, default: str, node_platforms: list[str] | tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """Every ``os/arch`` the pod could run on, or None (Unsure) when the pod does not say.

    ``nodeSelector`` and required ``nodeAffinity`` on ``kubernetes.io/os`` and
    ``kubernetes.io/arch`` (and their ``beta.`` forms) narrow the set; a pod that
    names neither runs on the cluster's ``node_platforms`` (default: ``default``).
    Node affinity on them that cannot be bounded (``NotIn``, ``Exists``, or one
    term pinning them while another leaves them open) makes the answer Unsure:
    every platform of an index is judged.
    """
    nodes = tuple(node_platforms) or (default,)
    if not isinstance(spec, dict):
        return nodes
    selector = spec.get("nodeSelector")
    sel_os, sel_arch = _selector_value(selector, _OS_KEYS), _selector_value(selector, _ARCH_KEYS)
    os_kind, aff_os = _affinity_values(spec, _OS_KEYS)
    arch_kind, aff_arch = _affinity_values(spec, _ARCH_KEYS)
    archs = sel_arch if sel_arch is not None else aff_arch
    oses = sel_os if sel_os is not None else aff_os
    if sel_arch is not None and aff_arch is not None:
        archs = sel_arch & aff_arch or sel_arch
    if sel_os is not None and aff_os is not None:
        oses = sel_os & aff_os or sel_os
    if (sel_arch is None and arch_kind == "unsure") or (sel_os is None and os_kind == "unsure"):
        return Unsure
    if archs is None and oses is None:
        return nodes
    if archs is None:  # the OS is pinned, the architecture is not: the cluster's nodes of that OS
        found = tuple(p for p in nodes if p.partition("/")[0] in oses)
        return found or Unsure
    os_names = sorted(oses) if oses is not None else sorted({p.partition("/")[0] for p in nodes})
    return tuple(f"{o}/{a}" for o in os_names for a in sorted(archs))


def platform_of(spec: Any, default: str) -> str:
    """The first platform the pod could run on (``default`` when unsure)."""
    found = platforms_of(spec, default)
    return found[0] if found else default


def parse_review(body: Any, default_platform: str = "linux/amd64",
                 node_platforms: list[str] | tuple[str, ...] = ()) -> Review:
    """Read an ``admission.k8s.io/v1`` AdmissionReview; raise AdmissionError when malformed.

    Kinds without a pod template give a Review without images.
    """
    if not isinstance(body, dict):
        raise AdmissionError("admission: body: expected an AdmissionReview object")
    if body.get("apiVersion") != API_VERSION or body.get("kind") != "AdmissionReview":
        raise AdmissionError(f"admission: expected apiVersion {API_VERSION} and kind AdmissionReview, "
                             f"got {body.get('apiVersion')!r} {body.get('kind')!r}")
    request = body.get("request")
    if not isinstance(request, dict):
        raise AdmissionError("admission: request: expected an object")
    uid = _string(request, "uid", "request", required=True)
    kind = _at(request, ("kind", "kind"), "request") or ""
    if not isinstance(kind, str):
        raise AdmissionError("admission: request.kind.kind: expected a string")
    obj = request.get("object")
    path = POD_SPEC_PATHS.get(kind)
    spec = _at(obj, path, "request.object") if path and obj is not None else None
    where = "request.object." + ".".join(path) if path else "request.object"
    metadata = obj.get("metadata") if isinstance(obj, dict) else None
    name = request.get("name") or (metadata or {}).get("name") or (metadata or {}).get("generateName") or ""
    return Review(
        uid=uid, kind=kind, namespace=_string(request, "namespace", "request"),
        operation=_string(request, "operation", "request"), name=str(name),
        images=tuple(container_images(spec, where)),
        platform=(platforms[0] if (platforms := platforms_of(spec, default_platform, node_platforms))
                  else default_platform),
        platforms=platforms,
    )


def review_uid(body: Any) -> str:
    """The request uid of a review that could not be read, when one can be found ("" otherwise)."""
    request = body.get("request") if isinstance(body, dict) else None
    uid = request.get("uid") if isinstance(request, dict) else None
    return uid if isinstance(uid, str) and len(uid) <= 256 else ""


def normalise_image(image: str) -> Reference:
    """``nginx`` -> ``docker.io/library/nginx:latest``; raises InvalidReference."""
    return Reference.parse(image)


def image_reference(image: str) -> Reference | None:
    """The normalised reference, or None when ``image`` is not a valid reference."""
    try:
        return normalise_image(image)
    except InvalidReference:
        return None


def namespace_exempt(policy: AdmissionConfig, namespace: str) -> bool:
    """True when ``namespace`` matches one of ``exempt_namespaces`` (globs)."""
    return any(fnmatchcase(namespace, glob) for glob in policy.exempt_namespaces)


def repository_exempt(policy: AdmissionConfig, reference: Reference | None) -> bool:
    """True when ``registry/repository`` matches one of ``exempt_repositories`` (globs)."""
    return reference is not None and any(fnmatchcase(reference.name, g) for g in policy.exempt_repositories)


def blocking_severities(threshold: str) -> list[str]:
    """Severities at or above ``threshold``, most severe first."""
    floor = SEVERITY_ORDER[threshold]
    return [s for s, rank in sorted(SEVERITY_ORDER.items(), key=lambda kv: -kv[1]) if rank >= floor]


def _counts_text(counts: dict[str, int], severities: list[str]) -> str:
    return ", ".join(f"{counts[s]} {s}" for s in severities if counts.get(s))


def decide(policy: AdmissionConfig, statuses: list[ImageStatus]) -> Decision:
    """Apply the policy to the looked-up images (exempt ones already left out)."""
    blocking = blocking_severities(policy.severity_threshold)
    below = [s for s in blocking_severities("unknown") if s not in blocking]
    which = "fixable findings" if policy.only_fixable else "findings"
    reasons, warnings = [], []
    for st in statuses:
        if not st.scanned:
            why = st.note or "never scanned"
            if policy.deny_unscanned:
                reasons.append(f"{st.label}: not scanned ({why})")
            else:
                warnings.append(f"imagewatch: {st.label} is not scanned ({why}); allowed")
            continue
        if policy.deny_malware and st.malware:
            reasons.append(f"{st.label}: {st.malware} malware finding(s)")
        if st.partial:
            if policy.deny_partial:
                reasons.append(f"{st.label}: scan partial (parts of the image could not be read)")
            else:
                warnings.append(f"imagewatch: {st.label}: scan partial (parts of the image could not be read)")
        if st.not_covered:
            what = f"not covered ({', '.join(st.not_covered)}: no advisory data)"
            if policy.deny_not_covered:
                reasons.append(f"{st.label}: {what}")
            else:
                warnings.append(f"imagewatch: {st.label}: {what}")
        counts = st.fixable if policy.only_fixable else st.counts
        bad = _counts_text(counts, blocking)
        if bad:
            reasons.append(f"{st.label}: {bad} {which} at or above {policy.severity_threshold}")
        minor = _counts_text(counts, below)
        if minor:
            warnings.append(f"imagewatch: {st.label} has {minor} {which}")
    if reasons:
        message = f"imagewatch denied {len(reasons)} of {len(statuses)} image(s): " + "; ".join(reasons)
        return Decision(False, message, warnings)
    return Decision(True, "", warnings)


def deny_review(uid: str, reason: str) -> dict[str, Any]:
    """The answer to a review imagewatch could not judge: denied, with ``reason`` (fail closed)."""
    return review_response(uid, Decision(False, f"imagewatch denied: {reason}"))


def review_response(uid: str, decision: Decision) -> dict[str, Any]:
    """The AdmissionReview answer for request ``uid``."""
    response: dict[str, Any] = {"uid": uid, "allowed": decision.allowed}
    if not decision.allowed:
        response["status"] = {"code": 403, "reason": "Forbidden", "message": decision.message}
    if decision.warnings:
        response["warnings"] = [w if len(w) <= MAX_WARNING else w[:MAX_WARNING - 1] + "…"
                                for w in decision.warnings]
    return {"apiVersion": API_VERSION, "kind": "AdmissionReview", "response": response}


def outcome_of(decision: Decision) -> str:
    """``denied``, ``warned`` (allowed with warnings) or ``allowed``: the metrics outcome of a decision."""
    if not decision.allowed:
        return "denied"
    return "warned" if decision.warnings else "allowed"


def reason_class(policy: AdmissionConfig, statuses: list[ImageStatus]) -> str:
    """The class of the reason behind ``decide``'s answer, from a closed set for metrics.

    ``findings`` (some image at or above the threshold), ``unscanned`` (an image
    not scanned, denied or warned), ``findings_below_threshold`` (warned only)
    or ``clean``; exempt reviews are classed ``exempt`` by the caller.
    """
    blocking = blocking_severities(policy.severity_threshold)
    over = below = unscanned = False
    for st in statuses:
        if not st.scanned:
            unscanned = True
            continue
        counts = st.fixable if policy.only_fixable else st.counts
        over = over or any(counts.get(s) for s in blocking)
        below = below or any(n for s, n in counts.items() if s not in blocking)
    if over:
        return "findings"
    if unscanned:
        return "unscanned"
    return "findings_below_threshold" if below else "clean"
