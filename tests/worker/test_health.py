"""Readiness: checks run concurrently, the answer never waits past the deadline for a hanging
one, a hanging check is not started again, and the body names every dependency."""

from __future__ import annotations

import threading

from jarvis.worker.health import Health, Metrics

HANG_S = 30.0  # only a hang guard: nothing asserts on time


def make(checks: dict[str, object], **kw: object) -> Health:
    return Health(checks, Metrics(), cache_s=0.0, **kw)  # type: ignore[arg-type]


def test_all_ok_reports_every_dependency() -> None:
    health = make({"kafka": lambda: None, "redis": lambda: None})
    assert health.report() == (True, "kafka: ok\nredis: ok\n")


def test_a_failing_check_is_named_with_its_error() -> None:
    def redis() -> None:
        raise ConnectionError("connection refused at 127.0.0.1:6379")

    health = make({"kafka": lambda: None, "redis": redis})
    ready, body = health.report()
    assert not ready
    assert (
        body == "kafka: ok\nredis: failing: ConnectionError: connection refused at 127.0.0.1:6379\n"
    )


def test_checks_run_concurrently() -> None:
    # Each check waits for the other to have started: run one after the other, both would
    # wait out the barrier's timeout and fail.
    barrier = threading.Barrier(2, timeout=5)
    health = make({"a": barrier.wait, "b": barrier.wait}, deadline_s=10)
    assert health.problems() == {}


def test_a_hanging_check_does_not_hold_the_answer_and_is_not_started_twice() -> None:
    release = threading.Event()
    starts: list[int] = []

    def hanging() -> None:
        starts.append(1)
        release.wait(30)

    # Only the hanging check: an answering one would have to answer within the short
    # deadline, which a loaded machine does not promise.
    health = make({"kafka": hanging}, deadline_s=0.05)
    first = health.problems()
    assert not release.is_set()  # it returned while the check still hangs
    assert first == {"kafka": "no answer within 0.05 s"}
    assert health.problems() == {"kafka": "no answer within 0.05 s"}
    assert starts == [1]  # the second probe did not start a second thread for it
    release.set()
    for thread in list(health._running.values()):
        thread.join(HANG_S)
    health.deadline_s = HANG_S  # from here on the deadline is only a hang guard
    assert health.problems() == {}  # answered now: started again, and ok
    assert starts == [1, 1]


def test_results_are_cached_between_probes() -> None:
    calls: list[int] = []
    health = Health({"kafka": lambda: calls.append(1)}, Metrics(), cache_s=60.0)
    health.problems()
    health.problems()
    assert calls == [1]
