"""Every channel kind rendered through the service, a 500-finding result that must fit, no URL leaks."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from imagewatch.notify.signing import verify

from .conftest import SIGNING_KEY, TOKEN, announce, channel, leaked, misconfig, store_image, vuln, wait_rows

KINDS = ["slack", "teams", "mattermost", "discord", "googlechat", "webhook"]
SCHEMAS = Path(__file__).resolve().parents[2] / "notify" / "data"
SEVERITIES = ["critical"] * 20 + ["high"] * 80 + ["medium"] * 200 + ["low"] * 200
BYTE_LIMITS = {"teams": 28_000, "googlechat": 32_000, "webhook": 1_000_000}


async def test_every_kind_receives_one_valid_message_for_500_findings(notifier_config, stack, receiver, bus,
                                                                      pool, pg_dsn, capfd):
    notifier_config.notifier.channels = [channel(receiver, kind, kind) for kind in KINDS]
    notifier_config.notifier.routes = [{"channels": KINDS}]
    findings = [vuln(f"CVE-2024-{i:05d}", sev, package=f"pkg-{i}", fixed="" if i % 3 else "2.0")
                for i, sev in enumerate(SEVERITIES)]
    event = await store_image(pool, "team-a/big", "1.0", findings=findings,
                              secrets=[leaked(), misconfig()])
    await stack.start("notifier")
    await announce(bus, event)
    rows = await wait_rows(pg_dsn, len(KINDS))
    assert sorted(r["kind"] for r in rows) == sorted(KINDS)
    assert len({r["idempotency_key"] for r in rows}) == 1

    for kind in KINDS:
        [got] = receiver.to(kind)
        payload = json.loads(got.body)
        text = got.body.decode()
        assert got.headers["Content-Type"].startswith("application/json")
        assert "CVE-2024-00000" in text  # the most severe finding is always shown
        assert "app/.env" in text  # and the leaked secret, redacted
        assert len(got.body) <= BYTE_LIMITS.get(kind, 1_000_000)
        if kind == "webhook":
            verify(SIGNING_KEY, got.headers["X-Imagewatch-Signature"], got.body)
            assert payload["type"] == "imagewatch.alert"
            assert len(payload["alert"]["findings"]) == 500
            assert payload["alert"]["counts"] == {"critical": 20, "high": 80, "medium": 200, "low": 200}
        else:
            jsonschema.validate(payload, json.loads((SCHEMAS / f"{kind}.schema.json").read_text()))
            assert "more finding" in text  # summarised, not failed

    # The chat URLs' secret part is nowhere: not in the database, not in any log line.
    dump = await _database_text(pg_dsn)
    assert TOKEN not in dump
    out, err = capfd.readouterr()
    assert "notification sent" in out + err
    assert TOKEN not in out + err


async def _database_text(dsn: str) -> str:
    from harness.stack import query

    rows = await query(dsn, "SELECT row_to_json(o)::text AS t FROM notifier_outbox o")
    state = await query(dsn, "SELECT row_to_json(s)::text AS t FROM notifier_state s")
    return "\n".join(r["t"] for r in [*rows, *state])
