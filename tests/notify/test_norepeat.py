"""The no-repeat rule: once per repository:tag, again when severity rises."""

from __future__ import annotations

import msgspec

from imagewatch.notify.norepeat import fresh, merge_state

from .conftest import sample_alert


def test_first_push_alerts_everything_and_records_it():
    alert = sample_alert()
    assert fresh(alert, {}) == alert
    state = merge_state({}, [alert])
    assert state["vulnerability:GHSA-jfh8-c2jp-5v3q:Maven:org.apache.logging.log4j:log4j-core"] == "critical"
    assert len(state) == 6 + 2 + 1


def test_same_tag_pushed_again_alerts_nothing():
    alert = sample_alert()
    state = merge_state({}, [alert])
    again = fresh(sample_alert(), state)
    assert again.is_empty and again.counts == {}


def test_severity_rise_alerts_again_drop_does_not():
    alert = sample_alert()
    state = merge_state({}, [alert])
    apt = next(f for f in alert.findings if f.package == "apt")
    requests = next(f for f in alert.findings if f.package == "requests")
    rescored = alert.with_items(
        [msgspec.structs.replace(apt, severity="high"), msgspec.structs.replace(requests, severity="low"),
         *[f for f in alert.findings if f not in (apt, requests)]],
        alert.secrets, alert.misconfigurations,
    )
    out = fresh(rescored, state)
    assert [(f.package, f.severity) for f in out.findings] == [("apt", "high")]
    state = merge_state(state, [out])
    assert state[apt.key] == "high"
    assert fresh(rescored, state).is_empty


def test_new_finding_and_new_secret_alerted():
    alert = sample_alert()
    state = merge_state({}, [alert.with_items(alert.findings[1:], alert.secrets[1:], alert.misconfigurations)])
    out = fresh(alert, state)
    assert [f.id for f in out.findings] == [alert.findings[0].id]
    assert [s.rule_id for s in out.secrets] == [alert.secrets[0].rule_id]


def test_only_what_was_sent_is_recorded():
    alert = sample_alert()
    sent = alert.with_items(alert.findings[:1], [], [])
    state = merge_state({}, [sent])
    assert len(fresh(alert, state).findings) == len(alert.findings) - 1


def test_kev_listing_alerts_an_already_alerted_finding_once():
    alert = sample_alert()
    state = merge_state({}, [alert])
    apt = next(f for f in alert.findings if f.package == "apt")
    listed = alert.with_items([msgspec.structs.replace(apt, kev=True), *[f for f in alert.findings if f != apt]],
                              alert.secrets, alert.misconfigurations)
    out = fresh(listed, state)
    assert [(f.package, f.kev) for f in out.findings] == [("apt", True)]
    state = merge_state(state, [out])
    assert state[apt.key] == f"{apt.severity}+kev"
    assert fresh(listed, state).is_empty
    # a later severity rise still alerts, and keeps the mark
    risen = listed.with_items([msgspec.structs.replace(apt, kev=True, severity="critical")], [], [])
    out = fresh(risen, state)
    assert [f.package for f in out.findings] == ["apt"]
    assert merge_state(state, [out])[apt.key] == "critical+kev"
