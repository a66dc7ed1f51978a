"""Durable, append-only execution journals on the checkpoint volume."""

from jarvis.journal.journal import FORMAT_VERSION, Fence, Journal

__all__ = ["FORMAT_VERSION", "Fence", "Journal"]
