"""kill -9 chaos in CI: workers SIGKILLed at random moments while executions call Books.

The small version of ``scripts/chaos`` (>= 5 kills over >= 50 executions, 3 workers).
Proves, against real Kafka, Redis and journals on disk: every execution ends with exactly
one outcome and the right result; no Book call whose result was journaled runs again; a
call repeated after a kill carries the same idempotency key; every log seq arrives; no
journal is corrupt.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fault.chaos import ChaosConfig, run

pytestmark = pytest.mark.integration


def test_kill9_chaos_keeps_every_guarantee(stack_env: dict[str, str], tmp_path: Path) -> None:
    cfg = ChaosConfig(
        executions=50,
        kills=6,
        workers=3,
        kill_every_s=(2.0, 4.0),
        restart_after_s=(0.0, 1.5),
        calls=(4, 10),
        seed=None,
        root=tmp_path,
        finish_timeout_s=180,
    )
    result = run(cfg)
    print("\n" + result.table())
    a = result.audit
    assert len(result.kills) >= 5
    assert a.executions == 50
    assert a.problems == []
    assert a.completed == 50 and a.wrong_or_missing == 0 and a.conflicting_outcomes == 0
    assert a.journaled_repeated == 0
    assert a.key_mismatch == 0 and a.unjournaled_calls == 0 and a.result_mismatch == 0
    assert a.missing_log_seqs == 0
    assert a.corrupt_journals == 0
    # The kills hit running work: executions were taken over from killed workers.
    assert sum(len(victims) for _, _, victims in result.kills) >= 1
    assert result.resume, "no execution running on a killed worker was resumed elsewhere"
    assert a.resumed_events >= 1
