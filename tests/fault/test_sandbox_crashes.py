"""A hostile program ends alone (DESIGN.md §2): its sandbox dies, the worker goes on.

One real ``jarvis worker`` process on the real stack runs 20 good executions while a bad
one's sandbox dies: a SIGSEGV delivered to the sandbox mid-run (twice: K = 2 attempts), a
program that runs into the OS memory cap, and a sandbox frozen in place (SIGSTOP: like a
single C-level operation that never returns) that gets a stop. Every good execution
completes, the bad one fails with ``SandboxCrashed`` after at most K attempts (or is
stopped), every control offset is committed, and the worker process is the same pid
throughout.
"""

from __future__ import annotations

import signal
import threading

import pytest

from jarvis.journal import Crash, Journal
from tests.fault.cluster import Cluster, WorkerProc
from tests.helpers import new_id, wait_for
from tests.sandbox.helpers import Killer, sandboxes_of_worker

pytestmark = pytest.mark.integration

GOOD = "x = inputs['i']\ny = [x * k for k in range(100)]\nresult = sum(y)\n"
LOOP = "i = 0\nwhile True:\n    i += 1\n"
MiB = 1024 * 1024


def _start_good(cluster: Cluster, n: int = 20) -> list[tuple[str, int]]:
    """``n`` good starts; returns (execution id, expected result) pairs."""
    eids = [(new_id("good"), i) for i in range(n)]
    for eid, i in eids:
        cluster.start(eid, source=GOOD, inputs={"i": i}, books=(), wait=False)
    cluster.flush()
    return [(eid, sum(i * k for k in range(100))) for eid, i in eids]


def _check_good(cluster: Cluster, good: list[tuple[str, int]]) -> None:
    for eid, expected in good:
        ev = cluster.terminal(eid, timeout_s=120)
        assert ev["event"] == "completed", ev
        assert ev["result"] == expected


def _finish(cluster: Cluster, worker: WorkerProc, pid: int) -> None:
    wait_for(cluster.caught_up, 60, "every control offset committed", interval_s=0.5)
    assert worker.alive() and worker.pid == pid, "the worker process never restarted"
    assert len(cluster.workers) == 1


@pytest.fixture
def one_worker(cluster: Cluster) -> tuple[Cluster, WorkerProc]:
    worker = cluster.start_worker(JARVIS_MAX_CONCURRENCY="4", JARVIS_MAX_SANDBOX_CRASHES="2")
    return cluster, worker


def _crashes(cluster: Cluster, eid: str) -> list[Crash]:
    return Journal.read(cluster.checkpoint_dir, eid).crashes


def test_a_sandbox_killed_mid_run_fails_only_its_execution(
    one_worker: tuple[Cluster, WorkerProc],
) -> None:
    cluster, worker = one_worker
    pid = worker.pid
    bad = new_id("segv")
    with Killer(lambda: sandboxes_of_worker(pid), signal.SIGSEGV, times=2, busy_s=1.0) as killer:
        cluster.start(bad, source=LOOP, books=(), log_level="effects")
        good = _start_good(cluster)
        ev = cluster.terminal(bad, timeout_s=120)
    assert len(killer.signalled) == 2
    assert ev["event"] == "failed" and ev["error"]["type"] == "SandboxCrashed", ev
    assert "SIGSEGV" in ev["error"]["message"] and "attempt 2 of 2" in ev["error"]["message"]
    assert [c.attempt for c in _crashes(cluster, bad)] == [1, 2]
    _check_good(cluster, good)
    # The first crash was retried by replay: the bad execution announced a resume.
    assert [e["event"] for e in cluster.events_of(bad)].count("resumed") == 1
    _finish(cluster, worker, pid)


def test_a_program_at_the_os_memory_cap_fails_only_its_execution(cluster: Cluster) -> None:
    cap = 160 * MiB
    worker = cluster.start_worker(
        JARVIS_MAX_CONCURRENCY="4",
        JARVIS_MAX_SANDBOX_CRASHES="2",
        # The meter would stop this at max_memory_bytes (256 MiB); the OS cap trips first.
        JARVIS_SANDBOX_MEMORY_CAP_BYTES=str(cap),
    )
    pid = worker.pid
    bad = new_id("oom")
    good = _start_good(cluster, 10)
    cluster.start(
        bad,
        source="x = []\nwhile True:\n    x.append([len(x)] * 1000)\n",
        books=(),
        log_level="effects",
        inputs={},
    )
    more = _start_good(cluster, 10)
    ev = cluster.terminal(bad, timeout_s=120)
    assert ev["event"] == "failed" and ev["error"]["type"] == "SandboxCrashed", ev
    assert "memory cap" in ev["error"]["message"]
    crashes = _crashes(cluster, bad)
    assert len(crashes) == 2 and all(c.cause == "memory cap" for c in crashes)
    # The backstop, read from the OS: the sandbox's peak RSS stayed under its cap (plus what
    # it had mapped before the run).
    assert all(c.peak_rss is not None and c.peak_rss < cap + 128 * MiB for c in crashes), crashes
    _check_good(cluster, good + more)
    _finish(cluster, worker, pid)


def test_a_stop_ends_a_sandbox_stuck_in_one_operation(
    one_worker: tuple[Cluster, WorkerProc],
) -> None:
    cluster, worker = one_worker
    pid = worker.pid
    bad = new_id("stuck")
    frozen = threading.Event()

    def freeze() -> None:
        with Killer(lambda: sandboxes_of_worker(pid), signal.SIGSTOP, times=1, busy_s=0.5) as k:
            k.thread.join(60)
        frozen.set()

    threading.Thread(target=freeze, daemon=True).start()
    cluster.start(bad, source=LOOP, books=(), log_level="effects")
    good = _start_good(cluster)
    assert frozen.wait(60), "the bad execution's sandbox never got busy"
    cluster.stop(bad, "cancel")
    ev = cluster.terminal(bad, timeout_s=60)
    assert ev["event"] == "stopped" and ev["stop_mode"] == "cancel", ev
    assert _crashes(cluster, bad) == [], "a stop is not a crash"
    _check_good(cluster, good)
    _finish(cluster, worker, pid)
