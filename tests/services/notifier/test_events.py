"""The notifier service end to end from bus messages: one message per image event, no repeats."""

from __future__ import annotations

import json

from imagewatch.messages import SUBJECT_FINDINGS
from imagewatch.store import images as images_store

from .conftest import (announce, channel, consumed, leaked, misconfig, outbox_rows, store_image, vuln,
                       wait_rows)


def alert_of(received) -> dict:
    return json.loads(received.body)["alert"]


def ids(alert: dict) -> list[str]:
    return [f["id"] for f in alert["findings"]]


async def test_one_message_per_image_event_after_both_stages(notifier_config, stack, receiver, bus, pool,
                                                             pg_dsn):
    notifier_config.notifier.channels = [channel(receiver, "hook", "webhook")]
    notifier_config.notifier.routes = [{"channels": ["hook"]}]
    event = await store_image(pool, "team-a/api", "1.0", stages=("matcher",),
                              findings=[vuln("CVE-2024-0001", "critical"), vuln("CVE-2024-0002", "low")],
                              secrets=[leaked(), misconfig()])
    await stack.start("notifier")

    # The matcher's message alone: the secrets stage is still running, so nothing is decided.
    async with pool.acquire() as conn:
        await images_store.set_stage(conn, event.digest, "secrets", "running")
    await bus.publish(SUBJECT_FINDINGS, event.findings_ready(new=["CVE-2024-0001"]), "f1")
    await consumed(bus)
    assert await outbox_rows(pg_dsn) == []
    async with pool.acquire() as conn:
        assert (await images_store.stages_of(conn, event.digest))["notifier"]["state"] == "pending"

    # The secrets stage finishes: its message triggers the one alert with everything.
    async with pool.acquire() as conn:
        await images_store.set_stage(conn, event.digest, "secrets", "done")
    await bus.publish("iw.secrets", event.secrets_ready(), "s1")
    [row] = await wait_rows(pg_dsn, 1)
    [got] = receiver.to("hook")
    alert = alert_of(got)
    assert ids(alert) == ["CVE-2024-0001", "CVE-2024-0002"]
    assert [s["rule_id"] for s in alert["secrets"]] == ["aws-access-key-id"]
    assert [m["rule_id"] for m in alert["misconfigurations"]] == ["config-user-root"]
    assert alert["new_count"] == 1 and alert["reason"] == "push"
    assert alert["image"] == {"registry": "registry.test:5000", "repository": "team-a/api", "tag": "1.0",
                              "digest": event.digest, "platform": "linux/amd64"}
    assert alert["api_url"] == f"https://imagewatch.example.com/api/v1/images/{event.digest}"
    assert row["idempotency_key"] == alert["idempotency_key"] == got.headers["X-Imagewatch-Idempotency-Key"]
    async with pool.acquire() as conn:
        assert (await images_store.stages_of(conn, event.digest))["notifier"]["state"] == "done"

    # Both messages redelivered (new message ids): nothing is queued or sent twice.
    await announce(bus, event, suffix=":again", new=["CVE-2024-0001"])
    await consumed(bus)
    assert len(await outbox_rows(pg_dsn)) == 1
    assert len(receiver.to("hook")) == 1


async def test_routing_globs_severity_fixable_kinds(notifier_config, stack, receiver, bus, pool, pg_dsn):
    notifier_config.notifier.channels = [
        channel(receiver, "team-a", "webhook"), channel(receiver, "fixable", "webhook"),
        channel(receiver, "secrets", "webhook"), channel(receiver, "registry-b", "webhook"),
    ]
    notifier_config.notifier.routes = [
        {"repositories": ["team-a/*"], "min_severity": "high", "channels": ["team-a"]},
        {"repositories": ["*"], "min_severity": "medium", "only_fixable": True, "kinds": ["vulnerability"],
         "channels": ["fixable"]},
        {"kinds": ["secret"], "channels": ["secrets"]},
        {"repositories": ["other.registry/team-b/*"], "channels": ["registry-b"]},
    ]
    a = await store_image(pool, "team-a/api", "1.0", findings=[
        vuln("CVE-1", "critical"), vuln("CVE-2", "high", fixed=""), vuln("CVE-3", "medium"),
        vuln("CVE-4", "low")], secrets=[leaked(severity="high"), misconfig(severity="high")])
    b = await store_image(pool, "team-b/web", "2.0", findings=[vuln("CVE-5", "high", fixed=""),
                                                               vuln("CVE-6", "low")])
    quiet = await store_image(pool, "team-c/quiet", "3.0", findings=[vuln("CVE-7", "low", fixed="")],
                              secrets=[misconfig(severity="low")])
    await stack.start("notifier")
    for event in (a, b, quiet):
        await announce(bus, event)
    await wait_rows(pg_dsn, 3)
    await consumed(bus)

    [team_a] = receiver.to("team-a")
    assert ids(alert_of(team_a)) == ["CVE-1", "CVE-2"]
    assert [m["rule_id"] for m in alert_of(team_a)["misconfigurations"]] == ["config-user-root"]
    [fixable] = receiver.to("fixable")  # only team-a/api has a fixable finding of medium or above
    assert ids(alert_of(fixable)) == ["CVE-1", "CVE-3"] and alert_of(fixable)["secrets"] == []
    [secrets] = receiver.to("secrets")
    assert alert_of(secrets)["findings"] == [] and len(alert_of(secrets)["secrets"]) == 1
    assert receiver.to("registry-b") == []  # the registry does not match
    # team-b/web's unfixable high matches no route, team-c/quiet nothing: no message for either.
    rows = await outbox_rows(pg_dsn)
    assert {(r["repository"], r["channel"]) for r in rows} == {
        ("team-a/api", "team-a"), ("team-a/api", "fixable"), ("team-a/api", "secrets")}
    async with pool.acquire() as conn:
        assert (await images_store.stages_of(conn, quiet.digest))["notifier"]["state"] == "done"


async def test_same_tag_pushed_again_alerts_only_new_or_more_severe(notifier_config, stack, receiver, bus,
                                                                    pool, pg_dsn):
    notifier_config.notifier.channels = [channel(receiver, "hook", "webhook")]
    notifier_config.notifier.routes = [{"channels": ["hook"]}]
    await stack.start("notifier")

    first = await store_image(pool, "team-a/api", "latest", findings=[vuln("CVE-1", "high")],
                              secrets=[leaked()])
    await announce(bus, first)
    await wait_rows(pg_dsn, 1)

    # Same tag, new image: CVE-1 and the secret unchanged, CVE-2 new.
    second = await store_image(pool, "team-a/api", "latest", secrets=[leaked()],
                               findings=[vuln("CVE-1", "high"), vuln("CVE-2", "medium")])
    await announce(bus, second, new=["CVE-2"])
    await wait_rows(pg_dsn, 2)

    # Same tag again: nothing new at all, so nothing is sent.
    third = await store_image(pool, "team-a/api", "latest", secrets=[leaked()],
                              findings=[vuln("CVE-1", "high"), vuln("CVE-2", "medium")])
    await announce(bus, third)
    await consumed(bus)

    # CVE-1 rated critical now: alerted again.
    fourth = await store_image(pool, "team-a/api", "latest", secrets=[leaked()],
                               findings=[vuln("CVE-1", "critical"), vuln("CVE-2", "medium")])
    await announce(bus, fourth)
    await wait_rows(pg_dsn, 3)
    await consumed(bus)

    alerts = [alert_of(r) for r in receiver.to("hook")]
    assert [(ids(a), len(a["secrets"])) for a in alerts] == [(["CVE-1"], 1), (["CVE-2"], 0), (["CVE-1"], 0)]
    assert alerts[1]["new_count"] == 1
    assert alerts[2]["findings"][0]["severity"] == "critical"
    assert len({a["idempotency_key"] for a in alerts}) == 3

    # Another tag of the same repository is alerted on its own.
    other = await store_image(pool, "team-a/api", "stable", findings=[vuln("CVE-1", "critical")])
    await announce(bus, other)
    await wait_rows(pg_dsn, 4)
    assert ids(alert_of(receiver.to("hook")[-1])) == ["CVE-1"]


async def test_advisory_rematch_alerts_at_once(notifier_config, stack, receiver, bus, pool, pg_dsn):
    notifier_config.notifier.channels = [channel(receiver, "hook", "webhook")]
    notifier_config.notifier.routes = [{"channels": ["hook"]}]
    await stack.start("notifier")
    event = await store_image(pool, "team-a/api", "1.0", findings=[vuln("CVE-1", "high")])
    await announce(bus, event)
    await wait_rows(pg_dsn, 1)

    async with pool.acquire() as conn:
        from imagewatch.store import findings as findings_store
        await findings_store.replace_findings(conn, event.digest, [vuln("CVE-1", "high"),
                                                                   vuln("GHSA-new", "critical", cve="CVE-9")])
    await bus.publish(SUBJECT_FINDINGS, event.findings_ready(reason="advisory", advisories=["GHSA-new"]), "adv")
    await wait_rows(pg_dsn, 2)
    alert = alert_of(receiver.to("hook")[-1])
    assert alert["reason"] == "advisory" and alert["advisories"] == ["GHSA-new"]
    assert ids(alert) == ["GHSA-new"] and alert["findings"][0]["cve"] == "CVE-9"
    assert alert["new_count"] == 1
