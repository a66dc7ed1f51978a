"""Bad control messages land on the DLQ with a reason; the worker and the partition go on."""

from __future__ import annotations

import orjson

from tests.helpers import kafka, new_id, wait_for
from tests.helpers.harness import Harness


def _headers(msg) -> dict[str, str]:
    return {k: v.decode() for k, v in (msg.headers() or [])}


def test_bad_messages_are_dead_lettered_and_a_good_one_still_runs(harness: Harness, client) -> None:
    eid = new_id("good")
    bad = [
        (b"k-garbage", b"\x00\xff\xfe garbage \x81"),
        (b"k-json", b'{"type": "start", "execution_id": '),
        (
            b"wrongtype",
            orjson.dumps({"type": "start", "execution_id": "wrongtype", "program": {"source": 42}}),
        ),
        (b"unknown", orjson.dumps({"type": "explode", "execution_id": "unknown"})),
        (
            b"newer",
            orjson.dumps(
                {
                    "version": 99,
                    "type": "start",
                    "execution_id": "newer",
                    "program": {"source": "x=1"},
                }
            ),
        ),
        (b"noprogram", orjson.dumps({"type": "start", "execution_id": "noprogram"})),
        (b"tomb", None),
    ]
    # All on one key's partition so the good message sits *behind* the bad ones.
    for _key, value in bad:
        client.send_raw(eid.encode(), value)
    client.send_raw(
        eid.encode(),
        orjson.dumps(
            {
                "type": "start",
                "execution_id": eid,
                "program": {"source": "result = 6 * 7"},
                "future_field": 1,
            }
        ),
    )
    harness.start_worker()

    done = harness.terminal(eid)
    assert done.event == "completed" and done.result == 42

    dead = wait_for(
        lambda: len(harness.dlq.poll()) >= len(bad) and harness.dlq.messages, what="dead letters"
    )
    assert len(dead) == len(bad)
    reasons = [_headers(m)["jarvis.error.reason"] for m in dead]
    fields = [_headers(m)["jarvis.error.field"] for m in dead]
    assert "not UTF-8" in reasons[0]
    assert "not valid JSON" in reasons[1]
    assert fields[2] == "program.source" and "valid string" in reasons[2]
    assert fields[3] == "type" and "unknown command 'explode'" in reasons[3]
    assert fields[4] == "version" and "unsupported version 99" in reasons[4]
    assert fields[5] == "program" and "Field required" in reasons[5]
    assert "empty message" in reasons[6]
    for (_, value), msg in zip(bad, dead, strict=True):
        assert msg.value() == value  # the original bytes, untouched
        h = _headers(msg)
        assert h["jarvis.source.topic"] == harness.settings.control_topic
        assert int(h["jarvis.source.offset"]) >= 0
        assert h["jarvis.dead_lettered_at"]

    # Offsets moved past the bad messages: the group's committed offset covers all 8.
    worker = harness.workers[0][0]
    wait_for(lambda: worker.processed == len(bad) + 1, what="all messages processed")
    # ...and the group's committed offset moved past all of them.
    s = harness.settings
    part = int(_headers(dead[0])["jarvis.source.partition"])
    committed = wait_for(
        lambda: (
            (c := kafka.committed(s.kafka_bootstrap, s.group_id, s.control_topic, [part])[part])
            >= len(bad) + 1
            and c
        ),
        what="committed offset",
    )
    assert committed == len(bad) + 1


def test_key_mismatch_is_dead_lettered(harness: Harness, client) -> None:
    harness.start_worker()
    client.send_raw(
        b"other",
        orjson.dumps({"type": "start", "execution_id": "mine", "program": {"source": "x=1"}}),
    )
    dead = wait_for(lambda: harness.dlq.poll(), what="dead letter")
    assert "differs from execution_id" in _headers(dead[0])["jarvis.error.reason"]
