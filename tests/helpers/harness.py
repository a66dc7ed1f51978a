"""In-process workers on fresh topics, and readers of everything they produce (the
integration suite's ``harness`` fixture)."""

from __future__ import annotations

import threading
from typing import Any

from jarvis.contract.messages import LifecycleEvent
from jarvis.settings import Settings
from jarvis.worker.loop import Worker
from tests.helpers.kafka import TopicReader
from tests.helpers.waiting import wait_for


class Harness:
    """Worker threads on ``settings``, and readers of its events, logs and dead letters."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.events = TopicReader(settings.kafka_bootstrap, settings.events_topic)
        self.logs = TopicReader(settings.kafka_bootstrap, settings.logs_topic)
        self.dlq = TopicReader(settings.kafka_bootstrap, settings.dlq_topic)
        self.workers: list[tuple[Worker, threading.Thread]] = []

    def start_worker(self, **overrides: Any) -> Worker:
        s = self.settings.model_copy(update=overrides) if overrides else self.settings
        worker = Worker(s)
        thread = threading.Thread(
            target=worker.run, name=f"worker-{len(self.workers)}", daemon=True
        )
        thread.start()
        self.workers.append((worker, thread))
        return worker

    def events_for(self, eid: str) -> list[LifecycleEvent]:
        self.events.pump()
        return [LifecycleEvent.model_validate(v) for v in self.events.by_eid.get(eid, [])]

    def logs_for(self, eid: str) -> list[dict[str, Any]]:
        self.logs.pump()
        return list(self.logs.by_eid.get(eid, []))

    def terminal(self, eid: str, timeout_s: float = 60.0) -> LifecycleEvent:
        def find() -> LifecycleEvent | None:
            return next((e for e in self.events_for(eid) if e.terminal), None)

        return wait_for(find, timeout_s, f"terminal event of {eid}")

    def close(self) -> None:
        for worker, _ in self.workers:
            worker.request_shutdown()
        for _, thread in self.workers:
            thread.join(30)
        for reader in (self.events, self.logs, self.dlq):
            reader.close()
