"""What a start command meets on arrival besides its schema: operator caps on every limit,
and the buckets program.ref may name."""

from __future__ import annotations

import math
import tomllib

import pytest

from jarvis.contract.messages import MAX_WALL_S_REQUEST, LimitOverrides
from jarvis.errors import ControlMessageError
from jarvis.execution.config import effective_limits
from jarvis.settings import Settings
from jarvis.spy import Limits
from jarvis.worker.admission import allowed_ref_buckets, check_program_ref
from tests.helpers import ROOT

LIMITS = [name for name in LimitOverrides.model_fields]


def _settings(**over: object) -> Settings:
    return Settings(_env_file=None, **over)  # type: ignore[call-arg, arg-type]


def test_every_limit_has_a_finite_default_cap() -> None:
    s = _settings()
    for name in LIMITS:
        cap = getattr(s, f"limit_{name}")
        assert cap is not None and math.isfinite(cap) and cap > 0, name
    assert s.limit_max_wall_s == 24 * 3600
    assert s.limit_max_memory_bytes == 2 * 1024**3


def test_caps_are_at_least_spys_defaults() -> None:
    """A start that asks for nothing gets SPy's defaults, not something lower."""
    s = _settings()
    base = Limits()
    limits, policy = effective_limits(LimitOverrides(), s)
    for name in LIMITS:
        if name != "max_log_records":
            assert getattr(limits, name) == getattr(base, name), name
    assert policy.max_records == s.default_log_records


def test_requests_above_a_cap_are_clamped_to_it() -> None:
    s = _settings()
    huge = LimitOverrides(
        **{n: (MAX_WALL_S_REQUEST if n == "max_wall_s" else 2**63 - 1) for n in LIMITS}
    )
    limits, policy = effective_limits(huge, s)
    for name in LIMITS:
        got = policy.max_records if name == "max_log_records" else getattr(limits, name)
        assert got == getattr(s, f"limit_{name}"), name


def test_a_cap_below_the_default_lowers_the_default() -> None:
    s = _settings(limit_max_steps=1000, limit_max_wall_s=2.5)
    limits, _ = effective_limits(LimitOverrides(), s)
    assert (limits.max_steps, limits.max_wall_s) == (1000, 2.5)


def test_requests_below_a_cap_are_kept() -> None:
    limits, _ = effective_limits(LimitOverrides(max_steps=7, max_wall_s=3), _settings())
    assert (limits.max_steps, limits.max_wall_s) == (7, 3.0)


def test_caps_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JARVIS_LIMIT_MAX_WALL_S", "60")
    monkeypatch.setenv("JARVIS_PROGRAM_REF_BUCKETS", '["programs", "shared"]')
    s = _settings()
    assert s.limit_max_wall_s == 60.0
    assert allowed_ref_buckets(s) == {"programs", "shared"}


# --- program.ref ---


def test_program_ref_defaults_to_the_artifact_bucket_only() -> None:
    s = _settings(s3_bucket="jarvis-artifacts")
    assert allowed_ref_buckets(s) == {"jarvis-artifacts"}
    check_program_ref("s3://jarvis-artifacts/programs/a.spy", s)
    check_program_ref(None, s)  # inline source: nothing to check
    with pytest.raises(ControlMessageError) as info:
        check_program_ref("s3://payroll-exports/2026/salaries.csv", s)
    assert info.value.field == "program.ref"
    assert "'payroll-exports' is not allowed" in info.value.reason
    assert "JARVIS_PROGRAM_REF_BUCKETS" in info.value.reason


def test_program_ref_buckets_setting_replaces_the_default() -> None:
    s = _settings(s3_bucket="jarvis-artifacts", program_ref_buckets=["programs"])
    check_program_ref("s3://programs/a.spy", s)
    with pytest.raises(ControlMessageError):
        check_program_ref("s3://jarvis-artifacts/a.spy", s)


def test_program_ref_star_allows_any_bucket() -> None:
    check_program_ref("s3://anything/a.spy", _settings(program_ref_buckets=["*"]))


def test_a_bucket_prefix_is_not_the_bucket() -> None:
    s = _settings(s3_bucket="jarvis")
    with pytest.raises(ControlMessageError):
        check_program_ref("s3://jarvis-other/a.spy", s)


# --- what the worker produces fits the topics it produces to ---


def test_output_budgets_fit_the_declared_topics() -> None:
    s = _settings()
    topics = tomllib.loads(s.topics_file.read_text())["topics"]
    overhead = 1024  # a record batch's framing
    assert s.max_event_bytes + overhead <= topics["events"]["max_message_bytes"]
    assert s.max_event_bytes + overhead <= topics["logs"]["max_message_bytes"]
    assert s.max_dead_letter_bytes + overhead <= topics["dlq"]["max_message_bytes"]
    # A dead letter must be able to carry the largest control message the topic takes.
    assert s.max_dead_letter_bytes > topics["control"]["max_message_bytes"]
    from jarvis.worker.publisher import producer_max_bytes

    assert producer_max_bytes(s) <= topics["dlq"]["max_message_bytes"]


def test_every_setting_is_in_the_readmes_configuration_table() -> None:
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Configuration") : readme.index("## How it works")]
    missing = [
        f"JARVIS_{name.upper()}"
        for name in Settings.model_fields
        if f"`JARVIS_{name.upper()}`" not in table
    ]
    assert missing == [], f"document these settings in README's configuration table: {missing}"
