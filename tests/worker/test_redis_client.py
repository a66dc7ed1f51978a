"""The worker's Redis client: blocking sockets whose timeouts the kernel keeps (redis_client.py)."""

from __future__ import annotations

import socket
import struct

import pytest
import redis

from jarvis.worker.redis_client import KernelTimeoutConnection, connect
from tests.conftest import new_id

pytestmark = pytest.mark.integration


def test_the_socket_is_blocking_with_its_timeout_in_the_kernel(stack_env: dict[str, str]) -> None:
    client = connect(stack_env["JARVIS_REDIS_URL"], 0.25)
    assert client.ping()
    conn = client.connection_pool.get_connection()
    try:
        assert isinstance(conn, KernelTimeoutConnection)
        sock = conn._sock
        assert sock is not None
        # No Python-level timeout: a send or recv is one system call, not poll() first.
        assert sock.gettimeout() is None
        raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.calcsize("ll"))
        seconds, micros = struct.unpack("ll", raw)
        assert seconds == 0 and 250_000 <= micros < 300_000  # the kernel rounds up to its tick
    finally:
        client.connection_pool.release(conn)


def test_a_redis_that_does_not_answer_fails_the_call_and_the_next_call_reconnects(
    stack_env: dict[str, str],
) -> None:
    client = connect(stack_env["JARVIS_REDIS_URL"], 0.25)
    # BLPOP on an empty list holds the answer for 30 s: only the kernel's timeout ends it.
    with pytest.raises(redis.RedisError):
        client.blpop([new_id("empty")], timeout=30)
    key = new_id("after")
    assert client.set(key, b"1") and client.get(key) == b"1"
    client.delete(key)


def test_other_urls_keep_redis_py_s_own_connections() -> None:
    client = connect("unix:///tmp/nowhere.sock", 1.0)
    assert client.connection_pool.connection_class is not KernelTimeoutConnection
