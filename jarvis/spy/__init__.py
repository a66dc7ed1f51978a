"""SPy: the sandboxed, deterministic subset of Python that Jarvis executes.

``compile_program`` checks and compiles a program once; ``run_program`` runs it against
a ``Host`` that receives its log records and performs its effects, within ``Limits``.
See docs/spy.md.
"""

from jarvis.spy.compiler import compile_program
from jarvis.spy.limits import Limits
from jarvis.spy.program import Program, Site
from jarvis.spy.runtime.run import Host, run_program
from jarvis.spy.values.data import render_value

__all__ = ["Host", "Limits", "Program", "Site", "compile_program", "render_value", "run_program"]
