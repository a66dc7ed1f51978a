"""Split ownership: two owners of one execution; only the lease holder's writes count.

Two in-process owners (``run_execution`` with leases from ``jarvis.worker.lease.Leases`` on
the real Redis, journals on disk) and two worker processes (one SIGSTOPped until the group
and the lease move on) each play a rebalance race out.
"""

from __future__ import annotations

import dataclasses
import signal
import threading
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis

from jarvis.artifacts import LocalArtifactStore
from jarvis.books import BookRegistry
from jarvis.contract.messages import ProgramSpec, StartCommand
from jarvis.execution.config import RunConfig
from jarvis.execution.runner import Outcome, run_execution
from jarvis.execution.sinks import ListSink
from jarvis.journal import FenceMark, Journal, Record
from jarvis.journal.journal import JOURNAL_FILE
from jarvis.worker.lease import FencedBooks, Leases
from tests.fault.books import CounterConfig, counter, expected_total
from tests.fault.cluster import CHAIN_PROGRAM, Cluster, audit
from tests.helpers import new_id, new_uid, wait_for

pytestmark = pytest.mark.integration

N = 8  # Book calls; with sleep_s 0 effect seq == call index
PAUSE_AT = 3  # the first owner is frozen with call #3 made but not journaled
OWNER_TTL_S = 60.0
"""The lease TTL of the owner that takes over (B, C). Nobody renews leases in these tests:
only A's short TTL (2 s) is part of the scenario, and B's run (N journal fsyncs) must not
lose its own lease when the machine is slow (CI: B came back ``stopped`` with a 2 s TTL)."""


@pytest.fixture
def world(stack_env: dict[str, str], tmp_path: Path) -> Any:
    r = redis.Redis.from_url(stack_env["JARVIS_REDIS_URL"])
    key = f"jarvis:fault:split:{new_uid()}"
    registry = BookRegistry()
    registry.register(
        counter,
        config=CounterConfig(
            redis_url=stack_env["JARVIS_REDIS_URL"], log_key=key, journal_root=tmp_path / "j"
        ),
    )
    eid = new_id("split")
    command = StartCommand(
        execution_id=eid,
        program=ProgramSpec(source=CHAIN_PROGRAM),
        inputs={"n": N, "seed": 11},
        books=["counter"],
    )
    base = RunConfig(
        journal_root=tmp_path / "j",
        worker_id="pod-a",
        artifacts=LocalArtifactStore(tmp_path / "art"),
        books=registry,
        procedures=registry.procedures(["counter"]),
    )
    yield r, key, eid, command, base
    r.delete(key)


def _calls(r: redis.Redis, key: str) -> list[dict[str, Any]]:
    return [orjson.loads(x) for x in r.lrange(key, 0, -1)]


def _raw(root: Path, eid: str) -> list[Record]:
    """Every whole record on disk, stale owners' included (read only)."""
    return Journal.read(root, eid).lines


class _Frozen:
    """A fault hook freezing the owner at ``point`` of call #PAUSE_AT (default: the call
    returned, its result not journaled yet)."""

    def __init__(self, point: str = "effect_returned") -> None:
        self.point = point
        self.reached = threading.Event()
        self.thaw = threading.Event()

    def __call__(self, point: str, seq: int) -> None:
        if point == self.point and seq == PAUSE_AT:
            self.reached.set()
            self.thaw.wait(60)


def _run_in_thread(
    command: StartCommand, config: RunConfig, sink: ListSink
) -> tuple[threading.Thread, dict[str, Outcome]]:
    out: dict[str, Outcome] = {}
    t = threading.Thread(
        target=lambda: out.update(o=run_execution(command, CHAIN_PROGRAM, config, sink)),
        daemon=True,
    )
    t.start()
    return t, out


def test_the_owner_whose_lease_lapsed_stops_writing(world: Any) -> None:
    r, key, eid, command, base = world
    leases_a, leases_b = Leases(r, "pod-a", ttl_s=2.0), Leases(r, "pod-b", ttl_s=OWNER_TTL_S)
    lease_a = leases_a.acquire(eid)
    assert lease_a is not None
    frozen = _Frozen()
    sink_a = ListSink()
    thread, out_a = _run_in_thread(
        command, dataclasses.replace(base, fence=lease_a, fault=frozen), sink_a
    )
    assert frozen.reached.wait(30)
    # Pod A is frozen (nobody renews its lease): pod B gets the lease once it lapses in Redis.
    assert leases_b.acquire(eid) is None
    lease_b = wait_for(lambda: leases_b.acquire(eid), 10, "pod B to get the lapsed lease")
    assert lease_b.token > lease_a.token
    sink_b = ListSink()
    out_b = run_execution(
        command, CHAIN_PROGRAM, dataclasses.replace(base, worker_id="pod-b", fence=lease_b), sink_b
    )
    assert (out_b.event.event, out_b.event.result) == ("completed", expected_total(11, N))
    assert [e.event for e in sink_b.events] == ["resumed"]
    size = (base.journal_root / eid / JOURNAL_FILE).stat().st_size

    frozen.thaw.set()  # pod A wakes up, holding call #3's result, and tries to journal it
    thread.join(30)
    assert out_a["o"].handoff, out_a["o"]  # it noticed it lost the lease and stopped...
    assert (base.journal_root / eid / JOURNAL_FILE).stat().st_size == size  # ...without writing
    assert not any(e.terminal for e in sink_a.events)

    journal = Journal.open(base.journal_root, eid)
    assert journal.end is not None and journal.end.k == lease_b.token
    assert [(e.seq, e.k) for e in journal.effects] == [
        (s, lease_a.token if s < PAUSE_AT else lease_b.token) for s in range(N)
    ]
    calls = _calls(r, key)
    assert not any(c["journaled"] for c in calls)
    per_key = {c["key"]: [x for x in calls if x["key"] == c["key"]] for c in calls}
    assert len(per_key) == N
    # Only the call in flight when A froze was made twice (same idempotency key).
    assert [k for k, v in per_key.items() if len(v) > 1] == [f"{eid}:{PAUSE_AT}"]


def test_the_owner_whose_lease_lapsed_makes_no_book_call(world: Any) -> None:
    """Frozen *before* a Book call (the worker wraps its Books in ``FencedBooks``): on waking
    it must not call the Book for an effect the new owner has already journaled."""
    r, key, eid, command, base = world
    leases_a, leases_b = Leases(r, "pod-a", ttl_s=2.0), Leases(r, "pod-b", ttl_s=OWNER_TTL_S)
    lease_a = leases_a.acquire(eid)
    assert lease_a is not None
    frozen = _Frozen("effect_started")
    config_a = dataclasses.replace(
        base, fence=lease_a, fault=frozen, books=FencedBooks(base.books, lease_a)
    )
    thread, out_a = _run_in_thread(command, config_a, ListSink())
    assert frozen.reached.wait(30)
    lease_b = wait_for(lambda: leases_b.acquire(eid), 10, "pod B to get the lapsed lease")
    out_b = run_execution(
        command,
        CHAIN_PROGRAM,
        dataclasses.replace(base, worker_id="pod-b", fence=lease_b),
        ListSink(),
    )
    assert out_b.event.event == "completed"
    frozen.thaw.set()
    thread.join(30)
    assert out_a["o"].handoff
    calls = _calls(r, key)
    assert sum(c["key"] == f"{eid}:{PAUSE_AT}" for c in calls) == 1  # B's, not A's after waking
    assert not any(c["journaled"] for c in calls)
    assert len(calls) == N  # every call made exactly once


class _StaleFence:
    """A writer that does not know it lost the lease (a paused VM whose clock jumped): its
    own check passes, so only the fencing token on its records can protect the journal."""

    def __init__(self, token: int) -> None:
        self.token = token

    def check(self) -> None:
        return None


def test_records_with_a_stale_fencing_token_are_ignored_on_read(world: Any) -> None:
    r, _key, eid, command, base = world
    leases_a, leases_b = Leases(r, "pod-a", ttl_s=2.0), Leases(r, "pod-b", ttl_s=OWNER_TTL_S)
    lease_a = leases_a.acquire(eid)
    assert lease_a is not None
    frozen = _Frozen()
    stale = _StaleFence(lease_a.token)
    thread, out_a = _run_in_thread(
        command, dataclasses.replace(base, fence=stale, fault=frozen), ListSink()
    )
    assert frozen.reached.wait(30)
    lease_b = wait_for(lambda: leases_b.acquire(eid), 10, "pod B to get the lapsed lease")
    out_b = run_execution(
        command,
        CHAIN_PROGRAM,
        dataclasses.replace(base, worker_id="pod-b", fence=lease_b),
        ListSink(),
    )
    assert out_b.event.event == "completed"

    frozen.thaw.set()  # A goes on writing as if nothing happened, to the very end
    thread.join(30)
    assert out_a["o"].event.event == "completed"
    raw = _raw(base.journal_root, eid)
    fence_b = next(
        i for i, rec in enumerate(raw) if type(rec) is FenceMark and rec.k == lease_b.token
    )
    late = [rec for rec in raw[fence_b:] if rec.k == lease_a.token]
    assert len(late) >= N - PAUSE_AT + 1  # A's effects #3.. and its end record did land on disk

    journal = Journal.open(base.journal_root, eid)  # ...and are ignored on read
    assert all(rec.k == lease_b.token for rec in journal.effects if rec.seq >= PAUSE_AT)
    assert [e.seq for e in journal.effects] == list(range(N))
    assert journal.end is not None and journal.end.k == lease_b.token
    # Replaying the journal once more gives B's history: the same result, no new call.
    leases_b.release(lease_b)
    lease_c = Leases(r, "pod-c", ttl_s=OWNER_TTL_S).acquire(eid)
    assert lease_c is not None
    out_c = run_execution(
        command,
        CHAIN_PROGRAM,
        dataclasses.replace(base, worker_id="pod-c", fence=lease_c),
        ListSink(),
    )
    assert out_c.reannounced and out_c.event.result == expected_total(11, N)


def test_a_frozen_worker_process_cannot_write_after_another_took_over(cluster: Cluster) -> None:
    a, b = cluster.start_workers(2)
    expected = {}
    for k in range(6):
        eid = new_id("frozen")
        expected[eid] = expected_total(k, 30)
        cluster.start(eid, inputs={"n": 30, "seed": k, "hold_s": 0.02, "sleep_s": 0.1})

    def on(worker_id: str) -> list[str]:
        return [e for e, w in cluster.lease_holders(expected).items() if w == worker_id]

    victim = wait_for(
        lambda: next((w for w in (a, b) if on(w.worker_id)), None),
        30,
        "a worker running executions",
    )
    other = b if victim is a else a
    victims = on(victim.worker_id)
    victim.signal(signal.SIGSTOP)
    try:
        # The frozen worker's leases lapse; the other worker takes its executions over (the
        # group would only evict the frozen member at its session timeout).
        for eid in victims:
            # "started" when it froze between taking its lease and journaling its start.
            wait_for(
                lambda eid=eid: any(
                    e["event"] in ("resumed", "started") and e["worker"] == other.worker_id
                    for e in cluster.events_of(eid)
                ),
                150,
                f"{eid} resumed elsewhere",
            )
    finally:
        victim.signal(signal.SIGCONT)
    for eid in expected:
        wait_for(
            lambda eid=eid: any(e["event"] == "completed" for e in cluster.events_of(eid)),
            60,
            f"{eid} completed",
        )
    # The thawed worker notices, hands off, and stays alive. Which of its threads notices
    # first is a race: the lease keeper's renewal ("lease of ... was lost"), or an execution
    # thread whose fence check failed ("... lost its lease; resuming it ... once it is ours").
    backed_off = ("lease of", "lost its lease", "handed off")
    wait_for(
        lambda: any(m in victim.log() for m in backed_off), 30, "the thawed worker to back off"
    )
    assert victim.alive()
    cluster.stop_workers()
    for eid in victims:
        raw = _raw(cluster.checkpoint_dir, eid)
        journal = Journal.read(cluster.checkpoint_dir, eid)
        assert journal.end is not None and journal.end.k is not None
        winner = journal.end.k  # the owner that finished it (the other worker)
        takeover = next(
            i for i, rec in enumerate(raw) if type(rec) is FenceMark and rec.k == winner
        )
        stale = [rec for rec in raw[takeover:] if (rec.k or 0) < winner]
        print(f"\n{eid}: stale records written after the take-over: {len(stale)} (ignored on read)")
        assert [e.seq for e in journal.effects] == list(range(len(journal.effects)))
        assert not any(rec in journal.records for rec in stale)
    a_ = audit(cluster, expected)
    assert a_.problems == []
    assert a_.completed == len(expected) and a_.journaled_repeated == 0
    for eid in victims:  # the frozen worker never announced an outcome for what it lost
        assert not any(
            e["worker"] == victim.worker_id and e["event"] == "completed"
            for e in cluster.events_of(eid)
        )
