"""``GET /v1/dlq`` and ``POST /v1/dlq/{id}/retry`` against a real JetStream stream."""

from __future__ import annotations

import time

from imagewatch.runtime.bus import Bus
from imagewatch.messages import SUBJECT_DLQ_PREFIX, SUBJECT_PUSH, DeadLetter, PushEvent, decoder_for, encode

from .conftest import AUTH, call

DIGEST = "sha256:" + "ab" * 32


async def _dead_letter(bus: Bus, stage: str, n: int) -> None:
    event = PushEvent(event_id=f"ev-{n}", source="distribution", registry="reg.example:5000",
                      repository="team/app", tag=f"{n}.0", digest=DIGEST)
    letter = DeadLetter(stage=stage, subject=SUBJECT_PUSH, data=encode(event), error=f"{stage}: boom {n}",
                        deliveries=5, failed_at=time.time(), msg_id=f"ev-{n}")
    await bus.publish(SUBJECT_DLQ_PREFIX + stage, letter, f"dlq-test-{n}")


async def test_list_page_and_retry(api, config):
    bus = await Bus.connect(config.bus, name="test")
    try:
        for n in range(3):
            await _dead_letter(bus, "fetcher" if n < 2 else "matcher", n)

        assert (await call(api, "GET", "/v1/dlq"))[0] == 401
        status, body = await call(api, "GET", "/v1/dlq?limit=2", headers=AUTH)
        assert status == 200 and len(body["items"]) == 2 and body["next_cursor"]
        first = body["items"][0]
        assert first["stage"] == "fetcher" and first["subject"] == SUBJECT_PUSH
        assert first["error"] == "fetcher: boom 0" and first["deliveries"] == 5 and first["msg_id"] == "ev-0"
        assert first["message"]["repository"] == "team/app" and first["message"]["tag"] == "0.0"
        assert "data" not in first and first["failed_at"].endswith("+00:00")
        status, rest = await call(api, "GET", f"/v1/dlq?limit=2&cursor={body['next_cursor']}", headers=AUTH)
        assert [i["error"] for i in rest["items"]] == ["matcher: boom 2"] and rest["next_cursor"] is None
        status, only = await call(api, "GET", "/v1/dlq?stage=matcher", headers=AUTH)
        assert [i["stage"] for i in only["items"]] == ["matcher"]

        sub = await bus.js.subscribe(SUBJECT_PUSH, ordered_consumer=True)
        status, answer = await call(api, "POST", f"/v1/dlq/{first['id']}/retry", headers=AUTH)
        assert status == 202 and answer["subject"] == SUBJECT_PUSH
        assert answer["msg_id"].startswith(f"retry:{first['id']}:")
        msg = await sub.next_msg(timeout=5)
        assert decoder_for(PushEvent).decode(msg.data).event_id == "ev-0"
        assert msg.headers["Nats-Msg-Id"] == answer["msg_id"]
        await sub.unsubscribe()

        status, after = await call(api, "GET", "/v1/dlq", headers=AUTH)
        assert [i["id"] for i in after["items"]] == [i["id"] for i in body["items"][1:] + rest["items"]]
        assert (await call(api, "POST", f"/v1/dlq/{first['id']}/retry", headers=AUTH))[0] == 404
        assert (await call(api, "POST", "/v1/dlq/999999/retry", headers=AUTH))[0] == 404
        assert (await call(api, "POST", "/v1/dlq/abc/retry", headers=AUTH))[0] == 404
        assert (await call(api, "POST", f"/v1/dlq/{answer['sequence']}/retry", headers=AUTH))[0] == 404
        assert (await call(api, "POST", f"/v1/dlq/{after['items'][0]['id']}/retry"))[0] == 401
    finally:
        await bus.close()
