"""The repository root, and the runner of the project's cached installers and builders."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def tool(*args: str, timeout_s: float) -> str:
    """Run ``scripts/tools/<args[0]> args[1:]`` and return the last line it printed: the
    path of what it built, or an address."""
    env = {**os.environ, "CI": os.environ.get("CI", "true")}
    done = subprocess.run(
        [str(ROOT / "scripts" / "tools" / args[0]), *args[1:]],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    assert done.returncode == 0, f"scripts/tools/{' '.join(args)} failed:\n{done.stderr[-4000:]}"
    return done.stdout.strip().splitlines()[-1]


def built_tool(*args: str, timeout_s: float) -> Path:
    """``tool`` for a builder: the path it printed, checked to be a file."""
    path = Path(tool(*args, timeout_s=timeout_s))
    assert path.is_file(), path
    return path
