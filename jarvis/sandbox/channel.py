"""The framed protocol between the worker (supervisor) and a sandbox process.

One stream socket per sandbox, framed by ``multiprocessing.connection.Connection`` (a
length prefix per message). A frame is ``<4-byte header length><orjson header><payload>``:
the header is a JSON array whose first element names the frame; the payload carries raw
bytes when there are any (an artifact's content), so they are never base64'd.

Frames from a sandbox are untrusted input: they are only ever decoded with ``orjson``
(never pickle or marshal, which are not safe against hostile data), their size is capped
by ``max_frame_bytes``, and every field is checked where it is used.

Sandbox -> supervisor (each carries the log records buffered since the last frame):
  ``["compiled", recs, sites, digest]``         the program compiled; it is running
  ``["rejected", recs, sites, error]``          SPy rejected it before running
  ``["recs", recs, sites]``                    just records (a full batch, or a check)
  ``["effect", recs, sites, name, args]``       an effect request; waits for the reply
  ``["done", recs, sites, outcome]``            the run ended (see ``child.py``)
Supervisor -> sandbox:
  ``["run", spec]``  ``["ok", result]``  ``["err", spy_type, message]``  ``["fatal"]``
  ``["stop", mode]``  ``["exit"]``

``recs`` is flat, three entries per record (a list of small lists costs five times as
much to decode, and level ``full`` sends hundreds of thousands a second):
``site, value, code`` where ``code`` is 1-4 for a scalar (str, bool, int, None), 16 + the
target line for a branch record (``value`` is the branch taken), or the SPy type name of a
rendered value (prefixed with ``!`` when it was too large to render: ``value`` is then a
placeholder). ``-1, unix_ms, 0`` is a time mark: the records after it (in this frame and
the next ones) happened in that millisecond. ``sites`` lists
``[id, kind, line, col, end_line, end_col, source]`` for the sites first used in this
frame's records.

Bytes inside effect arguments and results travel as ``{"\\u0000": base64}``; a dict key
of the program's that starts with NUL is escaped with one more NUL, so the encoding is a
bijection (``pack`` / ``unpack``).
"""

from __future__ import annotations

import base64
import os
import struct
from multiprocessing.connection import Connection
from typing import Any

import orjson

_TAG = "\0"
_HEADER = 4


def encode(header: list[Any], payload: bytes = b"") -> bytes:
    body = orjson.dumps(header)
    return len(body).to_bytes(_HEADER, "big") + body + payload


def decode(frame: bytes) -> tuple[list[Any], bytes]:
    """The header and payload of a frame; ValueError when it is malformed."""
    if len(frame) < _HEADER:
        raise ValueError("frame shorter than its header length")
    n = int.from_bytes(frame[:_HEADER], "big")
    if n > len(frame) - _HEADER:
        raise ValueError("frame header length past its end")
    header = orjson.loads(frame[_HEADER : _HEADER + n])
    if not isinstance(header, list) or not header or not isinstance(header[0], str):
        raise ValueError("frame header is not a named array")
    return header, frame[_HEADER + n :]


class FrameReader:
    """The supervisor's side of a sandbox's socket: ``Connection.recv_bytes`` framing
    (``!i`` length, or ``-1`` then ``!Q``), read through a buffer.

    ``Connection.recv_bytes`` makes two ``read`` calls per frame (its length, then its
    body), and every call hands the worker's GIL to another thread. Here one ``read`` takes
    whatever has arrived, often a whole frame and the next (a short run's ``compiled`` and
    ``done``), and ``buffered`` says a frame is waiting so the caller need not ``poll``.
    """

    CHUNK = 1 << 16

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buf = bytearray()

    def buffered(self) -> bool:
        """Whether a whole frame is in the buffer already."""
        size = self._size()
        return size is not None and len(self._buf) >= size[0] + size[1]

    def _size(self) -> tuple[int, int] | None:
        """(prefix bytes, body bytes) of the next frame, once its prefix is here."""
        buf = self._buf
        if len(buf) < 4:
            return None
        (n,) = struct.unpack_from("!i", buf)
        if n != -1:
            return 4, n
        if len(buf) < 12:
            return None
        return 12, struct.unpack_from("!Q", buf, 4)[0]

    def recv(self, max_bytes: int) -> bytes:
        """The next frame, reading (blocking) until it is whole. ``EOFError`` when the
        sandbox's end closed; ``OSError`` ("bad message length") past ``max_bytes``."""
        buf = self._buf
        while True:
            size = self._size()
            if size is not None:
                prefix, n = size
                if n > max_bytes or n < 0:
                    raise OSError("bad message length")
                if len(buf) >= prefix + n:
                    frame = bytes(buf[prefix : prefix + n])
                    del buf[: prefix + n]
                    return frame
                want = prefix + n - len(buf)
            else:
                want = 12
            chunk = os.read(self.fd, max(self.CHUNK, want))
            if not chunk:
                raise EOFError
            buf += chunk


def send(conn: Connection, header: list[Any], payload: bytes = b"") -> None:
    conn.send_bytes(encode(header, payload))


def pack(value: Any) -> Any:
    """Plain data (with bytes) -> JSON-encodable data (bytes tagged, NUL keys escaped)."""
    t = type(value)
    if t is bytes:
        return {_TAG: base64.b64encode(value).decode("ascii")}
    if t is list or t is tuple:
        return [pack(v) for v in value]
    if t is dict:
        return {(_TAG + k if k.startswith(_TAG) else k): pack(v) for k, v in value.items()}
    return value


def unpack(value: Any) -> Any:
    """The inverse of ``pack``."""
    t = type(value)
    if t is list:
        return [unpack(v) for v in value]
    if t is dict:
        if len(value) == 1 and _TAG in value:
            data = value[_TAG]
            if type(data) is not str:
                raise ValueError("malformed bytes in a frame")
            return base64.b64decode(data, validate=True)
        return {(k[1:] if k.startswith(_TAG) else k): unpack(v) for k, v in value.items()}
    return value
