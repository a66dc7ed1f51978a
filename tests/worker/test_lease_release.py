"""Leases released in batches from the worker's releaser thread (``Leases.start_releasing``)."""

from __future__ import annotations

import threading

import pytest
import redis

from jarvis.worker.lease import Leases, lease_key
from tests.conftest import new_id

pytestmark = pytest.mark.integration


@pytest.fixture
def client(stack_env: dict[str, str]) -> redis.Redis[bytes]:
    return redis.Redis.from_url(stack_env["JARVIS_REDIS_URL"])


def test_batched_releases_free_every_lease_and_registry_entry(client: redis.Redis[bytes]) -> None:
    registry = f"jarvis:leases:{new_id('reg')}"
    leases = Leases(client, "pod", ttl_s=30, registry=registry)
    leases.start_releasing()
    ids = [new_id("rel") for _ in range(200)]
    held = [leases.acquire(eid) for eid in ids]
    assert all(h is not None for h in held)
    assert client.zcard(registry) == 200
    # Released from many threads at once, as execution threads do: batches form.
    threads = [
        threading.Thread(target=lambda part=held[i::8]: [leases.release(h) for h in part if h])
        for i in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    leases.close()
    assert leases.held == {}
    assert [eid for eid in ids if client.exists(lease_key(eid))] == []
    assert client.zcard(registry) == 0
    # Another worker can take every one of them now.
    other = Leases(client, "pod-2", ttl_s=30, registry=registry)
    assert all(other.acquire(eid) is not None for eid in ids)
    for eid in ids:
        client.delete(lease_key(eid), f"jarvis:fence:{eid}")
    client.delete(registry)


def test_a_batched_release_never_frees_a_lease_someone_else_holds_now(
    client: redis.Redis[bytes],
) -> None:
    registry = f"jarvis:leases:{new_id('reg')}"
    mine, theirs = (
        Leases(client, "pod", ttl_s=30, registry=registry),
        Leases(client, "pod-2", ttl_s=30, registry=registry),
    )
    a, b = new_id("rel"), new_id("rel")
    lease_a, lease_b = mine.acquire(a), mine.acquire(b)
    assert lease_a is not None and lease_b is not None
    client.delete(lease_key(b))  # b's lease lapsed, and another pod took it
    taken = theirs.acquire(b)
    assert taken is not None
    mine._release_now([lease_a, lease_b])  # one round trip for both (what the releaser sends)
    assert not client.exists(lease_key(a))
    assert theirs.holder(b) == {"worker": "pod-2", "token": taken.token}
    for eid in (a, b):
        client.delete(lease_key(eid), f"jarvis:fence:{eid}")
    client.delete(registry)


def test_without_a_releaser_a_release_is_done_before_it_returns(client: redis.Redis[bytes]) -> None:
    registry = f"jarvis:leases:{new_id('reg')}"
    leases = Leases(client, "pod", ttl_s=30, registry=registry)
    eid = new_id("rel")
    lease = leases.acquire(eid)
    assert lease is not None
    leases.release(lease)
    assert not client.exists(lease_key(eid))
    client.delete(f"jarvis:fence:{eid}", registry)
    leases.close()  # nothing to stop: harmless
