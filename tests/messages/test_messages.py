"""Messages: versioned, tolerant of unknown fields, JSON Schema exported and checked."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import msgspec

from imagewatch.messages import (SUBJECT_TYPES, Fetched, PushEvent, decoder_for, encode, json_schemas)
from imagewatch.models import LayerRef

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"


def test_exported_schemas_are_current():
    for subject, schema in json_schemas().items():
        path = SCHEMAS / f"{subject}.json"
        assert path.exists(), f"run `python -m imagewatch.cli.schemas` to export {path.name}"
        assert json.loads(path.read_text()) == json.loads(json.dumps(schema)), f"{path.name} is stale"


def test_messages_validate_against_their_schema():
    samples = {
        "iw.push": PushEvent(event_id="e1", source="distribution", registry="r:5000", repository="a/b",
                             digest="sha256:" + "a" * 64),
        "iw.fetched": Fetched(image_digest="sha256:" + "b" * 64, registry="r", repository="a/b",
                              layers=[LayerRef(digest="sha256:" + "c" * 64, diff_id="sha256:" + "d" * 64,
                                               size=10, media_type="application/vnd.oci.image.layer.v1.tar+gzip")]),
    }
    schemas = json_schemas()
    for subject, msg in samples.items():
        jsonschema.validate(json.loads(encode(msg)), schemas[subject])
        assert decoder_for(SUBJECT_TYPES[subject]).decode(encode(msg)) == msg


def test_unknown_fields_are_ignored_and_version_defaults():
    raw = b'{"event_id": "x", "source": "s", "registry": "r", "repository": "p", "future_field": [1, 2]}'
    msg = decoder_for(PushEvent).decode(raw)
    assert msg.v == 1 and msg.repository == "p"


def test_one_decoder_per_type():
    assert decoder_for(PushEvent) is decoder_for(PushEvent)
    assert isinstance(decoder_for(Fetched), msgspec.json.Decoder)
