"""Poison input: over a thousand malformed control messages mixed with good ones.

Every bad message is either dead-lettered (headers name the error) or, when it is a valid
command whose content cannot run, ends in a ``rejected``/``failed`` event with a reason.
Every message is accounted for exactly once, by its partition and offset. Every good start
completes. The worker never restarts: one process, one pid, throughout. And at the end every
partition's committed offset is its end offset: no message left its partition stuck.

Families include what a generator of malformed messages found: duplicate keys, ``version:
true``, no key, integers beyond 64 bits, limits as strings and booleans, an infinite wall
limit, inputs nested 250-255 levels, a NUL in the file name, a foreign program.ref bucket,
forged ``jarvis.*`` headers, a ~1 MB invalid message (its dead letter is larger than
librdkafka's default message.max.bytes) and 10,000 unknown Books.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import orjson
import pytest

from jarvis.contract.messages import CONTRACT_VERSION
from tests.fault.cluster import Cluster
from tests.helpers import new_id, wait_for

pytestmark = pytest.mark.integration

N_BAD = 1100
N_GOOD = 120


@dataclass
class Bad:
    kind: str
    key: bytes | None
    value: bytes | None
    expect: str  # "dlq" or "event"
    field: str | None = None  # DLQ: the field the reason must name (a prefix, for deep paths)
    eid: str | None = None  # event: which execution reports it
    headers: list[tuple[str, bytes]] | None = None


def _start(eid: str, **over: Any) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "version": 1,
        "type": "start",
        "execution_id": eid,
        "program": {"source": "result = 1"},
    }
    msg.update(over)
    return msg


NO_KEY = b""  # marker: send without a key


def _dlq(
    kind: str,
    value: bytes | None,
    field: str | None = None,
    key: bytes | None = None,
    headers: list[tuple[str, bytes]] | None = None,
) -> Bad:
    if key is NO_KEY:
        return Bad(kind, None, value, "dlq", field, headers=headers)
    return Bad(
        kind, key if key is not None else new_id("k").encode(), value, "dlq", field, headers=headers
    )


def _deep(levels: int, eid: str) -> bytes:
    # As text: orjson cannot write JSON this deep.
    return (
        b'{"version":1,"type":"start","execution_id":"'
        + eid.encode()
        + b'","program":{"source":"result = 1"},'
        b'"inputs":{"deep":' + b"[" * levels + b"1" + b"]" * levels + b"}}"
    )


def _event(kind: str, eid: str, message: dict[str, Any]) -> Bad:
    return Bad(kind, eid.encode(), orjson.dumps(message), "event", eid=eid)


def generate(rng: random.Random, bucket: str) -> list[Bad]:
    makers = [
        lambda: _dlq("random bytes", bytes(rng.randrange(256) for _ in range(rng.randint(1, 300)))),
        lambda: _dlq("bad utf-8", b'{"type": "start", "execution_id": "\xff\xfe\xc3\x28"}'),
        lambda: _dlq("truncated json", orjson.dumps(_start(new_id("t")))[: rng.randint(1, 40)]),
        lambda: _dlq(
            "not an object", rng.choice([b"[]", b"42", b'"start"', b"null", b"true", b"[1,2]"])
        ),
        lambda: _dlq("tombstone", None),
        lambda: _dlq("empty", b""),
        lambda: _dlq("deep nesting", b"[" * 5000 + b"]" * 5000),
        lambda: _dlq(
            "unknown version",
            orjson.dumps(
                {
                    **_start("v"),
                    "version": rng.choice([0, CONTRACT_VERSION + 1, 99, "1", None, -1]),
                }
            ),
            "version",
            b"v",
        ),
        lambda: _dlq(
            "unknown type",
            orjson.dumps(
                {"version": 1, "type": rng.choice(["explode", "", None, 7]), "execution_id": "x"}
            ),
            "type",
            b"x",
        ),
        lambda: _dlq(
            "missing type", orjson.dumps({"version": 1, "execution_id": "x"}), "type", b"x"
        ),
        lambda: _dlq(
            "missing execution_id",
            orjson.dumps({"version": 1, "type": "start", "program": {"source": "x=1"}}),
            "execution_id",
        ),
        lambda: _dlq(
            "missing program",
            orjson.dumps({"version": 1, "type": "start", "execution_id": "m"}),
            "program",
            b"m",
        ),
        lambda: _dlq(
            "program without source",
            orjson.dumps(_start("p", program={"filename": "a.spy"})),
            "program",
            b"p",
        ),
        lambda: _dlq(
            "source and ref",
            orjson.dumps(_start("p", program={"source": "x=1", "ref": "s3://b/k"})),
            "program",
            b"p",
        ),
        lambda: _dlq(
            "source not a string",
            orjson.dumps(_start("p", program={"source": rng.choice([42, [], {}, True])})),
            "program.source",
            b"p",
        ),
        lambda: _dlq(
            "eid wrong type", orjson.dumps(_start(rng.choice([1, None, [], {}]))), "execution_id"
        ),  # type: ignore[arg-type]
        lambda: _dlq(
            "eid path traversal",
            orjson.dumps(_start(rng.choice(["../../etc", "a/b", "a b", "", "x" * 300, "é"]))),
            "execution_id",
        ),
        lambda: _dlq(
            "inputs not an object",
            orjson.dumps(_start("i", inputs=rng.choice([[1], "x", 3]))),
            "inputs",
            b"i",
        ),
        lambda: _dlq(
            "books not a list",
            orjson.dumps(_start("b", books=rng.choice(["kv", 3, {"a": 1}]))),
            "books",
            b"b",
        ),
        lambda: _dlq(
            "bad log level",
            orjson.dumps(_start("l", options={"log_level": "loud"})),
            "options.log_level",
            b"l",
        ),
        lambda: _dlq(
            "bad limit",
            orjson.dumps(_start("l", options={"limits": {"max_steps": -5}})),
            "options.limits.max_steps",
            b"l",
        ),
        lambda: _dlq(
            "labels wrong type", orjson.dumps(_start("lb", labels={"a": [1]})), "labels.a", b"lb"
        ),
        lambda: _dlq(
            "stop bad mode",
            orjson.dumps({"version": 1, "type": "stop", "execution_id": "s", "mode": "nuke"}),
            "mode",
            b"s",
        ),
        lambda: _dlq(
            "key mismatch", orjson.dumps(_start("owner")), "execution_id", b"someone-else"
        ),
        lambda: (
            e := new_id("syntax"),
            _event(
                "syntax error",
                e,
                _start(
                    e,
                    program={
                        "source": rng.choice(
                            [
                                "def f(:\n",
                                "x = = 1\n",
                                "import os\n",
                                "class A: pass\n",
                                "x = (1,\n",
                                "return 5\n",
                                "while True\n",
                            ]
                        )
                    },
                ),
            ),
        )[1],
        lambda: (
            e := new_id("nobook"),
            _event("unknown book", e, _start(e, books=["no_such_book"])),
        )[1],
        lambda: (
            e := new_id("noref"),
            _event("missing ref", e, _start(e, program={"ref": f"s3://{bucket}/missing/{e}.spy"})),
        )[1],
        lambda: (
            e := new_id("d"),
            _dlq(
                "duplicate type",
                b'{"version":1,"type":"stop","execution_id":"'
                + e.encode()
                + b'","type":"start","program":{"source":"result = 1"}}',
                "type",
                e.encode(),
            ),
        )[1],
        lambda: (
            e := new_id("d"),
            _dlq(
                "duplicate nested key",
                orjson.dumps(_start(e)).replace(b'"source":', b'"source":"x = 0","source":'),
                "program.source",
                e.encode(),
            ),
        )[1],
        lambda: (
            e := new_id("v"),
            _dlq(
                "version true",
                orjson.dumps(_start(e, version=rng.choice([True, 1.0]))),
                "version",
                e.encode(),
            ),
        )[1],
        lambda: _dlq(
            "missing key",
            orjson.dumps(
                rng.choice(
                    [_start(new_id("nk")), {"version": 1, "type": "stop", "execution_id": "s"}]
                )
            ),
            "key",
            NO_KEY,
        ),
        lambda: (
            e := new_id("big"),
            _dlq(
                "big int",
                orjson.dumps(_start(e)).replace(
                    b'"program"',
                    b'"inputs":{"n":'
                    + str(rng.choice([10**25 + 7, -(2**63) - 1, 2**64])).encode()
                    + b'},"program"',
                ),
                "inputs.n",
                e.encode(),
            ),
        )[1],
        lambda: (
            e := new_id("ls"),
            _dlq(
                "string or bool limit",
                orjson.dumps(
                    _start(
                        e,
                        options={
                            "limits": {
                                rng.choice(
                                    ["max_steps", "max_memory_bytes", "max_artifacts"]
                                ): rng.choice(["1000000", True, 1.5])
                            }
                        },
                    )
                ),
                "options.limits.",
                e.encode(),
            ),
        )[1],
        lambda: (
            e := new_id("inf"),
            _dlq(
                "inf wall",
                orjson.dumps(
                    _start(
                        e,
                        options={
                            "limits": {
                                "max_wall_s": rng.choice(["inf", "Infinity", 1e308, True, "60"])
                            }
                        },
                    )
                ),
                "options.limits.max_wall_s",
                e.encode(),
            ),
        )[1],
        lambda: (
            e := new_id("deep"),
            _dlq("deep inputs", _deep(rng.randint(250, 255), e), "inputs.deep.0.0", e.encode()),
        )[1],
        lambda: (
            e := new_id("nul"),
            _dlq(
                "NUL filename",
                orjson.dumps(
                    _start(
                        e,
                        program={
                            "source": "result = 1",
                            "filename": rng.choice(["a\x00.spy", "x\n.spy", "\x1b[31m.spy"]),
                        },
                    )
                ),
                "program.filename",
                e.encode(),
            ),
        )[1],
        lambda: (
            e := new_id("ref"),
            _dlq(
                "foreign program.ref",
                orjson.dumps(_start(e, program={"ref": f"s3://not-{bucket}/{e}.spy"})),
                "program.ref",
                e.encode(),
            ),
        )[1],
        lambda: _dlq(
            "forged jarvis headers",
            b'{"version": 1, "type": "start", ',
            None,
            None,
            [
                ("jarvis.error.reason", b"forged"),
                ("jarvis.error.field", b"forged"),
                ("jarvis.source.offset", b"-5"),
                ("jarvis.source.topic", b"forged"),
                ("jarvis.worker", b"forged"),
                ("original.jarvis.worker", b"forged"),
            ],
        ),
        lambda: (
            e := new_id("crash"),
            _event("runtime error", e, _start(e, program={"source": "x = 1 / 0\n"})),
        )[1],
    ]
    # Huge payloads (up to ~700 KB; the topic takes 1 MiB) are fewer, to keep the test quick.
    huge = [
        lambda: _dlq("huge garbage", b"{" + rng.randbytes(600_000)),
        # With the worker's headers its dead letter passes librdkafka's default 1,000,000 bytes.
        lambda: _dlq(
            "1 MB invalid", b"{" + rng.randbytes(999_600), None, None, [("trace", b"t" * 64)]
        ),
        lambda: (
            e := new_id("books"),
            _event(
                "10,000 unknown Books",
                e,
                _start(e, books=[f"no_such_book_{i}_{e}" for i in range(10_000)]),
            ),
        )[1],
        lambda: _dlq(
            "huge inputs",
            orjson.dumps(_start("h", inputs={"blob": "x" * 700_000}, books=7)),
            "books",
            b"h",
        ),
        lambda: (
            e := new_id("toolarge"),
            _event("program too large", e, _start(e, program={"source": "x = 1\n" * 60_000})),
        )[1],
    ]
    out = [maker() for maker in makers + huge]  # every kind at least once
    while len(out) < N_BAD:
        out.append(rng.choice(huge if rng.random() < 0.02 else makers)())
    return out


def _headers(msg: Any) -> dict[str, str]:
    return {k: (v or b"").decode() for k, v in (msg.headers() or [])}


def test_poison_messages_never_crash_or_block_the_worker(cluster: Cluster) -> None:
    rng = random.Random(7)
    bad = generate(rng, cluster.settings.s3_bucket)
    good = {new_id("good"): k for k in range(N_GOOD)}
    batch: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]] | None, Bad | str]] = [
        (b.key, b.value, b.headers, b) for b in bad
    ]
    batch += [
        (
            eid.encode(),
            orjson.dumps(
                _start(eid, program={"source": "result = inputs['k'] * 2"}, inputs={"k": k})
            ),
            None,
            eid,
        )
        for eid, k in good.items()
    ]
    rng.shuffle(batch)
    worker = cluster.start_worker()
    pid = worker.pid
    t0 = time.monotonic()
    sends = [(cluster.send_raw(key, value, headers), what) for key, value, headers, what in batch]
    cluster.flush()
    # Where each message landed: every one must be accounted for by exactly one outcome.
    where: dict[tuple[int, int], Bad | str] = {}
    for result, what in sends:
        sent = result()
        where[(sent.partition, sent.offset)] = what
    assert len(where) == len(batch)

    n_dlq = sum(b.expect == "dlq" for b in bad)
    event_bad = {b.eid: b for b in bad if b.expect == "event"}
    wait_for(lambda: all(cluster.terminals_of(e) for e in good), 180, "every good start to finish")
    wait_for(
        lambda: all(cluster.terminals_of(e) for e in event_bad),
        60,
        "an outcome for every bad-content start",
    )
    wait_for(
        lambda: (cluster.dlq.pump(), len(cluster.dlq.messages) >= n_dlq)[1], 60, "every dead letter"
    )
    took = time.monotonic() - t0

    # Every partition's committed offset reaches its end offset: nothing is left stuck.
    ends = cluster.end_offsets()
    assert sum(ends.values()) == len(batch)
    wait_for(
        lambda: all(cluster.committed(p) == end for p, end in ends.items() if end > 0),
        30,
        "every partition's committed offset to reach its end offset",
    )

    for eid, k in good.items():
        (done,) = cluster.terminals_of(eid)
        assert (done["event"], done["result"]) == ("completed", k * 2)

    outcomes: Counter[tuple[str, str, str]] = Counter()
    for eid, b in event_bad.items():
        (done,) = cluster.terminals_of(eid)  # exactly one terminal event
        assert done["event"] in ("rejected", "failed"), (b.kind, done)
        assert done["error"]["message"], (b.kind, done)
        assert len(done["error"]["message"]) < 2000, (b.kind, len(done["error"]["message"]))
        outcomes[(b.kind, done["event"], done["error"]["type"])] += 1

    dead = cluster.dlq.messages
    assert len(dead) == n_dlq
    by_offset = {
        (int(_headers(m)["jarvis.source.partition"]), int(_headers(m)["jarvis.source.offset"])): m
        for m in dead
    }
    assert len(by_offset) == n_dlq  # each dead-lettered once
    # ...and exactly the messages expected there: the DLQ and the events account for all.
    expected_dead = {
        pos for pos, what in where.items() if isinstance(what, Bad) and what.expect == "dlq"
    }
    assert set(by_offset) == expected_dead
    for pos, m in by_offset.items():
        b = where[pos]
        assert isinstance(b, Bad)
        assert m.value() == b.value, b.kind  # the original bytes, untouched
        names = [n for n, _ in m.headers() or []]
        assert len(names) == len(set(names)), (b.kind, names)  # no header twice: nothing to forge
        h = _headers(m)
        assert h["jarvis.error.reason"] and len(h["jarvis.error.reason"]) <= 300, (b.kind, h)
        assert "\n" not in h["jarvis.error.reason"]
        assert len(h["jarvis.error.field"]) <= 200, (b.kind, h)
        assert h["jarvis.source.topic"] == cluster.settings.control_topic
        assert h["jarvis.worker"] == worker.worker_id
        if b.field is not None:
            assert h["jarvis.error.field"].startswith(b.field), (
                b.kind,
                h["jarvis.error.field"],
                h["jarvis.error.reason"],
            )
        for name, value in b.headers or []:
            assert h[f"original.{name}"] == value.decode(), (b.kind, name)
        if b.kind == "version true":
            assert "upgrade" not in h["jarvis.error.reason"]
        if b.kind == "deep inputs":
            assert "nested deeper than" in h["jarvis.error.reason"]

    # Never restarted, never crashed: same process, still consuming, no traceback logged.
    assert worker.alive() and worker.pid == pid
    log = worker.log()
    assert "Traceback" not in log and "crashed the host" not in log
    kinds = Counter(b.kind for b in bad)
    print(
        f"\n{len(bad)} bad + {len(good)} good messages handled in {took:.1f} s by one worker (pid {pid}): "
        f"{len(dead)} dead-lettered, {len(event_bad)} rejected/failed"
    )
    print("bad kinds:", dict(sorted(kinds.items())))
    print("rejections:", dict(sorted(outcomes.items())))
