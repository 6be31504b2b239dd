"""``POST /v1/admission``: the Kubernetes validating webhook.

AdmissionReview v1 in, AdmissionReview v1 out. Each image is resolved to a
platform digest from the database (a digest as given, an index's child for
the pod's platform, or the tag's current image); a tag the database does not
know is asked of its registry anonymously (``fetcher.insecure_registries``
apply) within ``admission.resolve_timeout``. The policy itself is
:mod:`imagewatch.admission.policy`.

No bearer token: the Kubernetes API server calls this over TLS, which the
deployment terminates (see ``deploy/k8s/``).
"""

from __future__ import annotations

import asyncio
import json

import aiohttp
from aiohttp import web

from imagewatch.admission.policy import (
    AdmissionError,
    ContainerImage,
    Decision,
    ImageStatus,
    Review,
    decide,
    image_reference,
    namespace_exempt,
    parse_review,
    repository_exempt,
    review_response,
)
from imagewatch.config import Config
from imagewatch.runtime.logs import get_logger
from imagewatch.oci import (
    Forbidden,
    NotFound,
    Reference,
    RegistryClient,
    RegistryLimits,
    RegistryUnavailable,
    Unauthorized,
)
from imagewatch.store import images as store
from imagewatch.store import workloads

from imagewatch_services.api.keys import CTX, MAX_BODY

log = get_logger("api")
_REGISTRY_FAILURES = {
    NotFound: "not found at the registry",
    Unauthorized: "unknown tag; the registry refused an anonymous lookup",
    Forbidden: "unknown tag; the registry refused an anonymous lookup",
    RegistryUnavailable: "unknown tag; registry unreachable",
}


async def _registry_digest(config: Config, ref: Reference, platform: str) -> tuple[str, str]:
    """(platform digest, "") from the registry, or ("", why not)."""
    timeout = config.admission.resolve_timeout
    limits = RegistryLimits(retries=0, connect_timeout=timeout, read_timeout=timeout)
    try:
        async with aiohttp.ClientSession() as session:
            client = RegistryClient(session, config.fetcher.insecure_registries, limits=limits)
            chosen = await asyncio.wait_for(client.resolve_platforms(ref, [platform]), timeout)
    except asyncio.TimeoutError:
        return "", f"unknown tag; registry lookup timed out after {timeout:g}s"
    except Exception as exc:  # noqa: BLE001 - any failure leaves the image unresolved
        log.warning("admission registry lookup failed", reference=str(ref), error=str(exc)[:500])
        return "", _REGISTRY_FAILURES.get(type(exc), f"unknown tag; registry lookup failed ({type(exc).__name__})")
    return chosen[0].digest, ""


async def _digest_from_db(conn, ref: Reference, platform: str) -> str | None:
    if ref.digest:
        return await store.resolve_digest(conn, ref.digest, platform)
    return await store.resolve_tag(conn, ref.registry, ref.repository, ref.tag, platform)


async def resolve(request: web.Request, review: Review, images: list[ContainerImage]) -> list[ImageStatus]:
    """Look up each image: digest, scan state and finding counts."""
    ctx = request.app[CTX]
    statuses = [ImageStatus(image=c, reference=image_reference(c.image)) for c in images]
    async with ctx.pool.acquire() as conn:
        for st in statuses:
            if st.reference is None:
                st.note = "invalid image reference"
                continue
            st.digest = await _digest_from_db(conn, st.reference, review.platform) or ""
    unknown = [st for st in statuses if st.reference is not None and not st.digest]
    found = await asyncio.gather(*(_registry_digest(ctx.config, st.reference, review.platform) for st in unknown))
    for st, (digest, why) in zip(unknown, found):
        st.digest, st.note = digest, why
    async with ctx.pool.acquire() as conn:
        for st in unknown:
            if st.digest:
                st.digest = await store.resolve_digest(conn, st.digest, review.platform) or st.digest
        summary = await store.scan_summary(conn, [st.digest for st in statuses if st.digest])
        await workloads.record_admission_seen(conn, list(summary), review.namespace)  # in use: a priority signal
    for st in statuses:
        known = summary.get(st.digest)
        if known is None:
            st.note = st.note or "never scanned"
        elif known["matcher"] != "done":
            reason = f": {known['reason']}" if known.get("reason") else ""
            st.note = f"scan {'failed' if known['matcher'] == 'failed' else 'not finished'}{reason}"
        else:
            st.scanned, st.counts, st.fixable = True, known["counts"], known["fixable"]
    return statuses


async def evaluate(request: web.Request, review: Review) -> Decision:
    """The decision for one review under the configured policy."""
    policy = request.app[CTX].config.admission
    if not review.images or namespace_exempt(policy, review.namespace):
        return Decision(True)
    unique = list({c.image: c for c in review.images}.values())
    checked = [c for c in unique if not repository_exempt(policy, image_reference(c.image))]
    if not checked:
        return Decision(True)
    return decide(policy, await resolve(request, review, checked))


async def admission_review(request: web.Request) -> web.Response:
    """``POST /v1/admission``: allowed or denied, with the reason and warnings."""
    limit = request.app[MAX_BODY]
    body = await request.content.read(limit + 1)
    if len(body) > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=len(body))
    try:
        review = parse_review(json.loads(body), request.app[CTX].config.admission.default_platform)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return web.json_response({"error": f"admission: malformed JSON: {exc}"}, status=400)
    except AdmissionError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    decision = await evaluate(request, review)
    log.info("admission", uid=review.uid, kind=review.kind, namespace=review.namespace,
             allowed=decision.allowed, images=len(review.images))
    return web.json_response(review_response(review.uid, decision))
