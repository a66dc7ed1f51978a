"""SPy: the sandboxed, deterministic subset of Python that Jarvis executes.

``compile_program`` checks and compiles a program once; ``run_program`` runs it against
a ``Host`` that receives its log records and performs its effects, within ``Limits``.
See docs/spy.md.
"""

from jarvis.spy.compiler import Program, Site, compile_program
from jarvis.spy.crossing import render_value
from jarvis.spy.limits import Limits
from jarvis.spy.runtime import Host, run_program

__all__ = ["Host", "Limits", "Program", "Site", "compile_program", "render_value", "run_program"]
