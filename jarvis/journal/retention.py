"""Retention of finished executions' journals on the checkpoint volume.

A finished journal answers duplicate starts (re-announcing the outcome), so it must outlive
any redelivery of its start: keep it longer than the control topic's retention (7 days by
default; the default here is 14). Unfinished journals (running, suspended) are never
collected: they are the only copy of an execution's progress.
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

from jarvis.errors import JournalError
from jarvis.journal.journal import JOURNAL_FILE, Journal

log = logging.getLogger("jarvis.journal")


def collect(
    root: Path, older_than_s: float, now: float | None = None, dry_run: bool = False
) -> list[str]:
    """Remove journals that ended and were last written more than ``older_than_s`` ago.

    Returns the execution ids removed (or that would be, with ``dry_run``).
    """
    cutoff = (time.time() if now is None else now) - older_than_s
    removed: list[str] = []
    if not root.is_dir():
        return removed
    for directory in root.iterdir():
        path = directory / JOURNAL_FILE
        try:
            if not path.is_file() or path.stat().st_mtime > cutoff:
                continue
            history = Journal.read(root, directory.name)  # looks only: never repairs
        except (OSError, JournalError) as exc:
            log.warning("retention: skipping %s: %s", directory, exc)
            continue
        if history.end is None:
            continue
        if not dry_run:
            shutil.rmtree(directory, ignore_errors=True)
        removed.append(directory.name)
    return removed
