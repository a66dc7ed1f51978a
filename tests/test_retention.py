import os
import time
from pathlib import Path

from jarvis.journal import End, Journal, Start
from jarvis.journal.retention import collect


def _journal(root: Path, eid: str, ended: bool, age_s: float) -> None:
    j = Journal.open(root, eid)
    j.append(Start("d", "p", {}, []))
    if ended:
        j.append(End({}))
    j.close()
    old = time.time() - age_s
    os.utime(j.path, (old, old))


def test_only_old_finished_journals_are_collected(tmp_path: Path) -> None:
    _journal(tmp_path, "old-done", ended=True, age_s=3600)
    _journal(tmp_path, "old-open", ended=False, age_s=3600)  # suspended: never collected
    _journal(tmp_path, "new-done", ended=True, age_s=10)
    assert collect(tmp_path, older_than_s=600, dry_run=True) == ["old-done"]
    assert (tmp_path / "old-done").exists()
    assert collect(tmp_path, older_than_s=600) == ["old-done"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new-done", "old-open"]
