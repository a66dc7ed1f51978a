"""librdkafka's own log lines, routed through Python logging and rate-limited.

Every client Jarvis builds gets ``logger=ROUTER`` (``jarvis.kafka.config.base_config``):
confluent-kafka then hands each librdkafka log line to ``ROUTER.log(level, fmt, *args)``
instead of writing it to stderr itself. The router passes it on to the ``jarvis.kafka``
logger, so the lines come out through the process's own handlers (the worker's format, or
nothing in the CLI unless ``--debug``).

A broker that is down makes librdkafka repeat the same few lines on every reconnect of
every client (hundreds a minute from one worker). The router lets ``BURST`` lines of one kind
(level and librdkafka facility: ``FAIL``, ``ERROR``, ``REQTMOUT``...) through per
``WINDOW_S``, counts the rest, and appends ``(N similar suppressed)`` to the next line of that
kind that gets through. Debug lines (``JARVIS_KAFKA_SECURITY='{"debug": "..."}'``) are
never suppressed: whoever asked for them wants all of them.

confluent-kafka queues the lines and delivers them only inside ``poll()``/``flush()`` of the
client that made them (never from librdkafka's own threads), so a client nobody polls keeps
its lines queued: the worker polls its admin client on each loop turn for that reason.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

LOGGER_NAME = "jarvis.kafka"

WINDOW_S = 60.0
"""Length of one rate-limit window, seconds."""

BURST = 3
"""Lines of one kind let through per window: enough to see what is wrong and that it goes
on, few enough that a down broker gives a handful of lines a minute, not hundreds."""


@dataclass
class _Window:
    start: float
    passed: int = 0
    suppressed: int = 0


class KafkaLogRouter:
    """confluent-kafka's ``logger=``: ``log(level, "%s [%s] %s", facility, client, message)``."""

    def __init__(
        self,
        logger: logging.Logger | None = None,
        window_s: float = WINDOW_S,
        burst: int = BURST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger or logging.getLogger(LOGGER_NAME)
        self.window_s = window_s
        self.burst = burst
        self.clock = clock
        self._windows: dict[tuple[int, str], _Window] = {}
        self._lock = threading.Lock()

    def log(self, level: int, fmt: str, *args: object) -> None:
        if not self.logger.isEnabledFor(level):
            return
        if level <= logging.DEBUG:
            self.logger.log(level, fmt, *args)
            return
        facility = str(args[0]) if args else fmt
        now = self.clock()
        with self._lock:
            window = self._windows.get((level, facility))
            if window is None:
                window = self._windows[(level, facility)] = _Window(now)
            elif now - window.start >= self.window_s:
                window.start, window.passed = now, 0
            if window.passed >= self.burst:
                window.suppressed += 1
                return
            window.passed += 1
            suppressed, window.suppressed = window.suppressed, 0
        if suppressed:
            self.logger.log(level, fmt + " (%d similar suppressed)", *args, suppressed)
        else:
            self.logger.log(level, fmt, *args)


class ProblemRecorder:
    """A ``logger=`` for one client that remembers its last warning or error (the cause a
    failed metadata request does not carry: "Connection refused", a TLS or SASL failure)
    and passes every line on to ``router``."""

    def __init__(self, router: KafkaLogRouter) -> None:
        self.router = router
        self.last: str | None = None

    def log(self, level: int, fmt: str, *args: object) -> None:
        if level >= logging.WARNING and len(args) == 3:
            self.last = str(args[2])
        self.router.log(level, fmt, *args)


ROUTER = KafkaLogRouter()
"""The one router every client shares, so the rate limit holds for the whole process."""
