"""The jarvis command: `run` with no services, input parsing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from jarvis.cli.main import parse_inputs
from tests.conftest import ROOT

JARVIS = [sys.executable, "-m", "jarvis.cli"]


def _run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        # Point every service at a closed port: `jarvis run` must not need any of them.
        "JARVIS_KAFKA_BOOTSTRAP": "127.0.0.1:9",
        "JARVIS_REDIS_URL": "redis://127.0.0.1:9/0",
        "JARVIS_S3_ENDPOINT_URL": "http://127.0.0.1:9",
    }
    return subprocess.run([*JARVIS, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)


def test_parse_inputs() -> None:
    assert parse_inputs(["n=10", "name=Ada", "xs=[1,2]", "s=\"q\"", "e="]) == {
        "n": 10, "name": "Ada", "xs": [1, 2], "s": "q", "e": "",
    }


def test_run_hello_locally_without_services(tmp_path: Path) -> None:
    proc = _run(["run", str(ROOT / "examples" / "hello.spy"), "-i", "name=Ada", "-i", "n=6", "--id", "h1"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "print  Hello, Ada!" in proc.stdout
    assert "COMPLETED" in proc.stdout
    artifact = tmp_path / ".jarvis" / "local" / "artifacts" / "h1" / "artifacts" / "report.txt"
    assert artifact.read_text() == "Hello, Ada!\nnumbers=[0, 1, 3]\ntotal=4\n"
    assert (tmp_path / ".jarvis" / "local" / "journals" / "h1" / "journal.log").exists()


def test_run_json_lines(tmp_path: Path) -> None:
    proc = _run(["run", str(ROOT / "examples" / "loops.spy"), "--json"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = [orjson.loads(line) for line in proc.stdout.splitlines()]
    logs = [x["log"] for x in lines if "log" in x]
    assert [r["seq"] for r in logs] == list(range(len(logs)))
    final = lines[-1]["event"]
    assert final["event"] == "completed"
    assert final["result"] == {"restock": ["pears"], "first_square_over_50": 64}


@pytest.mark.parametrize(("example", "code", "needle"), [("failing.spy", 1, "ZeroDivisionError"), ("rejected.spy", 1, ":3:1:")])
def test_run_failures_exit_non_zero(tmp_path: Path, example: str, code: int, needle: str) -> None:
    proc = _run(["run", str(ROOT / "examples" / example)], tmp_path)
    assert proc.returncode == code
    assert needle in proc.stdout


def test_same_id_resumes_from_journal_and_reannounces(tmp_path: Path) -> None:
    first = _run(["run", str(ROOT / "examples" / "hello.spy"), "--id", "again"], tmp_path)
    second = _run(["run", str(ROOT / "examples" / "hello.spy"), "--id", "again"], tmp_path)
    assert first.returncode == second.returncode == 0
    assert "print" not in second.stdout  # the outcome came from the journal, nothing re-ran
    assert "COMPLETED" in second.stdout
