"""The Books a worker (or `jarvis run`) offers: entry points plus configured extras."""

from __future__ import annotations

import importlib

from jarvis.books.registry import BookRegistry
from jarvis.errors import JarvisError
from jarvis.settings import Settings


def load_books(settings: Settings) -> BookRegistry:
    """Books from the ``jarvis.books`` entry points plus ``settings.extra_books``."""
    registry = BookRegistry.discover()
    for path in settings.extra_books:
        module, _, attr = path.partition(":")
        try:
            book = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise JarvisError(f"JARVIS_EXTRA_BOOKS: cannot load {path!r}: {exc}") from exc
        registry.register(book, replace=True)
    return registry
