"""Book calls on the host side: the registry of Books and the retrying call path.

Book authors import ``jarvis.bdk``; the worker and the execution host import this package.
The shipped Books live in ``jarvis.books.http`` and ``jarvis.books.kv`` and are found through
their ``jarvis.books`` entry points like any third-party Book (see docs/books.md).
"""

from jarvis.books.calls import Attempt
from jarvis.books.registry import ENTRY_POINT_GROUP, BookRegistry

__all__ = ["ENTRY_POINT_GROUP", "Attempt", "BookRegistry"]
