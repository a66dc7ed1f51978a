"""librdkafka's log lines through Python logging (jarvis.kafka.logs), and the partitioner."""

from __future__ import annotations

import logging

import pytest
from confluent_kafka import Producer

from jarvis.kafka.config import base_config, murmur2, partition_for
from jarvis.kafka.logs import ROUTER, KafkaLogRouter, ProblemRecorder
from jarvis.settings import Settings
from tests.helpers import wait_for

FMT = "%s [%s] %s"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def router(caplog: pytest.LogCaptureFixture, clock: Clock) -> KafkaLogRouter:
    caplog.set_level(logging.DEBUG, logger="test.kafka")
    return KafkaLogRouter(logging.getLogger("test.kafka"), window_s=60, burst=3, clock=clock)


def test_a_repeated_line_passes_burst_times_per_window_then_says_how_many_were_suppressed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    r = router(caplog, clock)
    for i in range(100):
        r.log(logging.ERROR, FMT, "FAIL", "rdkafka#producer-1", f"Connection refused {i}")
    assert [rec.getMessage() for rec in caplog.records] == [
        f"FAIL [rdkafka#producer-1] Connection refused {i}" for i in range(3)
    ]
    clock.now += 60
    r.log(logging.ERROR, FMT, "FAIL", "rdkafka#producer-1", "Connection refused again")
    assert caplog.records[-1].getMessage() == (
        "FAIL [rdkafka#producer-1] Connection refused again (97 similar suppressed)"
    )
    assert caplog.records[-1].levelno == logging.ERROR
    assert caplog.records[-1].name == "test.kafka"
    r.log(logging.ERROR, FMT, "FAIL", "rdkafka#producer-1", "next")
    assert caplog.records[-1].getMessage() == "FAIL [rdkafka#producer-1] next"  # count reset


def test_kinds_are_limited_apart_and_debug_lines_never(caplog: pytest.LogCaptureFixture) -> None:
    r = router(caplog, Clock())
    for _ in range(10):
        r.log(logging.ERROR, FMT, "FAIL", "c", "x")
        r.log(logging.WARNING, FMT, "REQTMOUT", "c", "y")
        r.log(logging.DEBUG, FMT, "BROKER", "c", "z")
    kinds = [rec.getMessage().split()[0] for rec in caplog.records]
    assert kinds.count("FAIL") == 3
    assert kinds.count("REQTMOUT") == 3
    assert kinds.count("BROKER") == 10


def test_a_disabled_logger_costs_no_window(caplog: pytest.LogCaptureFixture) -> None:
    r = router(caplog, Clock())
    logging.getLogger("test.kafka").setLevel(logging.CRITICAL + 1)
    try:
        for _ in range(5):
            r.log(logging.ERROR, FMT, "FAIL", "c", "x")
        assert caplog.records == [] and r._windows == {}
    finally:
        logging.getLogger("test.kafka").setLevel(logging.NOTSET)


def test_the_recorder_keeps_the_last_problem_and_passes_lines_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    r = router(caplog, Clock())
    rec = ProblemRecorder(r)
    rec.log(
        logging.ERROR, FMT, "FAIL", "c", "Connect to ipv4#127.0.0.1:9 failed: Connection refused"
    )
    rec.log(logging.INFO, FMT, "CONFWARN", "c", "informational")
    assert rec.last == "Connect to ipv4#127.0.0.1:9 failed: Connection refused"
    assert len(caplog.records) == 2


def test_every_client_routes_librdkafka_lines_to_the_jarvis_kafka_logger(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="jarvis.kafka")
    config = base_config(Settings(_env_file=None, kafka_bootstrap="127.0.0.1:9"))  # type: ignore[call-arg]
    assert config["logger"] is ROUTER
    producer = Producer(config)

    def routed() -> bool:
        producer.poll(0.1)  # confluent-kafka hands queued log lines over inside poll()
        return any(
            r.name == "jarvis.kafka" and "127.0.0.1:9" in r.getMessage() for r in caplog.records
        )

    wait_for(routed, 20, "a librdkafka line about 127.0.0.1:9 on jarvis.kafka")
    producer.flush(0)


def test_murmur2_matches_kafkas_own_test_vectors() -> None:
    # org.apache.kafka.common.utils.UtilsTest#testMurmur2
    vectors = {
        b"21": -973932308,
        b"foobar": -790332482,
        b"a-little-bit-long-string": -985981536,
        b"a-little-bit-longer-string": -1486304829,
        b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
        b"abc": 479470107,
    }
    assert {k: murmur2(k) for k in vectors} == vectors
    assert partition_for("foobar", 12) == (-790332482 & 0x7FFFFFFF) % 12
    assert partition_for(b"abc", 7) == partition_for("abc", 7)
