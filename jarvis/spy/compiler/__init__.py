"""The compiler: SPy source -> a checked, instrumented ``Program``."""

from jarvis.spy.compiler.instrumenter import compile_program

__all__ = ["compile_program"]
