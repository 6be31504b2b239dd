"""The OpenAPI 3.1 document of the whole api, built from one table of routes.

Every route ``build_app`` serves has a :class:`RouteDoc` in :data:`ROUTES`; a
test walks the aiohttp router and fails on any route missing here. Record
schemas (Finding, Package, SecretFinding, DeadLetter ...) come from the
msgspec Structs themselves, so they cannot drift from the code.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

import msgspec
from aiohttp import web

from imagewatch.matcher.remediation import Plan
from imagewatch.messages import PushEvent
from imagewatch.models import SEVERITY_ORDER, Finding, OSInfo, Package, SecretFinding

VERSION = "1"
JSON = "application/json"
_REF = "#/components/schemas/{name}"


@dataclass(frozen=True)
class Param:
    """A path or query parameter."""

    name: str
    description: str
    where: str = "query"
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})


@dataclass(frozen=True)
class RouteDoc:
    """One (method, path) of the api: what it does, its parameters, body and answers.

    ``responses`` maps a status to a description, or to (description, schema).
    ``auth`` marks routes that need the bearer token.
    """

    method: str
    path: str
    summary: str
    tag: str
    params: tuple[Param, ...] = ()
    body: dict[str, Any] | None = None
    responses: dict[str, str | tuple[str, dict[str, Any]]] = field(default_factory=dict)
    auth: bool = False
    content_type: str = JSON


def ref(name: str) -> dict[str, str]:
    """A reference to a component schema."""
    return {"$ref": _REF.format(name=name)}


def page_of(item: dict[str, Any]) -> dict[str, Any]:
    """A cursor page of ``item``."""
    return {"type": "object", "required": ["items", "next_cursor"], "properties": {
        "items": {"type": "array", "items": item},
        "next_cursor": {"type": ["string", "integer", "null"],
                        "description": "pass as ?cursor= for the next page; null on the last one"}}}


DIGEST = Param("digest", "platform image digest (sha256:...)", "path")
LIMIT = Param("limit", "page size, 1..500 (default 100)", schema={"type": "integer", "minimum": 1, "maximum": 500})
CURSOR = Param("cursor", "next_cursor of the previous page")
SEVERITY = Param("severity", "comma-separated severities: " + ", ".join(SEVERITY_ORDER))
OBJECT = {"type": "object"}
ERR_400 = ("bad request: the reason is in error", ref("Error"))
ERR_401 = ("missing or invalid bearer token", ref("Error"))
ERR_404 = ("not found", ref("Error"))

ROUTES: tuple[RouteDoc, ...] = (
    RouteDoc("GET", "/healthz", "Liveness", "operations", responses={"200": "the process is up"}),
    RouteDoc("GET", "/readyz", "Readiness: NATS and PostgreSQL reachable", "operations",
             responses={"200": "ready", "503": "a dependency is unreachable"}),
    RouteDoc("GET", "/metrics", "Prometheus metrics", "operations", content_type="text/plain",
             responses={"200": ("text exposition format", {"type": "string"})}),
    RouteDoc("GET", "/v1/openapi.json", "This document", "operations",
             responses={"200": ("the OpenAPI 3.1 document", OBJECT)}),
    RouteDoc("POST", "/v1/events/{source}", "Receive a registry push webhook", "events", auth=True,
             params=(Param("source", "distribution, harbor, quay, dockerhub or cloudevents", "path"),),
             body=OBJECT, responses={"200": "nothing to scan (pull, delete, blob events)",
                                     "202": "published for scanning", "400": ERR_400, "401": ERR_401,
                                     "404": ("unknown source", ref("Error")),
                                     "503": ("event bus unavailable; retry", ref("Error"))}),
    RouteDoc("POST", "/v1/scans", "Ask for a scan of a reference", "events", auth=True,
             body={"type": "object", "required": ["reference"],
                   "properties": {"reference": {"type": "string", "examples": ["registry:5000/team/app:1.0"]}}},
             responses={"202": "published for scanning", "400": ERR_400, "401": ERR_401,
                        "503": ("event bus unavailable; retry", ref("Error"))}),
    RouteDoc("GET", "/v1/images", "List images", "images",
             params=(Param("repository", "repository, with or without registry"), Param("tag", "tag"),
                     replace(SEVERITY, description="only images having findings of these severities"),
                     Param("fixable", "only images having findings with (true) or without (false) a fix",
                           schema={"type": "boolean"}),
                     Param("since", "only images first seen at or after this ISO 8601 time",
                           schema={"type": "string", "format": "date-time"}), LIMIT, CURSOR),
             responses={"200": ("a page of images in digest order", page_of(ref("ImageSummary"))),
                        "400": ERR_400}),
    RouteDoc("GET", "/v1/images/{digest}", "One image with tags, layers and stage status", "images",
             params=(DIGEST,), responses={"200": ("the image", ref("ImageDetail")), "404": ERR_404}),
    RouteDoc("GET", "/v1/images/{digest}/vulnerabilities", "An image's vulnerability findings", "findings",
             params=(DIGEST, replace(SEVERITY, description="only these severities"),
                     Param("fixable", "only findings with (true) or without (false) a fix",
                           schema={"type": "boolean"}),
                     Param("sort", "severity (default: most severe first) or priority (fix-first order,"
                           " docs/prioritisation.md)", schema={"type": "string", "enum": ["severity", "priority"]}),
                     Param("limit", "page size, 1..1000 (default 100)", schema={"type": "integer"}), CURSOR),
             responses={"200": ("the findings with counts per severity; each item carries kev, kev_ransomware,"
                                " epss, epss_percentile and priority {rank, tier, tier_name, reasons}", {
                 "type": "object", "properties": {
                     "image": {"type": "string"}, "counts": {"type": "object"}, "total": {"type": "integer"},
                     "items": {"type": "array", "items": OBJECT},
                     "next_cursor": {"type": ["string", "null"]}}}),
                        "400": ERR_400, "404": ERR_404}),
    RouteDoc("GET", "/v1/images/{digest}/remediation", "An image's remediation plan: the fewest upgrades that "
             "remove its fixable findings, layer attribution and advice", "findings",
             params=(DIGEST,),
             responses={"200": ("the plan (actions most effective first, each with a text line; top: the single"
                                " most effective action)", {**ref("Plan")}), "404": ERR_404}),
    RouteDoc("GET", "/v1/findings", "Which images have this vulnerability", "findings",
             params=(Param("cve", "a CVE id"), Param("id", "any advisory id or alias (GHSA, PYSEC, GO-...)"),
                     LIMIT, CURSOR),
             responses={"200": ("images having it, with their findings", {
                 "type": "object", "properties": {
                     "id": {"type": "string"}, "items": {"type": "array", "items": OBJECT},
                     "next_cursor": {"type": ["string", "null"]}}}),
                        "400": ERR_400}),
    RouteDoc("GET", "/v1/priorities", "The fleet's fix-first list: top vulnerabilities across current images",
             "findings",
             params=(Param("limit", "how many vulnerabilities, 1..1000 (default 50)", schema={"type": "integer"}),),
             responses={"200": ("one item per CVE (or advisory id), best-placed first, with image counts", {
                 "type": "object", "properties": {"items": {"type": "array", "items": {
                     "type": "object", "properties": {
                         "id": {"type": "string"}, "rank": {"type": "integer"},
                         "image_count": {"type": "integer"},
                         "images": {"type": "array", "items": {"type": "string"}},
                         "tags": {"type": "array", "items": {"type": "string"}},
                         "packages": {"type": "array", "items": {"type": "string"}},
                         "finding": OBJECT}}}}}),
                        "400": ERR_400}),
    RouteDoc("GET", "/v1/images/{digest}/packages", "An image's packages", "images",
             params=(DIGEST, Param("ecosystem", "OSV ecosystem"), Param("name", "package name"), LIMIT, CURSOR),
             responses={"200": ("a page of packages", page_of(ref("Package"))), "400": ERR_400,
                        "404": ERR_404}),
    RouteDoc("GET", "/v1/images/{digest}/sbom", "An image's SBOM", "images",
             params=(DIGEST, Param("format", "cyclonedx (1.5, default) or spdx (2.3)",
                                   schema={"type": "string", "enum": ["cyclonedx", "spdx"]})),
             responses={"200": ("the SBOM document", OBJECT), "400": ERR_400, "404": ERR_404}),
    RouteDoc("GET", "/v1/images/{digest}/secrets", "An image's secrets and misconfigurations (redacted)",
             "images",
             params=(DIGEST, Param("kind", "secret, misconfiguration or malware",
                                   schema={"type": "string", "enum": ["secret", "misconfiguration", "malware"]}),
                     replace(SEVERITY, description="only these severities")),
             responses={"200": ("most severe first; fingerprint and a preview of at most 4 characters, "
                                "never a value", {"type": "object", "properties": {
                                    "items": {"type": "array", "items": ref("SecretFinding")}}}),
                        "400": ERR_400, "404": ERR_404}),
    RouteDoc("GET", "/v1/images/{digest}/malware",
             "An image's malware: known-malicious packages and malicious or tampered files", "findings",
             params=(DIGEST, Param("source", "package (MAL- reports) or file (YARA rules, persistence and "
                                   "tampering checks)", schema={"type": "string", "enum": ["package", "file"]}),
                     replace(SEVERITY, description="only these severities")),
             responses={"200": ("most severe first; the rule or record, the file or package, the layer; "
                                "never file contents", {"type": "object", "properties": {
                                    "image": {"type": "string"}, "total": {"type": "integer"},
                                    "items": {"type": "array", "items": OBJECT}}}),
                        "400": ERR_400, "404": ERR_404}),
    RouteDoc("GET", "/v1/notifications", "The notifier's outbox", "notifications",
             params=(Param("state", "pending, sent or failed"), LIMIT, CURSOR),
             responses={"200": ("a page of notifications, newest first", page_of(OBJECT)), "400": ERR_400}),
    RouteDoc("GET", "/v1/dlq", "Dead-lettered messages with their errors", "operations", auth=True,
             params=(Param("stage", "only this stage's dead letters"), LIMIT,
                     Param("cursor", "next_cursor of the previous page", schema={"type": "integer"})),
             responses={"200": ("a page of dead letters, oldest first", page_of(ref("DeadLetterView"))),
                        "400": ERR_400, "401": ERR_401}),
    RouteDoc("POST", "/v1/dlq/{id}/retry", "Re-queue one dead letter", "operations", auth=True,
             params=(Param("id", "the dead letter's id (its stream sequence)", "path", {"type": "integer"}),),
             responses={"202": ("re-published under a new Nats-Msg-Id; the dead letter is deleted", OBJECT),
                        "401": ERR_401, "404": ERR_404,
                        "422": ("the dead letter cannot be re-published", ref("Error"))}),
    RouteDoc("POST", "/v1/admission", "Kubernetes validating admission webhook (admission token)", "admission",
             body=ref("AdmissionReview"), auth=True,
             responses={"200": ("the AdmissionReview with response.allowed, status and warnings; a review "
                                "that cannot be read or judged is answered allowed: false",
                                ref("AdmissionReview")),
                        "401": ERR_401}),
    RouteDoc("GET", "/harbor/api/v1/metadata", "Harbor scanner adapter: scanner metadata and capabilities",
             "harbor", auth=True, content_type="application/vnd.scanner.adapter.metadata+json; version=1.1",
             responses={"200": ("scanner, capabilities, properties", OBJECT), "401": ERR_401}),
    RouteDoc("POST", "/harbor/api/v1/scan", "Harbor scanner adapter: accept a scan request", "harbor",
             auth=True, content_type="application/vnd.scanner.adapter.scan.response+json; version=1.0",
             body={"type": "object", "required": ["registry", "artifact"], "properties": {
                 "registry": {"type": "object", "required": ["url"], "properties": {
                     "url": {"type": "string"}, "authorization": {"type": "string"}}},
                 "artifact": {"type": "object", "required": ["repository", "digest"], "properties": {
                     "repository": {"type": "string"}, "digest": {"type": "string"},
                     "tag": {"type": "string"}, "mime_type": {"type": "string"}}},
                 "enabled_capabilities": {"type": "array", "items": OBJECT}}},
             responses={"202": ("the scan id", {"type": "object", "required": ["id"],
                                                "properties": {"id": {"type": "string"}}}),
                        "400": "malformed JSON", "401": ERR_401, "422": "a field is invalid (named)",
                        "500": "the scan could not be queued"}),
    RouteDoc("GET", "/harbor/api/v1/scan/{scan_request_id}/report", "Harbor scanner adapter: the scan report",
             "harbor", auth=True,
             content_type="application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0",
             params=(Param("scan_request_id", "the id POST /scan answered", "path"),
                     Param("sbom_media_type", "application/spdx+json or application/vnd.cyclonedx+json "
                                              "(with Accept: application/vnd.security.sbom.report+json; version=1.0)")),
             responses={"200": ("the vulnerability (or SBOM) report", OBJECT),
                        "302": "still running: retry after the Refresh-After header's seconds",
                        "400": "sbom_media_type missing or unknown", "401": ERR_401,
                        "404": "unknown scan request id", "500": "the scan failed (the reason is in error.message)",
                        "501": "no report of the Accept type"}),
    *(RouteDoc("GET", path, summary, "dashboard", content_type="text/html", params=params,
               responses={"200": "the HTML page", "303": "to /login when a session is needed",
                          "404": "not found (HTML page)"})
      for path, summary, params in (
          ("/", "Dashboard: the fleet (filters repo, severity, fixable, secrets, sort, dir, page, days)", ()),
          ("/images/{digest}", "Dashboard: one image", (DIGEST,)),
          ("/vulnerabilities/{id}", "Dashboard: one vulnerability and the images having it",
           (Param("id", "CVE, GHSA or any advisory id", "path"),)),
          ("/pipeline", "Dashboard: stages, dead letters, failed notifications, advisory sources", ()),
          ("/search", "Dashboard search box: redirects to a vulnerability, an image or the filtered fleet",
           (Param("q", "a vulnerability id, an image digest or a repository glob"),)),
          ("/login", "Dashboard login form", ()),
          ("/static/{name}", "Dashboard style sheet", (Param("name", "file name", "path"),)),
      )),
    RouteDoc("GET", "/images/{digest}/{file}", "Dashboard downloads: sbom.cdx.json, sbom.spdx.json, report.json",
             "dashboard", content_type="application/json",
             params=(DIGEST, Param("file", "sbom.cdx.json, sbom.spdx.json or report.json", "path")),
             responses={"200": ("the document, as an attachment", OBJECT), "404": "not found (HTML page)"}),
    *(RouteDoc("POST", path, summary, "dashboard", content_type="text/html", params=params,
               body={"type": "object", "description": "application/x-www-form-urlencoded form with csrf"},
               responses={"303": "done: redirect", "401": "no session", "403": "CSRF token or write token missing"})
      for path, summary, params in (
          ("/login", "Dashboard login: a read or write token opens a session cookie", ()),
          ("/logout", "Dashboard logout", ()),
          ("/pipeline/dead-letters/{id}/retry", "Dashboard: re-queue one dead letter (write token and CSRF token)",
           (Param("id", "the dead letter's id", "path", {"type": "integer"}),)),
      )),
)


def _components() -> dict[str, Any]:
    _, structs = msgspec.json.schema_components((Finding, Package, SecretFinding, OSInfo, PushEvent, Plan),
                                                ref_template=_REF)
    loose = {"type": "object", "additionalProperties": True}
    return {**structs,
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
            "ImageSummary": {**loose, "properties": {
                "digest": {"type": "string"}, "media_type": {"type": "string"}, "platform": {"type": "string"},
                "index_digest": {"type": ["string", "null"]},
                "repositories": {"type": "array", "items": {"type": "string"}},
                "tags": {"type": "array", "items": {"type": "string"}},
                "first_seen": {"type": "string", "format": "date-time"},
                "last_seen": {"type": "string", "format": "date-time"}}},
            "ImageDetail": {**loose, "properties": {
                "digest": {"type": "string"}, "os": {"anyOf": [ref("OSInfo"), {"type": "null"}]},
                "layers": {"type": "array", "items": loose}, "tags": {"type": "array", "items": loose},
                "stages": loose,
                "scan_status": {"enum": ["failed", "running", "pending", "partial", "complete"],
                                "description": "partial: a stage could not read everything (see problems)"},
                "problems": {"type": "array", "items": {"type": "string"},
                             "description": "what the scan could not read, as 'stage: detail'"},
                "coverage": {"anyOf": [loose, {"type": "null"}],
                             "description": "entries: per OS release/ecosystem the records, sources, last_sync"
                                            " and covered it was matched against (null before the first match)"},
                "warnings": {"type": "array", "items": {"type": "string"},
                             "description": "what was not covered (no advisory data): not checked, not clean"}}},
            "DeadLetterView": {"type": "object", "properties": {
                "id": {"type": "integer"}, "stage": {"type": "string"}, "subject": {"type": "string"},
                "error": {"type": "string"}, "deliveries": {"type": "integer"},
                "failed_at": {"type": ["string", "null"], "format": "date-time"}, "msg_id": {"type": "string"},
                "message": {"type": ["object", "null"], "description": "the original message, decoded"},
                "size": {"type": "integer", "description": "bytes of the original message"}}},
            "AdmissionReview": {**loose, "required": ["apiVersion", "kind"], "properties": {
                "apiVersion": {"const": "admission.k8s.io/v1"}, "kind": {"const": "AdmissionReview"},
                "request": loose, "response": {**loose, "properties": {
                    "uid": {"type": "string"}, "allowed": {"type": "boolean"},
                    "status": {"type": "object", "properties": {"code": {"type": "integer"},
                                                                 "message": {"type": "string"}}},
                    "warnings": {"type": "array", "items": {"type": "string"}}}}}}}


def _operation(doc: RouteDoc) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": doc.summary, "tags": [doc.tag],
                          "operationId": f"{doc.method.lower()}_{doc.path.strip('/').replace('/', '_')}"
                          .replace("{", "").replace("}", "").replace(".", "_")}
    if doc.params:
        op["parameters"] = [{"name": p.name, "in": p.where, "required": p.where == "path",
                             "description": p.description, "schema": p.schema} for p in doc.params]
    if doc.body is not None:
        op["requestBody"] = {"required": True, "content": {JSON: {"schema": doc.body}}}
    responses = {}
    for status, answer in doc.responses.items():
        description, schema = answer if isinstance(answer, tuple) else (answer, None)
        item: dict[str, Any] = {"description": description}
        if schema is not None:
            item["content"] = {doc.content_type if status.startswith("2") else JSON: {"schema": schema}}
        responses[status] = item
    op["responses"] = responses
    if doc.auth:
        op["security"] = [{"bearer": []}]
    return op


@cache
def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (built once)."""
    paths: dict[str, dict[str, Any]] = {}
    for doc in ROUTES:
        paths.setdefault(doc.path, {})[doc.method.lower()] = _operation(doc)
    return {
        "openapi": "3.1.0",
        "info": {"title": "imagewatch api", "version": VERSION,
                 "description": "Registry webhooks in; images, findings, dead letters and admission out. "
                                "Writes need the webhook (admin) token, POST /v1/admission the admission "
                                "token, reads the read token when the api listens beyond loopback "
                                "(docs/security.md)."},
        "paths": paths,
        "components": {"schemas": _components(),
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


def documented() -> set[tuple[str, str]]:
    """Every (METHOD, path) in the table."""
    return {(d.method, d.path) for d in ROUTES}


def served(app: web.Application) -> set[tuple[str, str]]:
    """Every (METHOD, path) the app's router serves, without the automatic HEAD routes."""
    return {(route.method, route.resource.canonical) for route in app.router.routes()
            if route.resource is not None and route.method not in ("HEAD", "OPTIONS", "*")}


async def serve_openapi(_: web.Request) -> web.Response:
    """``GET /v1/openapi.json``."""
    return web.json_response(document())
