"""How big a worker is by default: sandboxes from the CPUs the pod may use.

Kubernetes sets a container's CPU limit as a cgroup quota (``cpu.max``: "quota period"),
not as the CPUs the process sees (``os.cpu_count`` reports the node's). A CPU-bound program
keeps one CPU busy, so a pod's CPU-bound throughput scales with the sandboxes that get a
CPU each; a sandbox waiting on a Book call or a sleep uses none, hence two per CPU by
default (README "Sizing").
"""

from __future__ import annotations

import math
import os
from pathlib import Path

SANDBOXES_PER_CPU = 2


def cpus_from(cpu_max: str | None, affinity: int) -> int:
    """CPUs available: the cgroup v2 quota (``cpu.max`` text) if set, else ``affinity``."""
    if cpu_max:
        parts = cpu_max.split()
        if len(parts) == 2 and parts[0] != "max":
            try:
                quota, period = int(parts[0]), int(parts[1])
            except ValueError:
                return max(1, affinity)
            if quota > 0 and period > 0:
                return max(1, min(affinity, math.ceil(quota / period)))
    return max(1, affinity)


def available_cpus() -> int:
    try:
        cpu_max: str | None = Path("/sys/fs/cgroup/cpu.max").read_text()
    except OSError:
        cpu_max = None
    try:
        affinity = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        affinity = os.cpu_count() or 1
    return cpus_from(cpu_max, affinity)


def default_concurrency(cpus: int) -> int:
    return max(2, SANDBOXES_PER_CPU * cpus)


def default_threads(concurrency: int) -> int:
    """Execution threads: more than sandboxes, for the work around a program (lease,
    journal end, waiting for delivery) to overlap other executions' programs."""
    return max(8, 3 * concurrency)


def default_ready_capacity(concurrency: int) -> int:
    """Starts the ready queue holds before the partitions pause: enough that, resumed at half
    full, it outlasts the 0.3-1 s librdkafka takes to deliver again (``jarvis.worker.ready``)
    at several hundred executions/s; the byte bound (``JARVIS_READY_QUEUE_BYTES``) caps
    the memory whatever the count."""
    return max(1024, 128 * concurrency)
