"""The compiler: SPy source -> a checked, instrumented ``Program``."""

from jarvis.spy.compiler.pipeline import compile_program

__all__ = ["compile_program"]
