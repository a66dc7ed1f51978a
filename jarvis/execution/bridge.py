"""The execution side of a sandbox attempt: frames from the sandbox -> journal, effects, records.

``SandboxBridge`` is the ``jarvis.sandbox.Handler`` of one attempt. Durable things happen
here, in the worker, never in the sandbox: the journal's start record (once the sandbox
says the program compiled, and its digest matches a resumed journal), every effect
(write-ahead and fenced by ``ExecutionHost``, Book calls like Temporal activities), log
records (rendered by the sandbox, stamped and sized here). Every field that came from
the sandbox is checked before use: it is untrusted input.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from jarvis.contract.messages import LifecycleEvent, StartCommand
from jarvis.errors import Interruption, JarvisError, NonDeterminismError, ProgramError, Stopped
from jarvis.execution.host import ExecutionHost
from jarvis.execution.replay import check_program
from jarvis.execution.sinks import Sink
from jarvis.journal import Journal, Start
from jarvis.sandbox import Abort, ProtocolViolation
from jarvis.sandbox.channel import pack, unpack


class SandboxBridge:
    def __init__(
        self,
        host: ExecutionHost,
        journal: Journal,
        command: StartCommand,
        sink: Sink,
        event: Callable[..., LifecycleEvent],
    ) -> None:
        self.host = host
        self.journal = journal
        self.command = command
        self.sink = sink
        self.event = event
        self.sites: dict[int, tuple[str, int, int, int, int, str]] = {}
        self.digest: str | None = None
        self.resumed = False
        self.stopped: Stopped | None = None  # a stop that ended a host wait (sleep, Book call)

    # -- Handler ----------------------------------------------------------------------------

    def compiled(self, digest: str) -> None:
        self.digest = digest
        recorded = self.journal.start
        try:
            check_program(self.command.execution_id, recorded, digest)
        except NonDeterminismError as exc:
            self.host.fatal = exc
            raise Abort() from None
        self.resumed = recorded is not None
        if recorded is None:
            recorded = self._journal_start(digest)
        self.host.anchor_at(recorded)
        self.sink.event(self.event("resumed" if self.resumed else "started", program_digest=digest))

    def _journal_start(self, digest: str) -> Start:
        ns = time.time_ns()
        start = Start(
            digest=digest,
            filename=self.command.program.filename,
            inputs=self.command.inputs,
            books=self.command.books,
            at=datetime.fromtimestamp(ns // 10**9, UTC)
            .replace(microsecond=ns // 1000 % 10**6)
            .isoformat(),
            # The first anchor of the log timestamps (host.anchor_ns), here and in replays.
            ns=ns,
        )
        try:
            self.journal.append(
                start,
                # Not synced: a start lost in a crash is written again by the re-run;
                # the first effect's (or the end's) sync makes it durable with it.
                # (Only a machine crash loses it: a killed process's writes are in the
                # kernel already. Then the records logged before the first effect are
                # re-emitted with the new start's anchor: README, "Reading logs".)
                lazy=True,
            )
        except Stopped as exc:
            self.stopped = exc
            raise Abort() from None
        except JarvisError as exc:
            self.host.fatal = exc
            raise Abort() from None
        return start

    def records(self, recs: list[Any], sites: list[Any], blobs: list[bytes]) -> None:
        table = self.sites
        for s in sites:
            if (
                type(s) is not list
                or len(s) != 7
                or type(s[0]) is not int
                or type(s[1]) is not str
                or not all(type(v) is int for v in s[2:6])
                or type(s[6]) is not str
            ):
                raise ProtocolViolation("malformed site")
            table[s[0]] = (s[1], s[2], s[3], s[4], s[5], s[6])
        try:
            self.host.sandbox_records(recs, table, blobs)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise ProtocolViolation(f"malformed record: {exc}") from None
        except Stopped as exc:  # the lease was lost while making effects durable
            self.stopped = exc
            raise Abort() from None
        except JarvisError as exc:
            self.host.fatal = self.host.fatal or exc
            raise Abort() from None

    def effect(self, name: str, args: Any, blobs: list[bytes]) -> list[Any]:
        try:
            if name == "artifact":
                if (
                    type(args) is not list
                    or len(args) != 3
                    or type(args[0]) is not str
                    or type(args[2]) is not int
                    or not 0 <= args[2] < len(blobs)
                ):
                    raise ProtocolViolation("malformed artifact request")
                payload = blobs[args[2]]
                content: str | bytes = (
                    payload.decode("utf-8", "surrogatepass") if args[1] == "str" else payload
                )
                call_args: tuple[Any, ...] = (args[0], content)
            else:
                if type(args) is not list:
                    raise ProtocolViolation("malformed effect request")
                call_args = tuple(unpack(args))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ProtocolViolation(f"malformed effect request: {exc}") from None
        try:
            result = self.host.effect(name, call_args)
        except ProgramError as exc:
            return ["err", exc.spy_type, exc.message]
        except Stopped as exc:
            self.stopped = exc
            return ["fatal"]
        except JarvisError as exc:
            self.host.fatal = self.host.fatal or exc
            return ["fatal"]
        return ["ok", pack(result)]

    def stop_requested(self) -> Interruption | None:
        return self.host.stop_requested
