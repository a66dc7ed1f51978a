"""Liveness, readiness and Prometheus metrics over HTTP (no control API: that is Kafka's job).

- ``/livez``: the consume loop turned recently (a wedged loop gets the pod restarted).
- ``/readyz``: Kafka, Redis, the checkpoint volume and the object store all answer; the
  body gives each dependency's status. The checks run concurrently, each in a thread of its
  own, and the answer never waits longer than ``deadline_s`` for them (a check that has not
  answered by then counts as failing, and is not started again while it hangs), so a probe
  with a timeout above that deadline never times out. Results are cached briefly so probes
  stay cheap.
- ``/metrics``: Prometheus text format: the default registry (``jarvis.telemetry.metrics``,
  plus the process and Python collectors).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

from jarvis.telemetry import metrics
from jarvis.worker.hooks import WorkerHooks

log = logging.getLogger("jarvis.worker")

Check = Callable[[], None]
"""Raises when the dependency is not usable."""


class Metrics(WorkerHooks):
    """The worker's events as metrics (``jarvis.telemetry.metrics``, the default registry)."""

    MAX_WAITING = 100_000
    """Most admission times kept for the queue-wait histogram (an execution forgotten
    without an outcome, e.g. handed off before it started, must not leak forever)."""

    def __init__(self) -> None:
        self.registry: CollectorRegistry = REGISTRY
        self._admitted: dict[str, float] = {}  # execution id -> admission (monotonic)

    def accepted(self, execution_id: str) -> None:
        metrics.ACCEPTED.inc()
        if len(self._admitted) >= self.MAX_WAITING:
            self._admitted.clear()
        self._admitted[execution_id] = time.monotonic()

    def started(self, execution_id: str) -> None:
        admitted = self._admitted.pop(execution_id, None)
        if admitted is not None:
            metrics.QUEUE_WAIT.observe(time.monotonic() - admitted)

    def outcome(
        self, execution_id: str, event: str, error_type: str | None, duration_s: float
    ) -> None:
        self._admitted.pop(execution_id, None)
        metrics.execution(event, error_type, duration_s)

    def finished(self, execution_id: str, event: str, duration_s: float) -> None:
        self.outcome(execution_id, event, None, duration_s)

    def handed_off(self, execution_id: str) -> None:
        self._admitted.pop(execution_id, None)
        metrics.HANDED_OFF.inc()

    def dead_lettered(self, reason: str) -> None:
        metrics.DEAD_LETTERS.labels(metrics.dead_letter_reason(reason)).inc()

    def rebalanced(self, assigned: int) -> None:
        metrics.REBALANCES.inc()
        metrics.PARTITIONS.set(assigned)

    def load(self, running: int, capacity: int) -> None:
        metrics.IN_FLIGHT.set(running)
        metrics.CAPACITY.set(capacity)


class Health:
    def __init__(
        self,
        checks: dict[str, Check],
        metrics: Metrics,
        cache_s: float = 2.0,
        live_after_s: float = 60.0,
        deadline_s: float = 0.8,
    ) -> None:
        self.checks = checks
        self.metrics = metrics
        self.cache_s = cache_s
        self.live_after_s = live_after_s
        self.deadline_s = deadline_s
        self.last_turn = time.monotonic()
        self._cached: tuple[float, dict[str, str]] = (0.0, {})
        self._lock = threading.Lock()
        self._running: dict[str, threading.Thread] = {}  # checks still running, by name
        self.server: ThreadingHTTPServer | None = None

    def turned(self) -> None:
        """Called by the consume loop on every turn."""
        self.last_turn = time.monotonic()

    def live(self) -> bool:
        return time.monotonic() - self.last_turn < self.live_after_s

    def problems(self) -> dict[str, str]:
        """Failing checks, name -> error; empty when ready. Returns within ``deadline_s``
        (plus scheduling) whatever the checks do; concurrent callers share one evaluation."""
        with self._lock:
            at, cached = self._cached
            if time.monotonic() - at < self.cache_s:
                return cached
            results: dict[str, str | None] = {}
            finished = {name: threading.Event() for name in self.checks}
            for name, check in self.checks.items():
                if (thread := self._running.get(name)) is not None and thread.is_alive():
                    continue  # still hanging since an earlier probe: don't pile threads up
                thread = threading.Thread(
                    target=self._run,
                    args=(check, name, results, finished[name]),
                    name=f"jarvis-health-{name}",
                    daemon=True,
                )
                self._running[name] = thread
                thread.start()
            deadline = time.monotonic() + self.deadline_s
            for event in finished.values():
                event.wait(max(0.0, deadline - time.monotonic()))
            failing = {}
            for name in self.checks:
                if not finished[name].is_set():
                    failing[name] = f"no answer within {self.deadline_s:g} s"
                elif (error := results.get(name)) is not None:
                    failing[name] = error
            self._cached = (time.monotonic(), failing)
            return failing

    @staticmethod
    def _run(
        check: Check, name: str, results: dict[str, str | None], done: threading.Event
    ) -> None:
        try:
            check()
        except Exception as exc:
            results[name] = f"{type(exc).__name__}: {exc}"
        else:
            results[name] = None
        done.set()

    def report(self) -> tuple[bool, str]:
        """Readiness and the body of ``/readyz``: one line per dependency."""
        failing = self.problems()
        lines = [
            f"{name}: failing: {failing[name]}" if name in failing else f"{name}: ok"
            for name in self.checks
        ]
        return not failing, "".join(line + "\n" for line in lines)

    def serve(self, host: str, port: int) -> int:
        """Serve in a daemon thread; returns the bound port (pass 0 for any free one)."""
        health = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/livez":
                    ok = health.live()
                    self._send(200 if ok else 503, b"ok\n" if ok else b"consume loop stalled\n")
                elif self.path == "/readyz":
                    ready, body = health.report()
                    self._send(200 if ready else 503, body.encode())
                elif self.path == "/metrics":
                    self._send(200, generate_latest(health.metrics.registry), CONTENT_TYPE_LATEST)
                else:
                    self._send(404, b"not found\n")

            def _send(
                self, code: int, body: bytes, ctype: str = "text/plain; charset=utf-8"
            ) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # probes every few seconds would drown the worker's log

        self.server = ThreadingHTTPServer((host, port), Handler)
        threading.Thread(
            target=self.server.serve_forever, name="jarvis-health", daemon=True
        ).start()
        return int(self.server.server_address[1])

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
