"""The worker's Redis client: redis-py, with its socket timeouts kept by the kernel.

redis-py gives a socket timeout to Python's socket, which then calls ``poll()`` before
every ``send`` and every ``recv``: four system calls per command instead of two, and in a
busy worker each one hands the GIL to another thread and waits to get it back (the
convoy effect). A worker makes several Redis round trips per execution (lease, status,
stops), so here the socket stays blocking and the same timeout is set in the kernel
(``SO_SNDTIMEO``/``SO_RCVTIMEO``): a Redis that stops answering still fails the call after
``timeout_s``, as a ``redis.ConnectionError`` instead of a ``redis.TimeoutError`` (both are
``redis.RedisError``, which every caller handles), and the connection is made again.

TLS (``rediss://``) and Unix-socket URLs keep redis-py's own connection classes.
"""

from __future__ import annotations

import socket
import struct
from typing import Any

import redis
from redis.connection import Connection


class KernelTimeoutConnection(Connection):
    """A TCP connection whose send/receive timeouts are socket options, not ``poll()``."""

    def __init__(self, *args: Any, kernel_timeout_s: float = 5.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kernel_timeout_s = kernel_timeout_s

    def _connect(self) -> socket.socket:
        sock: socket.socket = super()._connect()  # type: ignore[misc]  # not in the stubs
        seconds = int(self.kernel_timeout_s)
        micros = int((self.kernel_timeout_s - seconds) * 1_000_000)
        value = struct.pack("ll", seconds, micros)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, value)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, value)
        return sock


def connect(url: str, timeout_s: float, password: str | None = None) -> redis.Redis[bytes]:
    """A client for ``url`` whose calls fail after ``timeout_s`` without an answer."""
    if url.startswith("redis://"):
        pool = redis.ConnectionPool.from_url(
            url,
            connection_class=KernelTimeoutConnection,
            kernel_timeout_s=timeout_s,
            socket_timeout=None,  # blocking socket: no poll() before each send and recv
            socket_connect_timeout=timeout_s,
            password=password,
        )
        return redis.Redis(connection_pool=pool)
    return redis.Redis.from_url(url, socket_timeout=timeout_s, password=password)
