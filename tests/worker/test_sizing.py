"""sizing: CPUs from the cgroup v2 quota, and the defaults derived from them."""

from __future__ import annotations

import pytest

from jarvis.worker.sizing import (
    SANDBOXES_PER_CPU,
    available_cpus,
    cpus_from,
    default_concurrency,
    default_ready_capacity,
    default_threads,
)


@pytest.mark.parametrize(
    ("cpu_max", "affinity", "cpus"),
    [
        ("max 100000", 8, 8),  # no quota: the affinity
        ("max 100000\n", 8, 8),
        ("200000 100000", 8, 2),
        ("200000 100000\n", 8, 2),
        ("150000 100000", 8, 2),  # 1.5 CPUs round up
        ("50000 100000", 8, 1),
        ("100000 100000", 8, 1),
        ("800000 100000", 4, 4),  # quota above affinity: the affinity
        ("garbage", 6, 6),
        ("abc 100000", 6, 6),
        ("200000 xyz", 6, 6),
        ("1 2 3", 6, 6),
        ("0 100000", 6, 6),
        ("-100000 100000", 6, 6),
        ("200000 0", 6, 6),
        ("", 6, 6),
        (None, 6, 6),
        (None, 0, 1),  # never below one CPU
        ("200000 100000", 0, 1),
    ],
)
def test_cpus_from(cpu_max: str | None, affinity: int, cpus: int) -> None:
    assert cpus_from(cpu_max, affinity) == cpus


def test_available_cpus_is_positive() -> None:
    assert available_cpus() >= 1


def test_default_concurrency() -> None:
    assert SANDBOXES_PER_CPU == 2
    assert default_concurrency(1) == 2
    assert default_concurrency(4) == 8
    assert default_concurrency(0) == 2


def test_default_threads() -> None:
    assert default_threads(1) == 8
    assert default_threads(2) == 8
    assert default_threads(3) == 9
    assert default_threads(8) == 24


def test_default_ready_capacity() -> None:
    assert default_ready_capacity(1) == 1024
    assert default_ready_capacity(8) == 1024
    assert default_ready_capacity(9) == 1152
    assert default_ready_capacity(32) == 4096
