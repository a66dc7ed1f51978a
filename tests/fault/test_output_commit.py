"""The end of an execution is journaled only once its log is on the broker.

Found by ``scripts/chaos``: a worker SIGKILLed a few milliseconds after journaling an
execution's end, with its last log records still in the producer's queue, lost them for good
(the next owner finds the end and only re-announces the outcome). The worker's journal fence
(``OutputFence``) now delivers the output first. Kills cannot be aimed at a 30 ms window
reliably, so these tests drive the same code in process: real lease (Redis), real journal,
and a ``flush`` standing in for the producer's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis

from jarvis.artifacts import LocalArtifactStore
from jarvis.books import BookRegistry
from jarvis.contract.messages import ProgramSpec, StartCommand
from jarvis.execution.config import RunConfig
from jarvis.execution.runner import run_execution
from jarvis.execution.sinks import ListSink
from jarvis.journal import Journal
from jarvis.journal.journal import JOURNAL_FILE
from jarvis.worker.lease import Leases, OutputFence
from tests.fault.books import CounterConfig, counter, expected_total
from tests.fault.cluster import CHAIN_PROGRAM
from tests.helpers import new_id, new_uid

pytestmark = pytest.mark.integration


@pytest.fixture
def setup(stack_env: dict[str, str], tmp_path: Path) -> Any:
    r = redis.Redis.from_url(stack_env["JARVIS_REDIS_URL"])
    key = f"jarvis:fault:output:{new_uid()}"
    registry = BookRegistry()
    registry.register(
        counter, config=CounterConfig(redis_url=stack_env["JARVIS_REDIS_URL"], log_key=key)
    )
    eid = new_id("output")
    command = StartCommand(
        execution_id=eid,
        program=ProgramSpec(source=CHAIN_PROGRAM),
        inputs={"n": 4, "seed": 9},
        books=["counter"],
    )
    base = RunConfig(
        journal_root=tmp_path / "j",
        worker_id="pod",
        artifacts=LocalArtifactStore(tmp_path / "art"),
        books=registry,
        procedures=registry.procedures(["counter"]),
    )
    yield r, eid, command, base
    r.delete(key)


def test_the_log_is_flushed_before_the_end_is_journaled(setup: Any) -> None:
    r, eid, command, base = setup
    lease = Leases(r, "pod", ttl_s=5).acquire(eid)
    assert lease is not None
    sink = ListSink()
    seen: list[tuple[int, bool]] = []

    def flush(_timeout_s: float) -> bool:
        on_disk = (base.journal_root / eid / JOURNAL_FILE).read_bytes()
        seen.append((len(sink.records), b'"t":"end"' in on_disk))
        return True

    out = run_execution(
        command,
        CHAIN_PROGRAM,
        dataclasses.replace(base, fence=OutputFence(lease, Output(flush), lambda: False)),
        sink,
    )
    assert (out.event.event, out.event.result) == ("completed", expected_total(9, 4))
    # Flushed once, with every record already produced and no end on disk yet.
    assert seen == [(out.event.log_records, False)]
    assert Journal.open(base.journal_root, eid).end is not None


class Output:
    """What OutputFence needs of the worker's Outbox: a wait, and how many deliveries failed."""

    def __init__(self, wait: Callable[[float], bool], failures: int = 0) -> None:
        self.wait = wait
        self.failures = failures


def test_an_undeliverable_log_keeps_the_journal_open_and_the_next_run_re_emits_it(
    setup: Any,
) -> None:
    r, eid, command, base = setup
    leases = Leases(r, "pod", ttl_s=5)
    lease = leases.acquire(eid)
    assert lease is not None
    lost = ListSink()  # the producer queue of a worker that is about to be killed
    fence = OutputFence(
        lease, Output(lambda _t: False), lambda: True
    )  # Kafka unreachable; handing off
    out = run_execution(command, CHAIN_PROGRAM, dataclasses.replace(base, fence=fence), lost)
    assert out.handoff
    assert Journal.open(base.journal_root, eid).end is None  # nothing claims the log was delivered
    leases.release(lease)

    lease2 = Leases(r, "pod-2", ttl_s=5).acquire(eid)
    assert lease2 is not None
    sink = ListSink()
    out2 = run_execution(
        command,
        CHAIN_PROGRAM,
        dataclasses.replace(
            base, fence=OutputFence(lease2, Output(lambda _t: True), lambda: False)
        ),
        sink,
    )
    assert (out2.event.event, out2.event.result) == ("completed", expected_total(9, 4))
    assert [e.event for e in sink.events] == ["resumed"]
    # The replay re-emitted the whole log: every seq reaches the broker at least once.
    assert [rec["seq"] for rec in sink.records] == list(range(out2.event.log_records))
