"""Durable, append-only execution journals on the checkpoint volume."""

from jarvis.journal.journal import Fence, History, Journal
from jarvis.journal.records import (
    FORMAT_VERSION,
    Crash,
    Effect,
    EffectError,
    End,
    FenceMark,
    Record,
    Start,
)

__all__ = [
    "FORMAT_VERSION",
    "Crash",
    "Effect",
    "EffectError",
    "End",
    "Fence",
    "FenceMark",
    "History",
    "Journal",
    "Record",
    "Start",
]
