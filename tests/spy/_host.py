"""A recording test double for ``jarvis.spy.Host``."""

from __future__ import annotations

from dataclasses import dataclass, field

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
