"""The kv Book against the real Redis of the local stack (a fresh key prefix per test)."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis

from jarvis.bdk import RetrySettings
from jarvis.books import BookRegistry
from jarvis.books.kv import KvConfig
from jarvis.errors import ProgramError
from tests.helpers.books import Recorder, call

pytestmark = pytest.mark.integration


@dataclass
class Kv:
    reg: BookRegistry
    config: KvConfig
    redis: redis.Redis[str]

    def raw(self, key: str) -> str | None:
        return self.redis.get(self.config.prefix + key)


@pytest.fixture
def kv(stack_env: dict[str, str]) -> Iterator[Kv]:
    config = KvConfig(
        redis_url=stack_env["JARVIS_REDIS_URL"], prefix=f"jarvis-test:{uuid.uuid4().hex[:10]}:"
    )
    reg = BookRegistry.discover(retry_settings=RetrySettings(), configs={"kv": config})
    reg.resolve(["kv"])
    client: redis.Redis[str] = redis.Redis.from_url(config.redis_url, decode_responses=True)
    yield Kv(reg, config, client)
    keys = list(client.scan_iter(match=config.prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.mark.parametrize(
    "value", [{"name": "Ada", "tags": ["x"], "n": 1.5}, [1, "two", None], "text", 42, True, None]
)
def test_put_then_get_round_trips_json(kv: Kv, rec: Recorder, value: object) -> None:
    assert call(kv.reg, rec, "kv.put", "k", value) is None
    assert call(kv.reg, rec, "kv.get", "k") == value


def test_values_are_stored_as_json_under_the_prefix(kv: Kv, rec: Recorder) -> None:
    call(kv.reg, rec, "kv.put", "user:1", {"a": [1, 2]})
    assert kv.raw("user:1") == '{"a":[1,2]}'


def test_get_returns_the_default_for_a_missing_key(kv: Kv, rec: Recorder) -> None:
    assert call(kv.reg, rec, "kv.get", "absent") is None
    assert call(kv.reg, rec, "kv.get", "absent", default={"empty": True}) == {"empty": True}


def test_incr_counts_per_call(kv: Kv, rec: Recorder) -> None:
    assert call(kv.reg, rec, "kv.incr", "hits", idem="e:1") == 1
    assert call(kv.reg, rec, "kv.incr", "hits", by=5, idem="e:2") == 6
    assert call(kv.reg, rec, "kv.incr", "hits", by=-2, idem="e:3") == 4
    assert call(kv.reg, rec, "kv.get", "hits") == 4


def test_incr_is_idempotent_per_idempotency_key(kv: Kv, rec: Recorder) -> None:
    # A retried attempt, or a call re-run after a crash, carries the same key: counted once.
    assert call(kv.reg, rec, "kv.incr", "n", by=3, idem="exec-a:7") == 3
    assert call(kv.reg, rec, "kv.incr", "n", by=3, idem="exec-a:7") == 3
    assert kv.raw("n") == "3"
    record = kv.config.prefix + "idem:exec-a:7"
    assert kv.redis.get(record) == "3"
    assert 0 < kv.redis.ttl(record) <= kv.config.idempotency_ttl_s
    # Another call (another effect seq) counts again.
    assert call(kv.reg, rec, "kv.incr", "n", by=3, idem="exec-a:8") == 6


def test_racing_attempts_of_one_call_count_once(kv: Kv) -> None:
    # An attempt abandoned at its timeout may overlap its retry: the Lua script is atomic.
    results: list[object] = []
    barrier = threading.Barrier(8)

    def attempt() -> None:
        barrier.wait()
        results.append(
            kv.reg.call("kv", "incr", ["race"], {}, execution_id="e", idempotency_key="e:1")
        )

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == [1] * 8
    assert kv.raw("race") == "1"


def test_incr_on_a_non_integer_is_invalid_input_and_not_retried(kv: Kv, rec: Recorder) -> None:
    call(kv.reg, rec, "kv.put", "name", "Ada")
    with pytest.raises(ProgramError) as err:
        call(kv.reg, rec, "kv.incr", "name")
    assert err.value.spy_type == "BookError"
    assert err.value.message.startswith(
        "kv.incr failed after 1 attempt: InvalidInput: the value under 'name' is not an integer"
    )


def test_get_of_a_value_written_outside_the_book(kv: Kv, rec: Recorder) -> None:
    kv.redis.set(kv.config.prefix + "foreign", "not json {")
    with pytest.raises(ProgramError, match="NonRetryable: the value under 'foreign' is not JSON"):
        call(kv.reg, rec, "kv.get", "foreign")


def test_keys_are_validated(kv: Kv, rec: Recorder) -> None:
    with pytest.raises(ProgramError) as err:
        call(kv.reg, rec, "kv.put", "idem:x", 1)
    assert (err.value.spy_type, err.value.message) == (
        "TypeError",
        "kv.put() argument 'key': Value error, keys starting with 'idem:' are reserved for idempotency records",
    )
    with pytest.raises(
        ProgramError, match="argument 'key': String should have at least 1 character"
    ):
        call(kv.reg, rec, "kv.get", "")
    with pytest.raises(ProgramError, match="argument 'by': Input should be a valid integer"):
        call(kv.reg, rec, "kv.incr", "n", by=1.5)


def test_an_unreachable_redis_is_retried(rec: Recorder) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = KvConfig(redis_url=f"redis://127.0.0.1:{port}/0", socket_timeout_s=1.0)
    reg = BookRegistry.discover(
        retry_settings=RetrySettings(max_attempts=3), configs={"kv": config}
    )
    with pytest.raises(ProgramError, match=r"kv\.get failed after 3 attempts: ConnectionError"):
        call(reg, rec, "kv.get", "k")
    assert rec.outcomes == ["retry", "retry", "error"]
    assert rec.sleeps == pytest.approx([0.2, 0.4])
