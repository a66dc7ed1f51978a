"""One RunConfig builder: the worker and ``jarvis run`` read every setting the same way."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from jarvis.books import BookRegistry
from jarvis.contract import StartCommand
from jarvis.execution import RunConfig
from jarvis.journal.durability import DIRECT
from jarvis.settings import Settings
from jarvis.worker.executions import Executions
from jarvis.worker.hooks import HookList

# Every setting that reaches a RunConfig, each off its default.
SETTINGS: dict[str, Any] = {
    "artifact_deadline_s": 12.5,
    "max_program_bytes": 77_000,
    "limit_max_steps": 1234,
    "limit_max_wall_s": 9.0,
    "limit_max_memory_bytes": 50_000_000,
    "limit_max_recursion": 77,
    "limit_max_output_bytes": 60_000,
    "limit_max_artifacts": 3,
    "limit_max_artifact_bytes": 70_000,
    "limit_max_stored_log_bytes": 80_000,
    "limit_max_result_bytes": 90_000,
    "default_log_records": 321,
    "limit_max_log_records": 654,
    "max_log_value_bytes": 4_321,
    "sandbox_memory_cap_bytes": 900_000_000,
    "sandbox_wall_grace_s": 3.5,
    "sandbox_stop_grace_s": 0.75,
    "sandbox_max_runs": 17,
    "max_sandbox_crashes": 5,
    "max_inline_result_bytes": 12_345,
}

# Fields that differ by nature between a pod and a local run (where a run's journal,
# artifacts, Book calls, lease, sandboxes and fsyncs live), not by reading a setting.
BY_PLACE = {
    "journal_root",
    "worker_id",
    "artifacts",
    "books",
    "fence",
    "fault",
    "sandboxes",
    "durability",
    "live_effects",
}


def _settings(tmp: Path) -> Settings:
    return Settings(_env_file=None, checkpoint_dir=tmp / "ckpt", worker_id="pod-1", **SETTINGS)  # type: ignore[call-arg]


def _command() -> StartCommand:
    return StartCommand.model_validate(
        {
            "execution_id": "e",
            "program": {"source": "result = 1"},
            "options": {"limits": {"max_steps": 10**9}},
        }
    )


def _worker_config(settings: Settings) -> RunConfig:
    executions = Executions(
        settings,
        None,
        None,
        None,
        None,
        BookRegistry(),
        None,
        HookList([]),
        DIRECT,  # type: ignore[arg-type]
        lambda run: None,
        threads=1,
        ready_capacity=1,
    )
    return executions.config(_command())


def test_every_run_config_field_comes_from_settings_the_same_way(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    worker = _worker_config(settings)
    registry = BookRegistry()
    local = RunConfig.local(
        settings, _command(), tmp_path / "local", registry, registry
    )  # jarvis run's
    try:
        fields = {f.name for f in dataclasses.fields(RunConfig)}
        compared = fields - BY_PLACE
        assert compared == {
            "procedures",
            "limits",
            "log_policy",
            "storage_deadline_s",
            "sandbox_policy",
            "max_sandbox_crashes",
            "max_inline_result_bytes",
        }, "a new RunConfig field: compare it here, or say why it differs by place"
        for name in sorted(compared):
            assert getattr(worker, name) == getattr(local, name), name
    finally:
        assert local.sandboxes is not None
        local.sandboxes.close()
    # ...and from the settings, not from defaults of their own.
    assert worker.storage_deadline_s == 12.5  # `jarvis run` used to ignore it
    assert worker.max_program_bytes == 77_000 == worker.limits.max_program_bytes
    assert worker.limits.max_steps == 1234  # the request, clamped to the operator's cap
    assert worker.log_policy.max_records == 321 and worker.log_policy.max_value_bytes == 4_321
    assert worker.sandbox_policy.max_runs == 17 and worker.max_sandbox_crashes == 5
    assert worker.max_inline_result_bytes == 12_345
    assert worker.journal_root == tmp_path / "ckpt" and worker.worker_id == "pod-1"
    assert local.journal_root == tmp_path / "local" / "journals" and local.worker_id == "local"


def test_the_program_size_default_is_the_settings_one(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, checkpoint_dir=tmp_path)  # type: ignore[call-arg]
    config = _worker_config(settings)
    assert config.max_program_bytes == settings.max_program_bytes


def test_a_run_config_built_by_hand_has_the_settings_program_size_default(tmp_path: Path) -> None:
    from jarvis.artifacts import LocalArtifactStore

    config = RunConfig(journal_root=tmp_path, worker_id="t", artifacts=LocalArtifactStore(tmp_path))
    assert config.max_program_bytes == Settings.model_fields["max_program_bytes"].default


def test_the_language_and_the_worker_have_one_program_size_default() -> None:
    """jarvis.spy cannot import the settings (it sits below them), so the value is written in
    both places: this keeps them one default (bare ``compile_program``/``run_program`` and
    the worker refuse the same programs)."""
    from jarvis.spy.limits import Limits

    assert Limits().max_program_bytes == Settings.model_fields["max_program_bytes"].default
