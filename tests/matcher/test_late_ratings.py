"""A rating or a KEV listing that arrives after the match reaches the stored findings through iw.vulndb.

PYSEC-2020-148 (urllib3 1.24.1) carries no severity and names CVE-2020-26137.
Importing a CVE JSON 5 record for that CVE re-rates the stored finding
(``severity_source`` names the record's provider); a KEV catalog listing it
makes the matcher announce the finding again, as a new advisory would.
"""

from __future__ import annotations

import json

from harness.stack import Stack, query, wait_for
from imagewatch.messages import SUBJECT_FINDINGS, SUBJECT_INVENTORY, FindingsReady, InventoryReady
from imagewatch.runtime.bus import Bus
from imagewatch.store.db import connect_pool
from imagewatch.updater.sync import import_paths

from .helpers import REGISTRY, URLLIB3, Tap, add_image, import_advisories, pypi

CVE = "CVE-2020-26137"


def _cve_record(updated: str, vector: str | None) -> dict:
    metrics = [{"cvssV3_1": {"version": "3.1", "vectorString": vector}}] if vector else []
    return {"dataType": "CVE_RECORD", "dataVersion": "5.1",
            "cveMetadata": {"cveId": CVE, "state": "PUBLISHED", "dateUpdated": updated},
            "containers": {"cna": {"providerMetadata": {"shortName": "mitre"}, "metrics": metrics}}}


async def _severity(dsn: str, digest: str) -> tuple[str, str]:
    rows = await query(dsn, "SELECT severity, finding->>'severity_source' AS src FROM findings"
                            " WHERE image_digest = $1 AND advisory_id = 'PYSEC-2020-148'", digest)
    return (rows[0]["severity"], rows[0]["src"] or "") if rows else ("", "")


async def test_late_cve_rating_rerates_and_kev_listing_alerts(config, pg_dsn, nats_url, tmp_path):
    pool = await connect_pool(pg_dsn, 1, 4, migrate=False)
    stack = Stack(config)
    findings = Tap(nats_url, SUBJECT_FINDINGS, FindingsReady)
    bus = None
    try:
        await import_advisories(pool, URLLIB3)
        digest = await add_image(pool, "known", [pypi("urllib3", "1.24.1")])
        await stack.start("matcher")
        await findings.start()
        await stack.services["matcher"].ctx.bus.publish(SUBJECT_INVENTORY, InventoryReady(
            image_digest=digest, registry=REGISTRY, repository="team/app", tag="v1"), f"inv-{digest}")
        await findings.wait(lambda m: m.reason == "push", what="push match")
        assert await _severity(pg_dsn, digest) == ("unknown", "")
        bus = await Bus.connect(config.bus, name="test-import")

        folder = tmp_path / "cve"
        folder.mkdir()
        (folder / f"{CVE}.json").write_text(json.dumps(_cve_record(
            "2024-01-01T00:00:00Z", "CVS" + "S:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N")))
        [result] = await import_paths(pool, [folder], bus)
        assert (result.source, result.state, result.rated) == ("cve", "changed", [CVE])

        async def rerated() -> bool:
            return await _severity(pg_dsn, digest) == ("medium", f"cve:cna:mitre:{CVE}")
        await wait_for(rerated, what="finding re-rated from the CVE record")

        kev = tmp_path / "kev.json"
        kev.write_text(json.dumps({"catalogVersion": "2030.01.01", "count": 1, "vulnerabilities": [
            {"cveID": CVE, "dateAdded": "2030-01-01", "dueDate": "2030-01-22",
             "knownRansomwareCampaignUse": "Known", "vulnerabilityName": "urllib3 test"}]}))
        [result] = await import_paths(pool, [kev], bus)
        assert (result.source, result.exploited) == ("kev", [CVE])
        [alert] = await findings.wait(lambda m: m.reason == "advisory", what="known-exploited announcement")
        assert alert.image_digest == digest and alert.new == ["PYSEC-2020-148"]
    finally:
        if bus is not None:
            await bus.close()
        await findings.close()
        await stack.stop()
        await pool.close()
