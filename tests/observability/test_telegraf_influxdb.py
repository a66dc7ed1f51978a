"""Telegraf -> InfluxDB end to end: every distinct log record becomes exactly one point.

Real parts throughout: ``jarvis worker`` processes on fresh topics of the local Kafka
(tests/fault/cluster.py), Telegraf built from its Go module running the shipped
charts/telegraf/telegraf.conf, InfluxDB 1.x from Debian's package. The programs include a
tight loop (thousands of records sharing each millisecond `at`) and a chain of effects
whose worker is SIGKILLed mid-run, so another worker takes it over and re-emits its
records by replay. InfluxDB must then hold exactly the distinct records (execution_id, seq)
with their values: none lost, none duplicated; and a second Telegraf reading the whole
topic again (a redelivery of everything) changes nothing.
"""

from __future__ import annotations

import itertools
import os
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.fault.books import expected_total
from tests.fault.cluster import Cluster
from tests.helpers import kafka, new_id, wait_for
from tests.helpers.telegraf import Influx, Telegraf

pytestmark = pytest.mark.integration

TIGHT = """\
x = 0
for i in range(inputs["n"]):
    x = i
result = x
"""
TIGHT_N = 4000

VALUES = """\
name = "Ada"
greeting = f"Hello, {name}! \\u2713 \\"quoted\\""
items = [1, 2.5, "three", None, True]
info = {"a": 1, "b": [1, 2], "c": {"d": None}}
nothing = None
flag = False
ratio = 0.1 + 0.2
big = 2 ** 60
million = 1000000
print(greeting)
if flag:
    y = 1
else:
    y = 2
result = len(items)
"""

CHAIN_N = 30


def _telegraf_env(cluster: Cluster, influx: Influx, group: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JARVIS_")}
    env.update(
        KAFKA_BROKERS=cluster.settings.kafka_bootstrap,
        JARVIS_LOGS_TOPIC=cluster.settings.logs_topic,
        TELEGRAF_CONSUMER_GROUP=group,
        INFLUXDB_URL=influx.url,
        INFLUXDB_DATABASE=influx.database,
    )
    return env


def _caught_up(cluster: Cluster, group: str) -> bool:
    """Telegraf's group has committed every partition of the logs topic to its end: it
    commits an offset only after InfluxDB accepted the points of the messages before it."""
    return kafka.caught_up(cluster.settings.kafka_bootstrap, group, cluster.settings.logs_topic)


def _points(influx: Influx) -> dict[str, list[dict[str, Any]]]:
    """Per execution, its points: the README's queries (section "Reading logs in InfluxDB")."""
    eids = [
        r["value"] for r in influx.rows('SHOW TAG VALUES FROM "spy_logs" WITH KEY = "execution_id"')
    ]
    return {
        eid: influx.rows(
            'SELECT "seq", "kind", "value", "type", "source", "line" FROM "spy_logs" '
            f"WHERE \"execution_id\" = '{eid}'"
        )
        for eid in eids
    }


def _run_telegraf(binary: Path, cluster: Cluster, influx: Influx, group: str, tmp: Path) -> None:
    telegraf = Telegraf(binary, _telegraf_env(cluster, influx, group), tmp / f"{group}.log")
    try:

        def done() -> bool:
            assert telegraf.alive(), f"telegraf exited:\n{telegraf.log()[-4000:]}"
            return _caught_up(cluster, group)

        wait_for(
            done, 180, f"telegraf group {group} to commit the whole logs topic", interval_s=0.5
        )
    finally:
        telegraf.stop()
    assert "E! " not in telegraf.log(), telegraf.log()[-4000:]


def test_influxdb_holds_exactly_the_distinct_records(
    cluster: Cluster, influx: Influx, telegraf_bin: Path, tmp_path: Path
) -> None:
    a, b = cluster.start_workers(2)
    a.wait_consuming()
    b.wait_consuming()

    # A chain of Book calls with sleeps: its worker is killed mid-run.
    chain = new_id("chain")
    cluster.start(chain, inputs={"n": CHAIN_N, "seed": 7, "hold_s": 0.02, "sleep_s": 0.05})
    holder = wait_for(lambda: cluster.lease_holders([chain]).get(chain), 30, "the chain to run")
    victim = a if holder == a.worker_id else b
    survivor = b if victim is a else a

    def logged(n: int) -> bool:
        cluster.logs.pump(0.2)
        return len(cluster.logs_of(chain)) >= n

    wait_for(lambda: logged(20), 30, "the chain to log its first records")
    victim.kill()

    tight = [new_id("tight") for _ in range(2)]
    for eid in tight:
        cluster.start(eid, source=TIGHT, inputs={"n": TIGHT_N}, books=())
    values = new_id("values")
    cluster.start(values, source=VALUES, books=())
    for eid in [chain, *tight, values]:
        ev = cluster.terminal(eid, timeout_s=90)
        assert ev["event"] == "completed", ev
    assert cluster.terminal(chain)["result"] == expected_total(7, CHAIN_N)
    assert any(
        e["event"] == "resumed" and e["worker"] == survivor.worker_id
        for e in cluster.events_of(chain)
    )
    cluster.stop_workers()
    cluster.logs.drain()

    # What the workers put on spy_logs: duplicates from the replay, each the same record.
    emitted: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    copies: Counter[tuple[str, int]] = Counter()
    for rec in cluster.logs.values:
        eid, seq = rec["execution_id"], rec["seq"]
        copies[(eid, seq)] += 1
        first = emitted[eid].setdefault(seq, rec)
        assert (first["ts"], first["value"], first["kind"]) == (
            rec["ts"],
            rec["value"],
            rec["kind"],
        ), f"{eid} seq {seq} re-emitted differently: {first} vs {rec}"
    assert any(copies[(chain, s)] > 1 for s in emitted[chain]), "the kill re-emitted nothing"
    for eid in [chain, *tight, values]:
        seqs = sorted(emitted[eid])
        assert seqs == list(range(len(seqs))), f"{eid}: seqs with gaps"
        stamps = [emitted[eid][s]["ts"] for s in seqs]
        assert all(x < y for x, y in itertools.pairwise(stamps)), f"{eid}: ts not increasing"
    for eid in tight:  # thousands of records within each millisecond mark: `at` repeats
        assert len(emitted[eid]) > TIGHT_N
        ats = Counter(r["at"] for r in emitted[eid].values())
        assert ats.most_common(1)[0][1] > 1

    _run_telegraf(telegraf_bin, cluster, influx, f"telegraf-{cluster.uid}-1", tmp_path)
    points = _points(influx)

    def check(points: dict[str, list[dict[str, Any]]]) -> None:
        assert set(points) == set(emitted)
        for eid, records in emitted.items():
            got = points[eid]
            assert len(got) == len(records), f"{eid}: {len(got)} points for {len(records)} records"
            by_seq = {p["seq"]: p for p in got}
            assert len(by_seq) == len(got), f"{eid}: a seq stored twice"
            for seq, rec in records.items():
                p = by_seq[seq]
                assert p["time"] == rec["ts"], (eid, seq)
                assert p["kind"] == rec["kind"] and p["type"] == rec["type"], (eid, seq)
                assert p["value"] == orjson.dumps(rec["value"]).decode(), (eid, seq, p["value"])
                assert p["source"] == rec["source"] and p["line"] == rec["line"], (eid, seq)

    check(points)
    # Values keep their exact JSON text (no float64 detour), strings stay quoted JSON.
    texts = {
        p["source"].split(" =")[0]: p["value"] for p in points[values] if p["kind"] == "assign"
    }
    assert texts["big"] == "1152921504606846976" and texts["million"] == "1000000"
    assert texts["greeting"] == '"Hello, Ada! \u2713 \\"quoted\\""'
    assert texts["info"] == '{"a":1,"b":[1,2],"c":{"d":null}}' and texts["nothing"] == "null"
    # The count an operator would run (README, "Reading logs in InfluxDB").
    counted = influx.rows(f'SELECT count("seq") FROM "spy_logs" WHERE "execution_id" = \'{chain}\'')
    assert counted[0]["count"] == len(emitted[chain])

    # Everything delivered again (a new group reads the topic from the start): same points.
    _run_telegraf(telegraf_bin, cluster, influx, f"telegraf-{cluster.uid}-2", tmp_path)
    check(_points(influx))
