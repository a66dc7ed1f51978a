"""Poison input: over a thousand malformed control messages mixed with good ones.

Every bad message is either dead-lettered (headers name the error) or, when it is a valid
command whose content cannot run, ends in a ``rejected``/``failed`` event with a reason.
Every good start completes. The worker never restarts: one process, one pid, throughout.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import orjson
import pytest

from tests.conftest import new_id, wait_for
from tests.fault.cluster import Cluster

pytestmark = pytest.mark.integration

N_BAD = 1100
N_GOOD = 120


@dataclass
class Bad:
    kind: str
    key: bytes | None
    value: bytes | None
    expect: str  # "dlq" or "event"
    field: str | None = None  # DLQ: the field the reason must name
    eid: str | None = None  # event: which execution reports it


def _start(eid: str, **over: Any) -> dict[str, Any]:
    msg: dict[str, Any] = {"version": 1, "type": "start", "execution_id": eid, "program": {"source": "result = 1"}}
    msg.update(over)
    return msg


def _dlq(kind: str, value: bytes | None, field: str | None = None, key: bytes | None = None) -> Bad:
    return Bad(kind, key if key is not None else new_id("k").encode(), value, "dlq", field)


def _event(kind: str, eid: str, message: dict[str, Any]) -> Bad:
    return Bad(kind, eid.encode(), orjson.dumps(message), "event", eid=eid)


def generate(rng: random.Random) -> list[Bad]:
    makers = [
        lambda: _dlq("random bytes", bytes(rng.randrange(256) for _ in range(rng.randint(1, 300)))),
        lambda: _dlq("bad utf-8", b'{"type": "start", "execution_id": "\xff\xfe\xc3\x28"}'),
        lambda: _dlq("truncated json", orjson.dumps(_start(new_id("t")))[: rng.randint(1, 40)]),
        lambda: _dlq("not an object", rng.choice([b"[]", b"42", b'"start"', b"null", b"true", b"[1,2]"])),
        lambda: _dlq("tombstone", None),
        lambda: _dlq("empty", b""),
        lambda: _dlq("deep nesting", b"[" * 5000 + b"]" * 5000),
        lambda: _dlq("unknown version", orjson.dumps({**_start("v"), "version": rng.choice([0, 2, 99, "1", None, -1])}), "version", b"v"),
        lambda: _dlq("unknown type", orjson.dumps({"version": 1, "type": rng.choice(["explode", "", None, 7]), "execution_id": "x"}), "type", b"x"),
        lambda: _dlq("missing type", orjson.dumps({"version": 1, "execution_id": "x"}), "type", b"x"),
        lambda: _dlq("missing execution_id", orjson.dumps({"version": 1, "type": "start", "program": {"source": "x=1"}}), "execution_id"),
        lambda: _dlq("missing program", orjson.dumps({"version": 1, "type": "start", "execution_id": "m"}), "program", b"m"),
        lambda: _dlq("program without source", orjson.dumps(_start("p", program={"filename": "a.spy"})), "program", b"p"),
        lambda: _dlq("source and ref", orjson.dumps(_start("p", program={"source": "x=1", "ref": "s3://b/k"})), "program", b"p"),
        lambda: _dlq("source not a string", orjson.dumps(_start("p", program={"source": rng.choice([42, [], {}, True])})), "program.source", b"p"),
        lambda: _dlq("eid wrong type", orjson.dumps(_start(rng.choice([1, None, [], {}]))), "execution_id"),  # type: ignore[arg-type]
        lambda: _dlq("eid path traversal", orjson.dumps(_start(rng.choice(["../../etc", "a/b", "a b", "", "x" * 300, "é"]))), "execution_id"),
        lambda: _dlq("inputs not an object", orjson.dumps(_start("i", inputs=rng.choice([[1], "x", 3]))), "inputs", b"i"),
        lambda: _dlq("books not a list", orjson.dumps(_start("b", books=rng.choice(["kv", 3, {"a": 1}]))), "books", b"b"),
        lambda: _dlq("bad log level", orjson.dumps(_start("l", options={"log_level": "loud"})), "options.log_level", b"l"),
        lambda: _dlq("bad limit", orjson.dumps(_start("l", options={"limits": {"max_steps": -5}})), "options.limits.max_steps", b"l"),
        lambda: _dlq("labels wrong type", orjson.dumps(_start("lb", labels={"a": [1]})), "labels.a", b"lb"),
        lambda: _dlq("stop bad mode", orjson.dumps({"version": 1, "type": "stop", "execution_id": "s", "mode": "nuke"}), "mode", b"s"),
        lambda: _dlq("key mismatch", orjson.dumps(_start("owner")), "execution_id", b"someone-else"),
        lambda: (e := new_id("syntax"), _event("syntax error", e, _start(e, program={"source": rng.choice(
            ["def f(:\n", "x = = 1\n", "import os\n", "class A: pass\n", "x = (1,\n", "return 5\n", "while True\n"])})))[1],
        lambda: (e := new_id("nobook"), _event("unknown book", e, _start(e, books=["no_such_book"])))[1],
        lambda: (e := new_id("noref"), _event("missing ref", e, _start(e, program={"ref": f"s3://nope-{e}/k.spy"})))[1],
        lambda: (e := new_id("crash"), _event("runtime error", e, _start(e, program={"source": "x = 1 / 0\n"})))[1],
    ]
    # Huge payloads (up to ~700 KB; the topic takes 1 MiB) are fewer, to keep the test quick.
    huge = [
        lambda: _dlq("huge garbage", b"{" + rng.randbytes(600_000)),
        lambda: _dlq("huge inputs", orjson.dumps(_start("h", inputs={"blob": "x" * 700_000}, books=7)), "books", b"h"),
        lambda: (e := new_id("toolarge"), _event("program too large", e, _start(e, program={"source": "x = 1\n" * 60_000})))[1],
    ]
    out = [maker() for maker in makers + huge]  # every kind at least once
    while len(out) < N_BAD:
        out.append(rng.choice(huge if rng.random() < 0.02 else makers)())
    return out


def _headers(msg: Any) -> dict[str, str]:
    return {k: (v or b"").decode() for k, v in (msg.headers() or [])}


def test_poison_messages_never_crash_or_block_the_worker(cluster: Cluster) -> None:
    rng = random.Random(7)
    bad = generate(rng)
    good = {new_id("good"): k for k in range(N_GOOD)}
    batch: list[tuple[bytes | None, bytes | None]] = [(b.key, b.value) for b in bad]
    batch += [
        (eid.encode(), orjson.dumps(_start(eid, program={"source": "result = inputs['k'] * 2"}, inputs={"k": k})))
        for eid, k in good.items()
    ]
    rng.shuffle(batch)
    worker = cluster.start_worker()
    pid = worker.pid
    t0 = time.monotonic()
    for key, value in batch:
        cluster.send_raw(key, value)
    cluster.flush()

    n_dlq = sum(b.expect == "dlq" for b in bad)
    event_bad = {b.eid: b for b in bad if b.expect == "event"}
    wait_for(lambda: all(cluster.terminals_of(e) for e in good), 180, "every good start to finish")
    wait_for(lambda: all(cluster.terminals_of(e) for e in event_bad), 60, "an outcome for every bad-content start")
    wait_for(lambda: (cluster.dlq.pump(), len(cluster.dlq.messages) >= n_dlq)[1], 60, "every dead letter")
    took = time.monotonic() - t0
    wait_for(lambda: cluster.lag() == 0, 30, "the group to commit past every message")

    for eid, k in good.items():
        (done,) = cluster.terminals_of(eid)
        assert (done["event"], done["result"]) == ("completed", k * 2)

    outcomes = Counter()
    for eid, b in event_bad.items():
        (done,) = cluster.terminals_of(eid)
        assert done["event"] in ("rejected", "failed"), (b.kind, done)
        assert done["error"]["message"], (b.kind, done)
        outcomes[(b.kind, done["event"], done["error"]["type"])] += 1

    dead = cluster.dlq.messages
    assert len(dead) == n_dlq
    by_offset = {(int(_headers(m)["jarvis.source.partition"]), int(_headers(m)["jarvis.source.offset"])) for m in dead}
    assert len(by_offset) == n_dlq  # each dead-lettered once
    originals = Counter(b.value for b in bad if b.expect == "dlq")
    assert Counter(m.value() for m in dead) == originals  # the original bytes, untouched
    for m in dead:
        h = _headers(m)
        assert h["jarvis.error.reason"], h
        assert h["jarvis.source.topic"] == cluster.settings.control_topic
    fields = Counter(_headers(m)["jarvis.error.field"] for m in dead)
    for b in bad:
        if b.field is not None:
            assert fields[b.field] > 0, f"no dead letter names field {b.field!r} ({b.kind})"

    # Never restarted, never crashed: same process, still consuming, no traceback logged.
    assert worker.alive() and worker.pid == pid
    log = worker.log()
    assert "Traceback" not in log and "crashed the host" not in log
    kinds = Counter(b.kind for b in bad)
    print(f"\n{len(bad)} bad + {len(good)} good messages handled in {took:.1f} s by one worker (pid {pid}): "
          f"{len(dead)} dead-lettered, {len(event_bad)} rejected/failed")
    print("bad kinds:", dict(sorted(kinds.items())))
    print("rejections:", dict(sorted(outcomes.items())))
