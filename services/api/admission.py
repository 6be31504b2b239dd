"""``POST /v1/admission``: the Kubernetes validating webhook.

AdmissionReview v1 in, AdmissionReview v1 out, always HTTP 200 once the
caller is authenticated: a review that cannot be read or judged (malformed,
over ``admission.max_review_bytes``, a database error) is answered
``allowed: false`` with a reason, so the API server never falls back on its
``failurePolicy`` because of something a pod spec contains.

Authentication: ``Authorization: Bearer <admission token>`` (the token the
API server's webhook kubeconfig sends; ``admission.token`` /
``IMAGEWATCH_ADMISSION_TOKEN``, else generated in the data directory), and,
when configured, TLS with client certificates (``api.tls_*``). Without the
token the answer is 401.

Each image is judged for every platform the pod could run on
(:func:`~imagewatch.admission.policy.platforms_of`; every platform of an index
when that cannot be told). A tag is resolved at its registry
(``admission.tag_source = "registry"``, the default), never from the
database alone: the database's tag may have been bound by anyone who can ask
for a scan. Lookups go through the egress policy (loopback, private, metadata
addresses refused unless the registry is configured), at most
``admission.max_lookups`` per review, each within ``resolve_timeout``; any
failure is one generic reason ("unknown tag; registry unreachable") so
that the webhook cannot be used to probe hosts and ports. The policy itself
is :mod:`imagewatch.admission.policy`.
"""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from imagewatch.admission.policy import (
    AdmissionError,
    ContainerImage,
    Decision,
    ImageStatus,
    Review,
    decide,
    deny_review,
    image_reference,
    namespace_exempt,
    outcome_of,
    parse_review,
    reason_class,
    repository_exempt,
    review_response,
    review_uid,
)
from imagewatch.config import Config
from imagewatch.fetcher.fetch import credential_hosts, egress_policy, session_for
from imagewatch.oci import NotFound, Reference, RegistryClient, RegistryLimits
from imagewatch.oci.platforms import AmbiguousPlatform
from imagewatch.runtime.logs import get_logger
from imagewatch.store import images as store
from imagewatch.store import findings as findings_store
from imagewatch.store import workloads

from imagewatch_services.api.auth import check_bearer
from imagewatch_services.api.keys import CTX

log = get_logger("api")
LOOKUP_FAILED = "registry unreachable"  # one reason for every failure: no port scanner
NOT_FOUND = "not found at the registry"
AMBIGUOUS = "its index lists two manifests for one platform"
TOO_MANY = "too many images to look up in one review"
ADMISSION_TOKEN = web.AppKey("admission_token", str)


async def _registry_platforms(config: Config, ref: Reference,
                              platforms: tuple[str, ...] | None) -> tuple[list[tuple[str, str]], str]:
    """([(platform, digest)], "") from the registry, or ([], generic reason)."""
    timeout = config.admission.resolve_timeout
    limits = RegistryLimits(retries=0, connect_timeout=timeout, read_timeout=timeout)
    table = {c.host: (c.username, c.password) for c in config.fetcher.credentials}
    policy = egress_policy(config.fetcher, credential_hosts(config.fetcher, use_docker_config=False))
    try:
        async with session_for(policy) as session:
            client = RegistryClient(session, config.fetcher.insecure_registries, table.get, limits, egress=policy)
            selection = "all" if platforms is None else list(platforms)
            chosen = await asyncio.wait_for(client.resolve_platforms(ref, selection), timeout)
    except NotFound:
        return [], NOT_FOUND
    except AmbiguousPlatform:
        return [], AMBIGUOUS
    except Exception as exc:  # noqa: BLE001 - any failure leaves the image unresolved, one reason for all
        log.warning("admission registry lookup failed", reference=str(ref)[:300], error=type(exc).__name__)
        return [], LOOKUP_FAILED
    return [(c.platform or (platforms[0] if platforms else ""), c.digest) for c in chosen], ""


def _expand(statuses: list[ImageStatus], st: ImageStatus, found: list[tuple[str, str]], why: str) -> None:
    if not found:
        st.note = why
        statuses.append(st)
        return
    for platform, digest in found:
        statuses.append(ImageStatus(image=st.image, reference=st.reference, platform=platform, digest=digest))


async def resolve(request: web.Request, review: Review, images: list[ContainerImage]) -> list[ImageStatus]:
    """Look up each image for each platform: digest, scan state and finding counts."""
    ctx = request.app[CTX]
    policy = ctx.config.admission
    platforms = review.platforms
    statuses: list[ImageStatus] = []
    lookups: list[ImageStatus] = []
    async with ctx.pool.acquire() as conn:
        for c in images:
            ref = image_reference(c.image)
            st = ImageStatus(image=c, reference=ref)
            if ref is None:
                st.note = "invalid image reference"
                statuses.append(st)
            elif ref.digest:
                if await store.image_exists(conn, ref.digest):
                    st.digest = ref.digest
                    statuses.append(st)
                elif platforms is not None:
                    found = [(p, await store.resolve_digest(conn, ref.digest, p) or "") for p in platforms]
                    if all(d for _, d in found):
                        _expand(statuses, st, found, "")
                    else:
                        lookups.append(st)
                else:
                    lookups.append(st)
            elif policy.tag_source == "database" and platforms is not None:
                found = [(p, await store.resolve_tag(conn, ref.registry, ref.repository, ref.tag, p) or "")
                         for p in platforms]
                if all(d for _, d in found):
                    _expand(statuses, st, found, "")
                else:
                    lookups.append(st)
            else:
                lookups.append(st)
    allowed, refused = lookups[:policy.max_lookups], lookups[policy.max_lookups:]
    for st in refused:
        st.note = TOO_MANY
        statuses.append(st)
    found = await asyncio.gather(*(_registry_platforms(ctx.config, st.reference, platforms) for st in allowed))
    for st, (pairs, why) in zip(allowed, found):
        if why == LOOKUP_FAILED:
            why = f"unknown {'digest' if st.reference.digest else 'tag'}; {why}"
        _expand(statuses, st, pairs, why)
    async with ctx.pool.acquire() as conn:
        for st in statuses:
            if st.digest and st.platform:
                st.digest = await store.resolve_digest(conn, st.digest, st.platform) or st.digest
        summary = await store.scan_summary(conn, [st.digest for st in statuses if st.digest])
        malware = {d: await findings_store.malware_count(conn, d) for d in summary}
        await workloads.record_admission_seen(conn, list(summary), review.namespace)  # in use: a priority signal
    for st in statuses:
        known = summary.get(st.digest) if st.digest else None
        if known is None:
            st.note = st.note or "never scanned"
        elif known["matcher"] != "done":
            reason = f": {known['reason']}" if known.get("reason") else ""
            st.note = f"scan {'failed' if known['matcher'] == 'failed' else 'not finished'}{reason}"
        else:
            st.scanned, st.counts, st.fixable = True, known["counts"], known["fixable"]
            st.malware = malware.get(st.digest, 0)
            st.partial = bool(known.get("problems"))
            st.not_covered = list(known.get("not_covered") or [])
    return statuses


async def evaluate(request: web.Request, review: Review) -> tuple[Decision, str]:
    """The decision for one review under the configured policy, and its reason class (for metrics)."""
    policy = request.app[CTX].config.admission
    if not review.images or namespace_exempt(policy, review.namespace):
        return Decision(True), "exempt"
    unique = list({c.image: c for c in review.images}.values())
    checked = [c for c in unique if not repository_exempt(policy, image_reference(c.image))]
    if not checked:
        return Decision(True), "exempt"
    statuses = await resolve(request, review, checked)
    return decide(policy, statuses), reason_class(policy, statuses)


async def read_body(request: web.Request, limit: int) -> bytes | None:
    """The whole request body, or None when it exceeds ``limit`` bytes (read no further)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    body = bytearray()
    async for chunk in request.content.iter_any():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


async def admission_review(request: web.Request) -> web.Response:
    """``POST /v1/admission``: allowed or denied, with the reason and warnings (401 without the token)."""
    check_bearer(request, request.app[ADMISSION_TOKEN])
    config = request.app[CTX].config.admission
    limit = config.max_review_bytes
    body = await read_body(request, limit)
    if body is None:
        return web.json_response(deny_review("", f"the AdmissionReview exceeds {limit} bytes"))
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return web.json_response(deny_review("", "admission: malformed JSON"))
    uid = review_uid(data)
    try:
        review = parse_review(data, config.default_platform, config.node_platforms)
        decision, reason = await evaluate(request, review)
    except AdmissionError as exc:
        return web.json_response(deny_review(uid, str(exc)[:500]))
    except Exception as exc:  # noqa: BLE001 - whatever fails, the pod is not admitted unjudged
        log.error("admission failed", uid=uid[:64], error=type(exc).__name__)
        return web.json_response(deny_review(uid, "imagewatch could not judge the images (internal error)"))
    request.app[CTX].metrics.admission.labels(outcome_of(decision), reason).inc()
    log.info("admission", uid=review.uid, kind=review.kind, namespace=review.namespace,
             allowed=decision.allowed, images=len(review.images))
    return web.json_response(review_response(review.uid, decision))
