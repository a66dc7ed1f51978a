"""SPy: the sandboxed, deterministic subset of Python that Jarvis executes.

``compile_program`` checks and compiles a program once; ``run_program`` runs it against
a ``Host`` that receives its log records and performs its effects, within ``Limits``.
See docs/spy.md.

Layers, bottom-up (each module imports only its own layer or lower ones; no cycle,
deferred imports included: ``tests/test_imports.py`` holds the table and enforces it).
The package depends on nothing else in ``jarvis`` but ``jarvis.errors``.

1. ``_names`` (the ``__spy_*`` names and ``SPY_DIR``), ``source`` (positions in the text),
   ``limits`` (``Limits``, the documented value object only).
2. ``program`` (``Program``, ``Site``, ``LOG_LEVELS``: what the compiler makes and the
   runtime runs), ``checker`` (what SPy rejects before running).
3. ``values/``: ``names`` (type names, builtin marks) -> ``arguments`` -> ``containers``
   (``SpySet``, ``SpyRange``, views) -> ``text`` (``str``/``repr``) -> ``data`` (the one
   converter between program and host: ``copy_in``, ``plain``, ``render``).
4. ``runtime/``: ``positions`` (the one code-position lookup) and ``exceptions`` ->
   ``memory`` (the heap walk) -> ``meter`` -> ``guards`` -> ``namespaces`` and ``books``.
5. ``whitelist`` (the static sandbox tables).
6. ``runtime/``: ``gate`` (the attribute gate) -> ``effects`` (the one host-effect
   wrapper, ``print``) -> ``environment`` (the builtins of one run) -> ``run``.
7. ``compiler/``: ``nodes`` -> ``base`` -> the node families ``statements``,
   ``expressions``, ``operators``, ``fstrings`` (mixins over ``base``, so the 53-method
   instrumenter reads one concern at a time) -> ``instrumenter`` -> ``pipeline``.
8. this module: the public names, re-exported.

Where this improves on the sketch in LAYOUT.md, and why:

- ``whitelist`` sits above the values and the ``math``/``json`` namespaces, not at the
  bottom: its tables are keyed by those exact types (``METHODS[SpySet]``), so it must
  import them; it is still static data, read by the gate and the compiler alike.
- The compiler is the top layer, above the runtime, because it reads what the runtime
  defines (the whitelist's inline-gate types, the guards' static f-string specs, the
  memory walk's comprehension ranges). Nothing in the runtime imports the compiler: it
  runs a ``Program``, which is plain data one layer up from the bottom.
- The meter does not know the environment: ``run`` hands it the program's roots (a
  callable) and the code that builds values out of the walk's sight (``Guards.materialize``
  and the program's comprehensions), which used to be deferred imports of the layers above.
- ``values/containers`` needs SPy's ``repr`` for its own ``__repr__``, and ``text`` (above
  it) renders the containers: ``text`` installs its ``spy_repr`` into ``containers`` when
  imported (``values/__init__`` guarantees it first), a dependency inverted by a call
  instead of an import cycle.
- Effects (``effects``) and the gate (``gate``) have modules of their own, apart from the
  environment that binds them: the gate is the heart of the sandbox and was hidden in a
  module called builtins.
"""

from jarvis.spy.compiler import compile_program
from jarvis.spy.limits import Limits
from jarvis.spy.program import Program, Site
from jarvis.spy.runtime.run import Host, run_program
from jarvis.spy.values.data import render_value

__all__ = ["Host", "Limits", "Program", "Site", "compile_program", "render_value", "run_program"]
