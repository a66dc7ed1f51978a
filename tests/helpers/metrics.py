"""Prometheus from tests: scrape a worker's ``/metrics`` and read its samples."""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(port: int, timeout_s: float = 5.0) -> Samples:
    """Every sample of a worker's ``/metrics``, by (sample name, labels)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout_s) as resp:
        assert resp.status == 200
        text = resp.read().decode()
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def families(port: int) -> set[str]:
    """The metric family names a worker exports, as they appear in queries (``_total``,
    ``_bucket``, ``_count``, ``_sum`` included)."""
    return {name for name, _ in scrape(port)}


def get(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str) -> float:
    """The sum of every sample of ``name`` (whatever its labels)."""
    return sum(v for (n, _), v in samples.items() if n == name)
