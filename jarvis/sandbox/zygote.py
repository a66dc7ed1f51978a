"""The single-threaded parent that sandboxes are forked from.

DESIGN.md §1b: never fork the worker (it has librdkafka's threads; a fork of a threaded
process can deadlock in the child). The worker *spawns* this process instead (a fresh
interpreter, ``python -m jarvis.sandbox.zygote FD``), which imports the SPy runtime once,
warms it up, and then only ever forks. A fork of a warmed, single-threaded parent costs
about a millisecond and shares the imported code pages copy-on-write.

Protocol on the control socket (SOCK_SEQPACKET, one message per datagram, orjson arrays):
  worker -> zygote  ``b"fork"``
  zygote -> worker  ``["forked", pid]`` with two file descriptors attached (SCM_RIGHTS):
                    the sandbox's end of its stream socket, and a pidfd of the sandbox
                    (so the worker can kill it without racing pid reuse)
                    ``["exit", pid, wait_status, peak_rss_bytes]`` when a sandbox is reaped
The zygote exits when the worker's end closes, killing every sandbox it forked; each
sandbox also gets SIGKILL if the zygote dies (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import socket
import sys
from multiprocessing.connection import Connection

import orjson

from jarvis.sandbox import child

_PR_SET_PDEATHSIG = 1


def _warm() -> None:
    """Run a small program once, so the first real run finds every code path imported."""
    from jarvis.spy import compile_program, run_program

    class _Quiet:
        def emit(self, site: object, value: object) -> None:
            pass

        def effect(self, name: str, args: tuple[object, ...]) -> object:
            return None

        def check(self) -> None:
            pass

    program = compile_program("x = [i * 2 for i in range(10)]\nresult = {'n': len(x), 's': f'{x}'}")
    run_program(program, {}, _Quiet())


def _die_with_parent() -> None:
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:  # the zygote died before the prctl took effect
        os._exit(1)


def _fork(ctrl: socket.socket, wake: tuple[int, int], children: set[int]) -> None:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = os.fork()
    if pid == 0:  # the sandbox
        try:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            ctrl.close()
            ours.close()
            for fd in wake:
                os.close(fd)
            _die_with_parent()
            child.main(Connection(theirs.detach()))
        finally:
            os._exit(1)
    children.add(pid)
    theirs.close()
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        pidfd = -1
    fds = [ours.fileno()] + ([pidfd] if pidfd >= 0 else [])
    try:
        socket.send_fds(ctrl, [orjson.dumps(["forked", pid])], fds)
    finally:
        ours.close()
        if pidfd >= 0:
            os.close(pidfd)


def _reap(ctrl: socket.socket, children: set[int]) -> None:
    while children:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)
        with contextlib.suppress(OSError):
            ctrl.send(orjson.dumps(["exit", pid, status, usage.ru_maxrss * 1024]))


def serve(fd: int) -> None:
    ctrl = socket.socket(fileno=fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is for the worker, which stops us
    _warm()
    rfd, wfd = os.pipe()
    os.set_blocking(rfd, False)
    os.set_blocking(wfd, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wfd)
    children: set[int] = set()
    try:
        while True:
            ready, _, _ = select.select([ctrl.fileno(), rfd], [], [])
            if rfd in ready:
                with contextlib.suppress(BlockingIOError):
                    while os.read(rfd, 512):
                        pass
            _reap(ctrl, children)
            if ctrl.fileno() in ready:
                try:
                    msg = ctrl.recv(64)
                except OSError:
                    return
                if not msg:
                    return  # the worker is gone
                if msg == b"fork":
                    try:
                        _fork(ctrl, (rfd, wfd), children)
                    except OSError:
                        return  # the worker went away while we forked: nothing to serve
    finally:
        for pid in children:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


if __name__ == "__main__":
    serve(int(sys.argv[1]))
