"""Query-string helpers shared by list endpoints: limit, cursor page, typed filters.

Every list answers ``{"items": [...], "next_cursor": ...}``; ``next_cursor``
is null on the last page and is passed back as ``?cursor=`` for the next one.
A bad parameter is a 400 naming it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from imagewatch.models import SEVERITY_ORDER

MAX_LIMIT = 500


def bad_request(reason: str) -> web.HTTPBadRequest:
    """A 400 with ``{"error": reason}``."""
    return web.HTTPBadRequest(text=json.dumps({"error": reason}), content_type="application/json")


def limit_param(request: web.Request, default: int = 100, maximum: int = MAX_LIMIT) -> int:
    """``?limit=`` clamped to 1..maximum."""
    try:
        return max(1, min(maximum, int(request.query.get("limit", str(default)))))
    except ValueError:
        raise bad_request("limit: expected an integer") from None


def bool_param(request: web.Request, name: str) -> bool | None:
    """``?name=true|false`` (also 1/0, yes/no); None when absent."""
    value = request.query.get(name, "").strip().lower()
    if not value:
        return None
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise bad_request(f"{name}: expected true or false")


def time_param(request: web.Request, name: str) -> datetime | None:
    """``?name=`` as an ISO 8601 time (``Z`` allowed; without an offset it is UTC)."""
    value = request.query.get(name, "").strip()
    if not value:
        return None
    value = value.replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:  # an unescaped "+" in the query string arrives as a space
            parsed = datetime.fromisoformat(value[::-1].replace(" ", "+", 1)[::-1])
        except ValueError:
            raise bad_request(f"{name}: expected an ISO 8601 time like 2024-05-01T00:00:00Z") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def list_param(request: web.Request, name: str, allowed: Iterable[str] | None = None) -> list[str] | None:
    """``?name=a,b&name=c`` as a list; None when absent; values outside ``allowed`` are a 400."""
    values = [v.strip().lower() for raw in request.query.getall(name, []) for v in raw.split(",") if v.strip()]
    if not values:
        return None
    if allowed is not None:
        allowed = list(allowed)
        wrong = [v for v in values if v not in allowed]
        if wrong:
            raise bad_request(f"{name}: {', '.join(wrong)} not one of {', '.join(allowed)}")
    return values


def severity_param(request: web.Request, name: str = "severity") -> list[str] | None:
    """``?severity=critical,high`` validated against the known severities."""
    return list_param(request, name, SEVERITY_ORDER)


def page(items: list[Any], limit: int, cursor_of: Callable[[Any], Any]) -> dict[str, Any]:
    """The page body; a full page gets ``next_cursor`` (the cursor of its last item)."""
    return {"items": items, "next_cursor": cursor_of(items[-1]) if len(items) == limit else None}
