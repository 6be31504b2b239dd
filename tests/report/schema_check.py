"""The official JSON schemas under schemas/, as ready validators (see schemas/README.md)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from jsonschema import Draft4Validator, Draft7Validator, Draft201909Validator, FormatChecker
from referencing import Registry, Resource

SCHEMAS = Path(__file__).resolve().parent / "schemas"


def _load(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def sarif_validator() -> Draft4Validator:
    """SARIF 2.1.0 (draft-04)."""
    schema = _load("sarif-2.1.0-rtm.5.json")
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema, format_checker=FormatChecker())


@lru_cache(maxsize=1)
def cyclonedx_validator() -> Draft7Validator:
    """CycloneDX 1.5 (draft-07) with the SPDX license and JSF schemas it references."""
    schema = _load("bom-1.5.SNAPSHOT.schema.json")
    base = "http://cyclonedx.org/schema/"
    registry = Registry().with_resources([
        (base + "spdx.SNAPSHOT.schema.json", Resource.from_contents(_load("spdx.SNAPSHOT.schema.json"))),
        (base + "jsf-0.82.SNAPSHOT.schema.json", Resource.from_contents(_load("jsf-0.82.SNAPSHOT.schema.json"))),
    ])
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema, registry=registry, format_checker=FormatChecker())


@lru_cache(maxsize=1)
def spdx_validator() -> Draft201909Validator:
    """SPDX 2.3 (draft 2019-09)."""
    schema = _load("spdx-schema-2.3.json")
    Draft201909Validator.check_schema(schema)
    return Draft201909Validator(schema, format_checker=FormatChecker())


def errors(validator, doc: dict) -> list[str]:
    """Every schema error as ``path: message`` (empty when valid)."""
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.path)))]
