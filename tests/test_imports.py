"""The import graph of ``jarvis/``: no cycle, and no import that goes up a layer.

Every ``import`` counts, wherever it is written: at module level, under
``if TYPE_CHECKING:``, or deferred inside a function. A deferred import that only exists
to break a cycle still makes the two modules depend on each other, so it is a cycle here.

An edge goes to the module named (``from jarvis.spy import _names`` is an edge to
``jarvis.spy._names``; ``from jarvis.spy.values.text import spy_repr`` to ``jarvis.spy.values.text``);
the implicit import of a package's ``__init__`` on the way is not an edge, otherwise every
package that re-exports its submodules would be a cycle.

``LAYERS`` is the layer table: a module may import its own layer or lower ones only.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Layers, lowest first. A module belongs to the most specific (longest) prefix that
# names it (the last row, ``jarvis``, names every module no other row does: the rest of
# jarvis sits above the language, its own order left to the cycle check). A module may
# import modules of its own layer or lower ones.
LAYERS: tuple[tuple[str, ...], ...] = (
    # The root error hierarchy: the one thing every package may use.
    ("jarvis.errors",),
    # The language, bottom-up (the docstring of jarvis/spy/__init__.py says why).
    ("jarvis.spy._names", "jarvis.spy.source", "jarvis.spy.limits"),
    ("jarvis.spy.program", "jarvis.spy.checker"),
    ("jarvis.spy.values.names",),
    ("jarvis.spy.values.arguments",),
    ("jarvis.spy.values.containers",),
    ("jarvis.spy.values.text",),
    ("jarvis.spy.values.data", "jarvis.spy.values"),
    ("jarvis.spy.runtime.positions", "jarvis.spy.runtime.exceptions"),
    ("jarvis.spy.runtime.memory",),
    ("jarvis.spy.runtime.meter",),
    ("jarvis.spy.runtime.guards",),
    ("jarvis.spy.runtime.namespaces", "jarvis.spy.runtime.books"),
    ("jarvis.spy.whitelist",),
    ("jarvis.spy.runtime.gate",),
    ("jarvis.spy.runtime.effects",),
    ("jarvis.spy.runtime.environment",),
    ("jarvis.spy.runtime.run", "jarvis.spy.runtime"),
    ("jarvis.spy.compiler.nodes",),
    ("jarvis.spy.compiler.base",),
    (
        "jarvis.spy.compiler.statements",
        "jarvis.spy.compiler.expressions",
        "jarvis.spy.compiler.operators",
        "jarvis.spy.compiler.fstrings",
    ),
    ("jarvis.spy.compiler.instrumenter",),
    ("jarvis.spy.compiler.pipeline", "jarvis.spy.compiler"),
    ("jarvis.spy",),  # the package's public surface: re-exports only
    # Everything else in jarvis sits above the language.
    ("jarvis",),
)


def module_name(path: Path, root: Path) -> str:
    """``jarvis/spy/values/text.py`` -> ``jarvis.spy.values.text``; a package is its ``__init__``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(name: str, modules: frozenset[str]) -> str | None:
    """The deepest module of ``modules`` that ``name`` (a dotted path) lies in."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _imported(
    node: ast.Import | ast.ImportFrom, here: str, is_package: bool, modules: frozenset[str]
) -> Iterator[str]:
    """The modules of ``modules`` an import statement in module ``here`` reaches."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            target = _resolve(alias.name, modules)
            if target is not None:
                yield target
        return
    base = node.module or ""
    if node.level:
        anchor = here.split(".")
        # In a package's __init__, level 1 is the package itself.
        drop = node.level - 1 if is_package else node.level
        anchor = anchor[: len(anchor) - drop] if drop else anchor
        base = ".".join([*anchor, base] if base else anchor)
    for alias in node.names:
        # `from pkg import sub` imports the submodule pkg.sub when there is one, else a name
        # of pkg itself.
        submodule = f"{base}.{alias.name}"
        target = submodule if submodule in modules else _resolve(base, modules)
        if target is not None:
            yield target


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Module -> the modules inside ``package`` it imports, for every ``.py`` under it."""
    files = {module_name(path, root): path for path in sorted((root / package).rglob("*.py"))}
    modules = frozenset(files)
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        is_package = path.name == "__init__.py"
        targets: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                targets.update(_imported(node, name, is_package, modules))
        targets.discard(name)
        graph[name] = targets
    return graph


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in graph.get(node, ()):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def layer_of(module: str, layers: tuple[tuple[str, ...], ...]) -> int | None:
    """The index of the layer whose longest matching prefix names ``module``."""
    best: tuple[int, int] | None = None  # (prefix length, layer)
    for level, prefixes in enumerate(layers):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and (
                best is None or len(prefix) > best[0]
            ):
                best = (len(prefix), level)
    return None if best is None else best[1]


def upward_imports(
    graph: Mapping[str, Iterable[str]], layers: tuple[tuple[str, ...], ...]
) -> list[str]:
    """Each import of a module from a higher layer, as ``importer -> imported``."""
    found = []
    for module, targets in sorted(graph.items()):
        mine = layer_of(module, layers)
        for target in sorted(targets):
            theirs = layer_of(target, layers)
            if mine is not None and theirs is not None and theirs > mine:
                found.append(f"{module} (layer {mine}) -> {target} (layer {theirs})")
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(ROOT, "jarvis")


def test_no_import_cycle_inside_jarvis(graph: dict[str, set[str]]) -> None:
    found = cycles(graph)
    assert not found, "import cycles (deferred imports count):\n" + "\n".join(
        " <-> ".join(component) for component in found
    )


def test_no_import_goes_up_a_layer(graph: dict[str, set[str]]) -> None:
    found = upward_imports(graph, LAYERS)
    assert not found, "imports of a higher layer:\n" + "\n".join(found)


def test_every_spy_module_has_a_layer(graph: dict[str, set[str]]) -> None:
    """A new module in jarvis.spy is placed in the table, not left in the catch-all layer."""
    package_layer = layer_of("jarvis.spy", LAYERS)
    unplaced = [
        module
        for module in graph
        if module.startswith("jarvis.spy.") and layer_of(module, LAYERS) == package_layer
    ]
    assert not unplaced, f"add these to LAYERS: {unplaced}"


def test_the_language_depends_on_nothing_else_in_jarvis(graph: dict[str, set[str]]) -> None:
    outside = sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        if module == "jarvis.spy" or module.startswith("jarvis.spy.")
        for target in targets
        if not (target.startswith("jarvis.spy") or target == "jarvis.errors")
    )
    assert not outside, outside


# The checker itself, on tiny fake packages.


def _package(tmp_path: Path, files: Mapping[str, str]) -> Path:
    for relative, text in files.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_checker_reports_a_cycle_held_by_a_deferred_import(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "fake/__init__.py": "from fake.a import f\n",
            "fake/a.py": "from fake import b\n\ndef f():\n    return b\n",
            "fake/b.py": "def g():\n    from .c import h  # deferred\n    return h\n",
            "fake/c.py": "import fake.a\n",
            "fake/d.py": "import fake.a\nimport os\n",
        },
    )
    graph = import_graph(root, "fake")
    assert graph["fake.b"] == {"fake.c"}
    assert graph["fake.d"] == {"fake.a"}
    assert cycles(graph) == [["fake.a", "fake.b", "fake.c"]]


def test_checker_resolves_relative_imports_in_a_package(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "fake/__init__.py": "",
            "fake/sub/__init__.py": "from . import x\nfrom .. import top\n",
            "fake/sub/x.py": "from .y import z\n",
            "fake/sub/y.py": "z = 1\n",
            "fake/top.py": "",
        },
    )
    graph = import_graph(root, "fake")
    assert graph["fake.sub"] == {"fake.sub.x", "fake.top"}
    assert graph["fake.sub.x"] == {"fake.sub.y"}
    assert cycles(graph) == []


def test_checker_reports_an_upward_import() -> None:
    layers = (("fake.low",), ("fake.high",), ("fake",))
    graph = {"fake.low.a": {"fake.high"}, "fake.high": {"fake.low.a"}, "fake.cli": {"fake.high"}}
    assert upward_imports(graph, layers) == ["fake.low.a (layer 0) -> fake.high (layer 1)"]
