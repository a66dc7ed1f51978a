"""A recording test double for ``jarvis.spy.Host``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from jarvis.errors import ProgramError
from jarvis.spy import Site, render_value


@dataclass
class Record:
    kind: str
    line: int
    source: str
    data: object  # render_value(value)[0], taken at emit time (values are live objects)
    type_name: str


@dataclass
class RecordingHost:
    effects: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    sites: list[Site] = field(default_factory=list)
    checks: int = 0

    def emit(self, site: Site, value: object) -> None:
        data, type_name = render_value(value)
        self.sites.append(site)
        self.records.append(Record(site.kind, site.line, site.source, data, type_name))

    def effect(self, name: str, args: tuple[object, ...]) -> object:
        self.effects.append((name, args))
        return f"mem://{name}/{len(self.effects)}"

    def check(self) -> None:
        self.checks += 1

    @property
    def output(self) -> str:
        """What CPython's print would have written (print records are lines)."""
        return "".join(str(r.data) + "\n" for r in self.records if r.kind == "print")


@dataclass
class CaseHost(RecordingHost):
    """RecordingHost with deterministic effects and one Book, ``kv`` (get/put/fail).

    Used by SPy-only case programs (``# spy-only`` cases in cases/), which CPython
    cannot run: their expected output is written in the case file itself.
    """

    store: dict[object, object] = field(default_factory=dict)
    uuids: int = 0

    BOOKS: ClassVar[dict[str, list[str]]] = {"kv": ["get", "put", "fail"]}

    def effect(self, name: str, args: tuple[object, ...]) -> object:
        self.effects.append((name, args))
        if name == "now":
            return 1_700_000_000.5
        if name == "random":
            return 0.25
        if name == "randint":
            return args[0]
        if name == "uuid":
            self.uuids += 1
            return f"00000000-0000-4000-8000-{self.uuids:012d}"
        if name == "sleep":
            return None
        if name == "artifact":
            return f"mem://artifact/{args[0]}"
        if name == "book":
            book, procedure, pargs, kwargs = args
            assert book == "kv" and isinstance(pargs, list) and isinstance(kwargs, dict)
            if procedure == "get":
                return self.store.get(
                    pargs[0], kwargs.get("default", pargs[1] if len(pargs) > 1 else None)
                )
            if procedure == "put":
                self.store[pargs[0]] = pargs[1]
                return None
            if procedure == "fail":
                raise ProgramError("BookError", str(pargs[0]))
        raise NotImplementedError(name)
