"""Remove from an image config every value a secret finding points at, so it can be stored and shown.

``check_config`` scans Env, Cmd and Entrypoint items joined by newlines,
Labels as ``key=value`` lines and each history ``created_by``; a finding's
``line`` therefore names the item (or the line of a history command) holding
the secret. That whole value is replaced by ``REDACTED`` wherever it occurs in
the config (Docker configs repeat Env and Cmd under ``container_config``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

from imagewatch.models import SecretFinding
from imagewatch.secrets.misconfig import check_config
from imagewatch.secrets.misconfig.check import env_pairs, runtime_config

REDACTED = "<redacted by imagewatch>"
# Shorter values are only replaced where a whole string (or Env value) equals them.
MIN_SUBSTRING = 8
_INDEXED = re.compile(r"^config:(?P<field>Env|history)\[(?P<key>.+)\]$")


def _item_at_line(items: Sequence[str], line: int) -> str | None:
    """The item of ``"\\n".join(items)`` that holds 1-based ``line``."""
    first = 1
    for item in items:
        last = first + item.count("\n")
        if first <= line <= last:
            return item
        first = last + 1
    return None


def _sensitive(config: Mapping[str, Any], f: SecretFinding) -> tuple[list[str], list[str]]:
    """(Env names whose values go, other literal values that go) for one finding."""
    rc = runtime_config(config)
    m = _INDEXED.match(f.path)
    if m and m["field"] == "Env":
        return [m["key"]], []
    if m and m["field"] == "history":
        history = config.get("history") or []
        idx = int(m["key"]) if m["key"].isdigit() else -1
        if not 0 <= idx < len(history):
            return [], []
        lines = str(history[idx].get("created_by") or "").split("\n")
        return [], [lines[f.line - 1]] if 0 < f.line <= len(lines) else []
    field = f.path.removeprefix("config:")
    if field == "Labels":
        labels = [f"{k}={v}" for k, v in (rc.get("Labels") or {}).items()]
        item = _item_at_line(labels, f.line)
        return [], [item.partition("=")[2]] if item else []
    if field in ("Env", "Cmd", "Entrypoint"):
        item = _item_at_line([str(v) for v in rc.get(field) or []], f.line)
        if item is None:
            return [], []
        if field == "Env":
            return [item.partition("=")[0]], []
        return [], [item]
    return [], []


def _replace(node: Any, names: set[str], values: list[str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "Env" and isinstance(v, list):
                out[k] = [_env_item(str(item), names, values) for item in v]
            else:
                out[k] = _replace(v, names, values)
        return out
    if isinstance(node, list):
        return [_replace(v, names, values) for v in node]
    if isinstance(node, str):
        return _string(node, values)
    return node


def _env_item(item: str, names: set[str], values: list[str]) -> str:
    name, sep, value = item.partition("=")
    if sep and name in names and value:
        return f"{name}={REDACTED}"
    return _string(item, values)


def _string(text: str, values: list[str]) -> str:
    for value in values:
        if text == value:
            return REDACTED
        if len(value) >= MIN_SUBSTRING and value in text:
            text = text.replace(value, REDACTED)
    return text


def redact_config(config: Mapping[str, Any], findings: Sequence[SecretFinding]) -> dict[str, Any]:
    """A copy of ``config`` without the values behind config findings that carry a fingerprint."""
    names: set[str] = set()
    values: set[str] = set()
    for f in findings:
        if f.path.startswith("config:") and f.fingerprint:
            n, v = _sensitive(config, f)
            names.update(n)
            values.update(x for x in v if x)
    if not names and not values:
        return copy.deepcopy(dict(config))
    for name, value in env_pairs(config):
        if name in names and len(value) >= MIN_SUBSTRING:
            values.add(value)  # the same value may be repeated in history (ENV, ARG)
    return _replace(dict(config), names, sorted(values, key=len, reverse=True))


def is_redacted(config: Any) -> bool:
    """Whether a stored config has been through ``redact_config`` with something to remove."""
    if isinstance(config, dict):
        return any(is_redacted(v) for v in config.values())
    if isinstance(config, list):
        return any(is_redacted(v) for v in config)
    return isinstance(config, str) and REDACTED in config


def redacted_config(config: Mapping[str, Any], scanner) -> dict[str, Any]:
    """``config`` without the values the config checks find: what the fetcher stores."""
    return redact_config(config, check_config(config, scanner))
