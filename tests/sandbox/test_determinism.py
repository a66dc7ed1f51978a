"""Program-visible text is a function of the inputs and the journal alone (DESIGN.md §1b).

Every conformance case (tests/spy/cases/) and every attack program of the sandbox suite
runs twice, in sandboxes of two different zygotes (two interpreters, each with its own
address-space layout, one of them with a different allocation history), with the same
deterministic effects. Everything the program could see or show must be identical: every
log record's value, the result, the error type, message and traceback. And none of it may
hold host text: a memory address, a host module or class, an internal parameter name.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from jarvis.errors import ProgramError
from jarvis.sandbox import SandboxPolicy, SandboxPool, run_attempt
from jarvis.sandbox.channel import pack, unpack
from tests.spy._host import CaseHost
from tests.spy.test_sandbox_attacks import (
    BASE_LIMITS,
    CONTAINED,
    LEGAL,
    REJECTED,
    RESOURCE_ATTACKS,
)
from tests.spy.test_spy_cases import ALL_CASES, INPUTS

from .helpers import run_spec

ATTACK_WALL_S = 120.0  # a hang guard for each of the two runs (pytest's timeout is 300 s)
HOST_TEXT = re.compile(
    r"\bat 0x[0-9a-fA-F]+|0x(?:5[5-6]|7f)[0-9a-fA-F]{8,}|\bjarvis\.|Environment\b|BookProcedure|"
    r"BookNamespace|_BoundWrapper|SandboxHost|Meter\b|\bself\b|object at |site-packages|"
    r"/usr/lib/python|\.py\", line"
)
#: Outcomes that depend on the clock (where a time or memory probe fired): only their
#: type and message are compared, not how far the program got.
TIMING = ("time limit", "memory limit", "wall")


class DeterministicHandler:
    """Records what the program shows; answers effects like the conformance cases' host."""

    def __init__(self) -> None:
        self.host = CaseHost()
        self.sites: dict[int, list[Any]] = {}
        self.shown: list[Any] = []

    def compiled(self, digest: str) -> None:
        self.shown.append(["compiled", digest])

    def records(self, recs: list[Any], sites: list[Any], blobs: list[bytes]) -> None:
        for s in sites:
            self.sites[s[0]] = s[1:]
        for i in range(0, len(recs), 3):
            sid, value, code = recs[i : i + 3]
            if sid != -1:  # time marks differ between runs, and programs never see them
                if code == 5 or (type(code) is str and code.startswith("=")):
                    value = blobs[value].decode("utf-8")
                self.shown.append([self.sites[sid], value, code])

    def effect(self, name: str, args: Any, blobs: list[bytes]) -> list[Any]:
        if name == "artifact":
            content = blobs[args[2]]
            call: tuple[Any, ...] = (
                args[0],
                content.decode("utf-8", "surrogatepass") if args[1] == "str" else content,
            )
        else:
            call = tuple(unpack(args))
        try:
            return ["ok", pack(self.host.effect(name, call))]
        except ProgramError as exc:
            return ["err", exc.spy_type, exc.message]

    def stop_requested(self) -> str | None:
        return None


def _programs() -> Iterator[Any]:
    for path in ALL_CASES:
        yield pytest.param(path.read_text(), {}, id=f"case-{path.stem}")
    for group, params in (("rejected", REJECTED), ("contained", CONTAINED), ("legal", LEGAL)):
        for p in params:
            yield pytest.param(p.values[0], {}, id=f"{group}-{p.id}")
    for p in RESOURCE_ATTACKS:
        # Level effects: at full, rendering every doubling of a huge value costs host time
        # that a loaded machine may stretch past the wall deadline (a kill, not a limit).
        limits = {**p.values[1], "_level": "effects"}
        if limits.get("max_wall_s") == BASE_LIMITS["max_wall_s"]:
            # Not an attack on the wall clock: its limit (memory, steps...) must end both
            # runs, so the wall deadline is moved past what a loaded machine takes to get
            # there (the attack suite's 10 s once ended one run, not the other).
            limits["max_wall_s"] = ATTACK_WALL_S
        yield pytest.param(p.values[0], limits, id=f"resource-{p.id}")


@pytest.fixture(scope="module")
def pools() -> Iterator[tuple[SandboxPool, SandboxPool]]:
    a, b = SandboxPool(1), SandboxPool(1)
    assert a.wait_warm(60) and b.wait_warm(60)
    # A different allocation history in b's sandbox: objects land at other addresses.
    for i in range(3):
        run_attempt(
            b,
            run_spec(f"junk = [str(k) * {i + 1} for k in range(5000)]\nresult = 1"),
            DeterministicHandler(),
            SandboxPolicy(),
            1 << 28,
        )
    yield a, b
    a.close()
    b.close()


def _run(
    pool: SandboxPool, source: str, limits: dict[str, Any]
) -> tuple[list[Any], dict[str, Any]]:
    handler = DeterministicHandler()
    limits = dict(limits)
    level = limits.pop("_level", "full")
    spec = run_spec(
        source, limits=limits, inputs=copy.deepcopy(INPUTS), books=CaseHost.BOOKS, level=level
    )
    end = run_attempt(pool, spec, handler, SandboxPolicy(), 1 << 28)
    outcome = {k: v for k, v in end.data.items() if k not in ("recycle", "peak_rss")}
    outcome["status"] = end.status
    return handler.shown, outcome


@pytest.mark.parametrize(("source", "limits"), list(_programs()))
def test_program_visible_text_is_the_same_in_two_sandboxes(
    pools: tuple[SandboxPool, SandboxPool], source: str, limits: dict[str, Any]
) -> None:
    shown_a, out_a = _run(pools[0], source, limits)
    shown_b, out_b = _run(pools[1], source, limits)
    assert out_a["status"] not in ("internal", "crashed"), out_a
    text = orjson.dumps([shown_a, out_a]).decode()
    leak = HOST_TEXT.search(text)
    assert leak is None, (
        f"host text {leak.group(0)!r} in: {text[max(0, leak.start() - 200) : leak.end() + 200]}"
    )
    message = str(out_a.get("error", {}).get("message", ""))
    if any(word in message for word in TIMING):
        assert out_a["error"]["message"] == out_b["error"]["message"]
        assert out_a["error"]["spy_type"] == out_b["error"]["spy_type"]
        return
    assert out_a == out_b
    assert shown_a == shown_b


def test_there_are_enough_programs() -> None:
    assert len(list(_programs())) > len(ALL_CASES) + 100
    assert all(Path(p).exists() for p in ALL_CASES)
