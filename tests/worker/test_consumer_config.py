"""loop.consumer_config: librdkafka settings for the classic and the KIP-848 protocol."""

from __future__ import annotations

from typing import Any

import pytest

from jarvis.settings import Settings
from jarvis.worker.loop import consumer_config

CLASSIC_ONLY = ("session.timeout.ms", "heartbeat.interval.ms", "partition.assignment.strategy")


def settings(**overrides: Any) -> Settings:
    # _env_file=None: the env file list is fixed when Settings is imported; ignore it.
    return Settings(_env_file=None, worker_id="w-7", group_id="g-1", **overrides)


def test_classic_protocol() -> None:
    config = consumer_config(
        settings(group_protocol="classic", session_timeout_s=7.5, heartbeat_interval_s=0.5)
    )
    assert config["session.timeout.ms"] == 7500
    assert config["heartbeat.interval.ms"] == 500
    assert config["partition.assignment.strategy"] == "cooperative-sticky"
    assert "group.protocol" not in config
    assert config["enable.auto.commit"] is False
    assert config["enable.auto.offset.store"] is False
    assert config["group.id"] == "g-1"
    assert config["client.id"] == "w-7"
    assert config["auto.offset.reset"] == "earliest"


def test_classic_is_the_default_and_timeouts_are_whole_milliseconds() -> None:
    config = consumer_config(settings())
    assert config["session.timeout.ms"] == 10_000
    assert config["heartbeat.interval.ms"] == 1000
    assert all(
        isinstance(config[key], int) for key in ("session.timeout.ms", "heartbeat.interval.ms")
    )


def test_consumer_protocol_leaves_timeouts_and_assignment_to_the_broker() -> None:
    config = consumer_config(settings(group_protocol="consumer", session_timeout_s=7.5))
    assert config["group.protocol"] == "consumer"
    for key in CLASSIC_ONLY:
        assert key not in config
    assert config["enable.auto.commit"] is False
    assert config["enable.auto.offset.store"] is False
    assert config["group.id"] == "g-1"


@pytest.mark.parametrize("protocol", ["classic", "consumer"])
def test_bootstrap_and_security_settings_are_passed_on(protocol: str) -> None:
    config = consumer_config(
        settings(
            group_protocol=protocol,
            kafka_bootstrap="broker-1:9093,broker-2:9093",
            kafka_security={"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN"},
        )
    )
    assert config["bootstrap.servers"] == "broker-1:9093,broker-2:9093"
    assert config["security.protocol"] == "SASL_SSL"
    assert config["sasl.mechanism"] == "PLAIN"
