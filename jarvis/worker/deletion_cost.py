"""Keep this pod's ``controller.kubernetes.io/pod-deletion-cost`` current.

KEDA hands scale-in to the HPA, which deletes pods it picks; the ReplicaSet prefers pods
with the lowest deletion cost. A busy pod advertises a high cost so idle pods go first
(the suspend-on-SIGTERM path covers the rest). Patches are rate-limited: the API server
must not see one per execution. Off outside a cluster.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jarvis.worker.hooks import WorkerHooks

log = logging.getLogger("jarvis.worker")

ANNOTATION = "controller.kubernetes.io/pod-deletion-cost"
NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


def cost(running: int, capacity: int) -> int:
    """Deletion cost for a load: 0 when idle, growing with running executions."""
    return 0 if running <= 0 else 1000 * running // max(capacity, 1) + running


class DeletionCost(WorkerHooks):
    def __init__(
        self,
        patch: Callable[[int], None],
        min_interval_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.patch = patch
        self.min_interval_s = min_interval_s
        self.clock = clock
        self.current: int | None = None
        self.wanted = 0
        self.last_patch = -1e9
        self._lock = threading.Lock()

    def load(self, running: int, capacity: int) -> None:
        with self._lock:
            self.wanted = cost(running, capacity)
            self.flush()

    def flush(self) -> None:
        """Patch if the wanted cost changed and the last patch is old enough."""
        if self.wanted == self.current or self.clock() - self.last_patch < self.min_interval_s:
            return
        try:
            self.patch(self.wanted)
        except Exception as exc:  # RBAC missing, API down: the worker works on without it
            log.warning("could not update %s: %s", ANNOTATION, exc)
            self.last_patch = self.clock()
            return
        self.current = self.wanted
        self.last_patch = self.clock()


def in_cluster_patcher() -> Callable[[int], None] | None:
    """A patch function for this pod, or None outside Kubernetes."""
    if not os.environ.get("KUBERNETES_SERVICE_HOST") or not NAMESPACE_FILE.exists():
        return None
    try:
        from kubernetes import client, config
    except ImportError:
        log.warning(
            "running in Kubernetes but the `kubernetes` package is missing: pod-deletion-cost off"
        )
        return None
    config.load_incluster_config()  # type: ignore[no-untyped-call]
    api: Any = client.CoreV1Api()
    namespace = NAMESPACE_FILE.read_text().strip()
    pod = os.environ.get("POD_NAME") or os.environ["HOSTNAME"]

    def patch(value: int) -> None:
        api.patch_namespaced_pod(
            pod, namespace, {"metadata": {"annotations": {ANNOTATION: str(value)}}}
        )

    return patch
