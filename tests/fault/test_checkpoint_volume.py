"""The checkpoint volume fills up (or disappears) under a running worker.

With root, the checkpoint dir is a tiny tmpfs that the test fills to ENOSPC: the real
"EFS is full" failure. Without root (or where mounting is not allowed) the directory is
swapped for a plain file: the "volume is gone" failure. Either way the execution that
cannot journal fails with an event that names the volume, ``/readyz`` reports
``checkpoint_volume``, the worker itself stays up, journals already written stay intact,
and once the volume is back the worker is ready again and the work can be resumed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from jarvis.journal import Journal
from tests.fault.books import expected_total
from tests.fault.cluster import Cluster, audit
from tests.helpers import new_id, wait_for

pytestmark = pytest.mark.integration


def _get(port: int | None, path: str) -> tuple[int, str]:
    assert port is not None
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def _mount_tmpfs(path: Path, size: str) -> bool:
    if os.geteuid() != 0:
        return False
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    return done.returncode == 0


@contextlib.contextmanager
def _full(path: Path) -> Iterator[None]:
    """Fill the filesystem of ``path`` to ENOSPC; free it on exit."""
    filler = path / "filler.bin"
    with open(filler, "wb", buffering=0) as fh:
        while True:
            try:
                fh.write(b"\0" * 4096)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                break
    try:
        yield
    finally:
        filler.unlink()


@contextlib.contextmanager
def _gone(path: Path) -> Iterator[None]:
    """Swap the directory for a plain file (the volume is unmounted / replaced)."""
    moved = path.with_name(path.name + ".away")
    path.rename(moved)
    path.write_text("not a directory\n")
    try:
        yield
    finally:
        path.unlink()
        moved.rename(path)


def test_full_checkpoint_volume_fails_the_execution_and_the_worker_reports_not_ready(
    cluster: Cluster,
) -> None:
    volume = cluster.checkpoint_dir
    # JARVIS_FAULT_VOLUME=file forces the "volume gone" variant (what runs without root).
    tmpfs = os.environ.get("JARVIS_FAULT_VOLUME") != "file" and _mount_tmpfs(volume, "512k")
    try:
        _run(cluster, volume, tmpfs)
    finally:
        cluster.stop_workers()
        if tmpfs:
            subprocess.run(["umount", "-l", str(volume)], check=False)


def _run(cluster: Cluster, volume: Path, tmpfs: bool) -> None:
    worker = cluster.start_worker()
    port = worker.health_port()
    assert _get(port, "/readyz") == (
        200,
        "kafka: ok\nredis: ok\ncheckpoint_volume: ok\nobject_store: ok\n",
    )

    done_before = new_id("before")
    cluster.start(done_before, inputs={"n": 3, "seed": 1})
    assert cluster.terminal(done_before)["event"] == "completed"

    # A long one, running while the volume breaks: 40 Book calls + sleeps (2 effects each).
    running = new_id("running")
    cluster.start(running, inputs={"n": 40, "seed": 2, "sleep_s": 0.1})
    wait_for(
        lambda: sum(c["eid"] == running for c in cluster.calls()) >= 3,
        30,
        "running execution's calls",
    )

    broken = _full(volume) if tmpfs else _gone(volume)
    fresh = new_id("fresh")
    with broken:
        cluster.start(fresh, inputs={"n": 2, "seed": 3})
        failed = cluster.terminal(fresh, 30)
        print(
            f"\nnew execution on a {'full' if tmpfs else 'missing'} volume: {failed['event']}: {failed['error']['message']}"
        )
        assert failed["event"] == "failed"
        assert failed["error"]["type"] == "JournalError"
        assert "checkpoint volume" in failed["error"]["message"]
        assert ("No space left on device" if tmpfs else "Not a directory") in failed["error"][
            "message"
        ]
        if tmpfs:
            # The running one fails too, at its first append that needs space, with the reason.
            hit = cluster.terminal(running, 60)
            print(f"running execution: {hit['event']}: {hit['error']['message']}")
            assert hit["event"] == "failed" and hit["error"]["type"] == "JournalError"
            assert "No space left on device" in hit["error"]["message"]
        status, body = wait_for(
            lambda: (r := _get(port, "/readyz"))[0] == 503 and r, 15, "/readyz to report the volume"
        )
        print(f"/readyz {status}: {body.strip()}")
        assert "checkpoint_volume: failing: " in body and "kafka: ok" in body
        assert _get(port, "/livez")[0] == 200
        assert worker.alive()

    # Volume back: ready again, the same process, earlier journals intact.
    wait_for(lambda: _get(port, "/readyz")[0] == 200, 15, "/readyz to recover")
    assert worker.alive()
    before = Journal.open(volume, done_before)
    assert before.end is not None and before.end.event["event"] == "completed"

    if tmpfs:
        # The execution that failed mid-run kept a sound journal: a new start resumes it.
        assert Journal.open(volume, running).end is None
        cluster.start(running, inputs={"n": 40, "seed": 2, "sleep_s": 0.1})
    cluster.start(fresh, inputs={"n": 2, "seed": 3})

    def outcome(eid: str) -> str | None:
        last = cluster.terminals_of(eid)[-1:]
        return last[0]["event"] if last and last[0]["event"] == "completed" else None

    wait_for(lambda: outcome(running) and outcome(fresh), 90, "both executions to complete")
    if tmpfs:
        kinds = [e["event"] for e in cluster.events_of(running)]
        assert kinds.count("resumed") == 1, kinds
    cluster.stop_workers()
    expected = {
        done_before: expected_total(1, 3),
        running: expected_total(2, 40),
        fresh: expected_total(3, 2),
    }
    a = audit(cluster, expected)
    # The first terminal event of `running`/`fresh` is the failure; judge the final one.
    final_problems = [
        p for p in a.problems if "expected completed" not in p and "conflicting" not in p
    ]
    assert final_problems == []
    assert a.journaled_repeated == 0 and a.corrupt_journals == 0 and a.missing_log_seqs == 0
    for eid, want in expected.items():
        assert cluster.terminals_of(eid)[-1]["result"] == want
