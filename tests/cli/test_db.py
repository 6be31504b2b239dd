"""``imagewatch db import|status|sync`` through the real command entry point."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit

import pytest

from imagewatch.cli.main import main
from imagewatch.cli.embedded import free_port
from imagewatch.messages import SUBJECT_VULNDB, VulnDBChanged
from imagewatch.runtime.natsservers import redacted

from matcher.helpers import SECDB_319, URLLIB3, Tap


@pytest.fixture
def db_env(monkeypatch, pg_dsn, tmp_path):
    monkeypatch.setenv("IMAGEWATCH_DATABASE_URL", pg_dsn)
    monkeypatch.setenv("IMAGEWATCH_DATA_DIR", str(tmp_path / "data"))
    for name in ("IMAGEWATCH_NATS_URL", "IMAGEWATCH_CONFIG", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_import_then_status_then_reimport(db_env, capsys):
    assert main(["db", "import", str(URLLIB3), str(SECDB_319)]) == 0
    out = capsys.readouterr().out
    assert "osv:PyPI: 2 advisories changed, 1 packages affected" in out
    assert "alpine-secdb:" in out and "NATS not configured" in out

    assert main(["db", "status"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["SOURCE", "RECORDS", "LAST", "SYNC", "FINGERPRINT"]
    rows = {line.split()[0]: line.split() for line in lines[1:-1]}
    assert set(rows) == {"alpine-secdb", "osv:PyPI"}
    assert rows["osv:PyPI"][1] == "2" and int(rows["alpine-secdb"][1]) > 50
    assert rows["osv:PyPI"][-1] == "-"  # an import has no upstream fingerprint
    assert lines[-1].startswith("2 sources,")

    assert main(["db", "import", str(URLLIB3)]) == 0
    assert "osv:PyPI: unchanged" in capsys.readouterr().out

    assert main(["db", "import", str(URLLIB3 / "missing")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("imagewatch db: import failed:") and "no such path" in err


def test_status_when_empty(db_env, capsys):
    assert main(["db", "status"]) == 0
    assert "no advisory source synced or imported yet" in capsys.readouterr().out


def test_sync_offline_is_a_clear_error(db_env, capsys, tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: every download fails at once
    db_env.setenv("HTTPS_PROXY", dead)
    db_env.setenv("HTTP_PROXY", dead)
    config = tmp_path / "imagewatch.toml"
    config.write_text('[updater]\nsources = ["osv:PyPI", "alpine-secdb"]\n')
    db_env.setenv("IMAGEWATCH_CONFIG", str(config))
    assert main(["db", "sync"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "osv:PyPI: GET https://" in err and "(offline?)" in err
    assert "no advisory source reachable (2 tried); are you offline?" in err

    config.write_text('[updater]\nsources = ["osv:Nope"]\n')
    assert main(["db", "sync"]) == 2
    assert "unknown source(s) osv:Nope" in capsys.readouterr().err


def test_import_publishes_vulndb_when_nats_is_configured(db_env, capsys, nats_url, tmp_path):
    db_env.setenv("IMAGEWATCH_NATS_URL", nats_url)
    assert main(["db", "import", str(URLLIB3)]) == 0
    out = capsys.readouterr().out
    assert f"published iw.vulndb on {redacted(nats_url)}" in out
    assert urlsplit(nats_url).password is None or urlsplit(nats_url).password not in out  # never printed
    [msg] = asyncio.run(_vulndb(nats_url))
    assert msg.source == "osv:PyPI" and [(k.ecosystem, k.name) for k in msg.changed] == [("PyPI", "urllib3")]
    assert msg.advisories == ["PYSEC-2019-133", "PYSEC-2020-148"]

    db_env.setenv("IMAGEWATCH_NATS_URL", f"nats://127.0.0.1:{free_port()}")
    doc = {"id": "PYSEC-TEST-1", "modified": "2030-01-01T00:00:00Z", "affected": [
        {"package": {"ecosystem": "PyPI", "name": "django"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0"}]}]}]}
    (tmp_path / "one.json").write_text(json.dumps(doc))
    assert main(["db", "import", str(tmp_path / "one.json")]) == 0
    assert "not reachable" in capsys.readouterr().out


async def _vulndb(url: str) -> list[VulnDBChanged]:
    tap = await Tap(url, SUBJECT_VULNDB, VulnDBChanged).start()
    try:
        return await tap.wait(lambda m: True, what="iw.vulndb")
    finally:
        await tap.close()


def test_import_beside_a_running_up_reaches_its_embedded_nats(db_env, capsys, tmp_path):
    from imagewatch.cli.embedded import EmbeddedNats

    nats = EmbeddedNats(tmp_path / "data" / "nats").start()  # what `imagewatch up` starts on this data dir
    try:
        assert main(["db", "import", str(URLLIB3)]) == 0
        out = capsys.readouterr().out
        assert f"published iw.vulndb on {nats.public_url}" in out and nats.password not in out
        [msg] = asyncio.run(_vulndb(nats.url))
        assert msg.source == "osv:PyPI"
    finally:
        nats.stop()
    assert not (tmp_path / "data" / "nats" / "url").exists()
    (tmp_path / "x.json").write_text(json.dumps({"id": "PYSEC-TEST-2", "modified": "2030-01-01T00:00:00Z",
                                                  "affected": [{"package": {"ecosystem": "PyPI", "name": "x"}}]}))
    assert main(["db", "import", str(tmp_path / "x.json")]) == 0
    assert "no `imagewatch up` running on" in capsys.readouterr().out
