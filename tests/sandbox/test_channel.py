"""The supervisor's buffered frame reader (``channel.FrameReader``) against the framing of
``multiprocessing.connection.Connection``, which the sandbox writes with. No processes: a
socket pair."""

from __future__ import annotations

import os
import socket
import struct
import threading
from collections.abc import Iterator
from multiprocessing.connection import Connection

import pytest

from jarvis.sandbox.channel import FrameReader, decode, encode


@pytest.fixture
def pair() -> Iterator[tuple[Connection, FrameReader, socket.socket]]:
    """(the sandbox's Connection, the reader, the sandbox's raw socket for hand-made bytes)."""
    a, b = socket.socketpair()
    sender = Connection(os.dup(a.fileno()))
    yield sender, FrameReader(b.fileno()), a
    for end in (sender, a, b):
        end.close()


def test_frames_come_out_whole_and_in_order(
    pair: tuple[Connection, FrameReader, socket.socket],
) -> None:
    sender, reader, _ = pair
    frames = [encode(["compiled", [], [], [], "d" * 64]), encode(["done", [1, 2, 3], [], [], {}])]
    for f in frames:
        sender.send_bytes(f)
    assert reader.recv(2**20) == frames[0]
    # Both arrived before the first read: the second is buffered, no poll needed.
    assert reader.buffered()
    assert decode(reader.recv(2**20))[0][0] == "done"
    assert not reader.buffered()


def test_a_frame_larger_than_one_read_is_assembled(
    pair: tuple[Connection, FrameReader, socket.socket],
) -> None:
    sender, reader, _ = pair
    big = encode(["recs", [], [], [300_000]], os.urandom(300_000))
    t = threading.Thread(target=sender.send_bytes, args=(big,))
    t.start()
    got = reader.recv(2**20)
    t.join()
    assert got == big


def test_a_frame_split_mid_length_prefix(
    pair: tuple[Connection, FrameReader, socket.socket],
) -> None:
    _, reader, raw_socket = pair
    body = encode(["done", [], [], [], {}])
    raw = struct.pack("!i", len(body)) + body
    raw_socket.sendall(raw[:2])
    assert not reader.buffered()
    raw_socket.sendall(raw[2:])
    assert reader.recv(1024) == body


def test_too_large_is_refused_before_its_body_is_read(
    pair: tuple[Connection, FrameReader, socket.socket],
) -> None:
    sender, reader, _ = pair
    sender.send_bytes(b"x" * 5000)
    with pytest.raises(OSError, match="length"):
        reader.recv(4096)


def test_the_long_length_prefix_is_understood(
    pair: tuple[Connection, FrameReader, socket.socket],
) -> None:
    # Connection writes -1 and a 64-bit length for frames past 2 GiB: same parsing here
    # (with a small body, written by hand).
    _, reader, raw_socket = pair
    body = b"hello"
    raw_socket.sendall(struct.pack("!i", -1) + struct.pack("!Q", len(body)) + body)
    assert reader.recv(1024) == body


def test_a_negative_length_is_a_protocol_error(
    pair: tuple[Connection, FrameReader, socket.socket],
) -> None:
    _, reader, raw_socket = pair
    raw_socket.sendall(struct.pack("!i", -7) + b"junk")
    with pytest.raises(OSError, match="length"):
        reader.recv(1024)


def test_eof_mid_frame_and_between_frames(
    pair: tuple[Connection, FrameReader, socket.socket],
) -> None:
    sender, reader, raw_socket = pair
    sender.send_bytes(b"complete")
    raw_socket.sendall(struct.pack("!i", 100) + b"only part")
    sender.close()
    raw_socket.close()  # the sandbox died mid-frame
    assert reader.recv(1024) == b"complete"
    with pytest.raises(EOFError):
        reader.recv(1024)
