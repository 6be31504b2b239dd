"""The alert's top line: the single most effective fix, and "not covered" for what was not checked."""

from __future__ import annotations

from imagewatch.models import Finding
from imagewatch.notify.alert import ImageRef, build_alert
import pytest

from imagewatch.notify.rules import ChannelConfig
from imagewatch.notify.secret import Secret
from imagewatch.notify.channels.catalog import CHANNEL_KINDS, channel_for
from imagewatch.notify.channels.wording import fallback_text, title

IMAGE = ImageRef(registry="r", repository="team/app", tag="1", digest="sha256:" + "c" * 64)
FINDING = Finding(advisory_id="CVE-2023-5678", ids=["CVE-2023-5678"], package="libssl3", version="3.1.4-r0",
                  ecosystem="Alpine", severity="medium", fixed_versions=["3.1.4-r1"])


def test_title_leads_with_the_fix_and_warns_not_covered():
    alert = build_alert(image=IMAGE, api_base="http://api", findings=[FINDING],
                        fix="upgrade openssl to 3.1.4-r1 (fixes 1)", not_covered=["PyPI"])
    line = title(alert)
    assert "fix first: upgrade openssl to 3.1.4-r1 (fixes 1)" in line
    assert "(not covered: PyPI: no advisory data)" in line and "fix first" in fallback_text(alert)
    assert "fix first" not in title(build_alert(image=IMAGE, api_base="http://api", fix="x"))


@pytest.mark.parametrize("kind", sorted(CHANNEL_KINDS))
def test_every_channel_shows_the_fix_and_not_covered(kind):
    cfg = ChannelConfig(name=f"{kind}-ops", kind=kind, url=Secret("https://example.invalid/hook"),
                        secret=Secret("k" * 32) if kind == "webhook" else None)
    alert = build_alert(image=IMAGE, api_base="http://api", findings=[FINDING],
                        fix="upgrade openssl to 3.1.4-r1 (fixes 1)", not_covered=["PyPI"])
    [request] = channel_for(cfg).render(alert)
    body = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
    if kind == "webhook":  # the structured alert: the fields themselves
        assert '"not_covered":["PyPI"]' in body and '"fix":"upgrade openssl to 3.1.4-r1 (fixes 1)"' in body
    else:
        assert "not covered" in body and "fix first" in body
