"""The jarvis command: `run` with no services, input parsing."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import orjson
import pytest

from jarvis.cli.main import parse_inputs
from tests.helpers import ROOT

JARVIS = [sys.executable, "-m", "jarvis.cli"]


def _run(
    args: list[str], tmp_path: Path, timeout_s: float = 60, **extra: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("JARVIS_CLI")},
        # Point every service at a closed port: `jarvis run` must not need any of them.
        "JARVIS_KAFKA_BOOTSTRAP": "127.0.0.1:9",
        "JARVIS_REDIS_URL": "redis://127.0.0.1:9/0",
        "JARVIS_S3_ENDPOINT_URL": "http://127.0.0.1:9",
        "JARVIS_CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
        "PYTHONPATH": str(ROOT),
        **extra,
    }
    return subprocess.run(
        [*JARVIS, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=timeout_s
    )


def test_parse_inputs() -> None:
    assert parse_inputs(["n=10", "name=Ada", "xs=[1,2]", 's="q"', "e="]) == {
        "n": 10,
        "name": "Ada",
        "xs": [1, 2],
        "s": "q",
        "e": "",
    }


def test_run_hello_locally_without_services(tmp_path: Path) -> None:
    proc = _run(
        ["run", str(ROOT / "examples" / "hello.spy"), "-i", "name=Ada", "-i", "n=6", "--id", "h1"],
        tmp_path,
    )
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


@pytest.mark.parametrize(
    ("example", "code", "needle"),
    [("failing.spy", 1, "ZeroDivisionError"), ("rejected.spy", 1, ":3:1:")],
)
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


# --- errors: one line naming the cause and the address, a hint, no traceback (issue 10) ---

DOWN = "127.0.0.1:9"  # a closed local port: "Connection refused" at once


def _stderr_lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.strip()]


@pytest.mark.parametrize(
    "args",
    [
        ["submit", str(ROOT / "examples" / "hello.spy")],
        ["submit", str(ROOT / "examples" / "hello.spy"), "--follow"],
        ["stop", "some-id", "--mode", "suspend"],
        ["logs", "some-id"],
        ["logs", "some-id", "--follow"],
        ["topics", "apply"],
        ["topics", "describe", "--json"],
    ],
    ids=lambda a: " ".join(a[:2]) if a[0] != "submit" else " ".join(["submit", *a[2:]]),
)
def test_broker_down_is_one_error_line_naming_the_address_and_a_hint(
    tmp_path: Path, args: list[str]
) -> None:
    # The subprocess timeout is the bound: the command gives up by itself (JARVIS_CLI_TIMEOUT_S).
    proc = _run(args, tmp_path, JARVIS_CLI_TIMEOUT_S="2")
    assert proc.returncode == 2, proc.stderr
    lines = _stderr_lines(proc)
    assert len(lines) == 2, proc.stderr
    error, hint = lines
    assert error.startswith("error: cannot reach Kafka within 2 s: ")
    assert "Connection refused" in error and f"(JARVIS_KAFKA_BOOTSTRAP={DOWN})" in error
    assert hint.startswith("hint: ") and "JARVIS_KAFKA_BOOTSTRAP" in hint
    assert "Traceback" not in proc.stderr and "rdkafka" not in proc.stderr
    assert proc.stdout == ""


def test_the_default_timeout_gives_up_by_itself(tmp_path: Path) -> None:
    proc = _run(["submit", str(ROOT / "examples" / "hello.spy")], tmp_path, timeout_s=25)
    assert proc.returncode == 2
    assert _stderr_lines(proc)[0].startswith("error: cannot reach Kafka within 5 s: ")


def test_timeout_option_wins_over_the_setting(tmp_path: Path) -> None:
    proc = _run(
        ["stop", "x", "--timeout", "1.5"], tmp_path, JARVIS_CLI_TIMEOUT_S="60", timeout_s=30
    )
    assert proc.returncode == 2
    assert _stderr_lines(proc)[0].startswith("error: cannot reach Kafka within 1.5 s: ")


def test_debug_shows_the_traceback_and_librdkafkas_own_lines(tmp_path: Path) -> None:
    proc = _run(["--debug", "stop", "x"], tmp_path, JARVIS_CLI_TIMEOUT_S="2")
    assert proc.returncode == 2
    assert "Traceback (most recent call last)" in proc.stderr
    assert "jarvis.kafka" in proc.stderr and "rdkafka#" in proc.stderr  # routed, shown
    assert _stderr_lines(proc)[-2].startswith("error: cannot reach Kafka")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["stop", "x", "--mode", "bogus"], "invalid value 'bogus' for --mode: choose cancel or suspend"),
        (["submit", str(ROOT / "examples" / "hello.spy"), "--log-level", "loud"],
         "invalid value 'loud' for --log-level: choose full, statements or effects"),
        (["run", str(ROOT / "examples" / "hello.spy"), "--log-level", "loud"],
         "invalid value 'loud' for --log-level: choose full, statements or effects"),
    ],
)  # fmt: skip
def test_an_invalid_choice_lists_the_valid_ones(
    tmp_path: Path, args: list[str], message: str
) -> None:
    proc = _run(args, tmp_path)
    assert proc.returncode == 2
    error, hint = _stderr_lines(proc)
    assert error == f"error: {message}"
    assert hint == f"hint: see `jarvis {args[0]} --help`"
    assert "pydantic" not in proc.stderr and "Traceback" not in proc.stderr


def test_an_unknown_command_and_a_missing_argument_are_one_line(tmp_path: Path) -> None:
    proc = _run(["frobnicate"], tmp_path)
    assert proc.returncode == 2
    assert _stderr_lines(proc) == [
        "error: no such command 'frobnicate'.",
        "hint: see `jarvis --help`",
    ]
    # A near miss is one line too, with click's suggestion.
    proc = _run(["staus"], tmp_path)
    assert proc.returncode == 2
    assert _stderr_lines(proc) == [
        "error: no such command 'staus'. Did you mean 'status'?",
        "hint: see `jarvis --help`",
    ]
    proc = _run(["logs"], tmp_path)
    assert proc.returncode == 2
    assert _stderr_lines(proc)[0] == "error: missing argument 'execution_id'."


def test_an_invalid_setting_names_the_variable(tmp_path: Path) -> None:
    proc = _run(["stop", "x"], tmp_path, JARVIS_CLI_TIMEOUT_S="soon")
    assert proc.returncode == 2
    error, hint = _stderr_lines(proc)
    assert error.startswith("error: invalid setting JARVIS_CLI_TIMEOUT_S='soon': ")
    assert "JARVIS_CLI_TIMEOUT_S" in hint
    assert "pydantic" not in proc.stderr


def test_shell_completion_offers_commands_and_choices(tmp_path: Path) -> None:
    def complete(words: str) -> list[str]:
        proc = _run(
            [], tmp_path, _JARVIS_COMPLETE="complete_bash", COMP_WORDS=words,
            COMP_CWORD=str(len(words.split()) - (0 if words.endswith(" ") else 1)),
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.split()

    assert complete("jarvis stop x --mode ") == ["cancel", "suspend"]
    assert complete("jarvis submit p.spy --log-level st") == ["statements"]
    assert {"doctor", "logs", "topics"} <= set(complete("jarvis "))
    assert sorted(complete("jarvis topics ")) == ["apply", "describe", "plan"]


def test_doctor_names_every_dependency_that_is_down(tmp_path: Path) -> None:
    # One deadline for every check: the refused Kafka waits it out, and the healthy checks
    # (the Books' import among them, seconds on a loaded machine) must pass well within it.
    proc = _run(["doctor", "--json"], tmp_path, JARVIS_CLI_TIMEOUT_S="10")
    assert proc.returncode == 1, proc.stderr
    checks = {c["check"]: c for c in map(orjson.loads, proc.stdout.splitlines())}
    assert checks["settings"]["ok"] and checks["books"]["ok"] and checks["checkpoint volume"]["ok"]
    assert not checks["kafka"]["ok"] and checks["kafka"]["address"] == DOWN
    assert "Connection refused" in checks["kafka"]["detail"]
    assert not checks["topics"]["ok"] and "not checked" in checks["topics"]["detail"]
    assert not checks["redis"]["ok"] and checks["redis"]["address"] == "redis://127.0.0.1:9/0"
    assert not checks["object store"]["ok"]
    assert checks["object store"]["address"].startswith("http://127.0.0.1:9 s3://")
    assert all(c["hint"] for c in checks.values() if not c["ok"])
    assert "Traceback" not in proc.stderr


def test_the_live_view_shows_state_records_and_the_book_call_being_retried() -> None:
    import io

    from rich.console import Console

    from jarvis.cli.render import LiveView
    from jarvis.contract.messages import LifecycleEvent, LogRecord

    def record(seq: int, kind: str, source: str, value: object) -> LogRecord:
        return LogRecord(
            execution_id="e1", seq=seq, kind=kind, line=1, col=0, end_line=1, end_col=3,
            source=source, value=value, type="dict" if isinstance(value, dict) else "int",
        )  # fmt: skip

    screen = io.StringIO()
    view = LiveView("e1", Console(file=screen, force_terminal=True, width=200))

    def panel() -> str:
        out = io.StringIO()
        Console(file=out, width=200, color_system=None).print(view)
        return out.getvalue()

    with view:
        view.update(LifecycleEvent(execution_id="e1", event="started", worker="w-1"))
        view.update(record(0, "assign", "x = 1", 1))
        attempt = {"book": "kv", "procedure": "get", "attempt": 1, "outcome": "retry",
                   "error_type": "ConnectionError", "message": "refused", "delay_s": 0.5}  # fmt: skip
        view.update(record(1, "book_attempt", "kv.get", attempt))
        shown = panel()
        assert "e1 RUNNING on w-1" in shown and "2 log records" in shown
        assert "Book call in flight: kv.get (attempt 1 failed: ConnectionError: 'refused'" in shown
        view.update(record(2, "book", "y = kv.get('a')", 7))
        assert "Book call in flight" not in panel()
        view.update(
            LifecycleEvent(
                execution_id="e1", event="completed", worker="w-1", result=7, result_type="int",
                log_records=3,
            )
        )  # fmt: skip
    text = screen.getvalue()
    assert "[   0] 1:1     assign x = 1" in text and "[   2] 1:1     book" in text
    assert "== e1 COMPLETED: result = 7 (int), 3 log records" in text


def test_the_worker_logs_librdkafkas_lines_through_its_own_handler(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "JARVIS_KAFKA_BOOTSTRAP": DOWN,
        "JARVIS_REDIS_URL": "redis://127.0.0.1:9/0",
        "JARVIS_S3_ENDPOINT_URL": "http://127.0.0.1:9",
        "JARVIS_CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
        "JARVIS_HEALTH_PORT": "-1",
        "JARVIS_MAX_CONCURRENCY": "1",
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.Popen(
        [*JARVIS, "worker"], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: list[str] = []
    bound = threading.Timer(60, proc.kill)  # ends the read below if no such line ever comes
    bound.start()
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if " jarvis.kafka " in line:
                break
    finally:
        bound.cancel()
        proc.terminate()
        proc.wait(60)
    kafka = [line for line in lines if " jarvis.kafka " in line]
    assert kafka, "".join(lines)
    # The worker's format (time, level, logger), the librdkafka facility and client, the address.
    assert kafka[0].split()[2:4] == ["ERROR", "jarvis.kafka"] and "rdkafka#" in kafka[0]
    assert DOWN in kafka[0]
    assert not [line for line in lines if line.startswith("%")]  # no raw librdkafka line


def test_version_as_json(tmp_path: Path) -> None:
    proc = _run(["version", "--json"], tmp_path)
    assert proc.returncode == 0
    from jarvis import __version__
    from jarvis.contract import CONTRACT_VERSION

    assert orjson.loads(proc.stdout) == {"jarvis": __version__, "contract": CONTRACT_VERSION}
