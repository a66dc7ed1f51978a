"""/readyz on a real worker process: it flips when Redis goes away and comes back, and when the
checkpoint volume becomes unusable and usable again; while Redis hangs (a listener that
accepts and never answers) it still answers within the chart's probe timeout, naming the
hung check as failing. A private redis-server (never the shared stack's) behind a relay."""

from __future__ import annotations

import shutil
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.fault.cluster import Cluster
from tests.helpers import ROOT, wait_for
from tests.metrics.tcp import Relay

pytestmark = pytest.mark.integration

VALUES = yaml.safe_load((ROOT / "charts/jarvis/values.yaml").read_text())
PROBE_TIMEOUT_S = float(VALUES["probes"]["readiness"]["timeoutSeconds"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateRedis:
    """A redis-server of this test's own, on a free port, that can be stopped and restarted."""

    def __init__(self, root: Path) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is missing: scripts/stack up installs it"
        self.binary = binary
        self.port = free_port()
        self.dir = root / "redis"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.dir),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def answers() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    return s.recv(16).startswith(b"+PONG")
            except OSError:
                return False

        wait_for(answers, 30, f"private redis-server on port {self.port}", interval_s=0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        self.proc = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def readyz(port: int) -> tuple[int, str]:
    """One probe, as the kubelet makes it: a failure to answer within the chart's probe
    timeout raises (socket timeout), which fails the test."""
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/readyz", timeout=PROBE_TIMEOUT_S
        ) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def line(body: str, check: str) -> str:
    return next(ln for ln in body.splitlines() if ln.startswith(f"{check}: "))


def wait_ready(port: int, ready: bool, check: str, what: str) -> str:
    def flipped() -> str | None:
        code, body = readyz(port)
        ok = line(body, check) == f"{check}: ok"
        return body if (code == 200) == ready and ok == ready else None

    return wait_for(flipped, 30, what, interval_s=0.1)


def test_readyz_follows_redis_and_the_checkpoint_volume_and_answers_while_redis_hangs(
    cluster: Cluster, private_redis: PrivateRedis
) -> None:
    relay = Relay(private_redis.port)
    try:
        worker = cluster.start_worker(JARVIS_REDIS_URL=f"redis://127.0.0.1:{relay.port}/0")
        port = wait_for(worker.health_port, 30, "the worker's health port")
        body = wait_ready(port, True, "redis", "the worker to be ready")
        assert [ln.split(":")[0] for ln in body.splitlines()] == [
            "kafka",
            "redis",
            "checkpoint_volume",
            "object_store",
        ]

        # Redis goes away, and comes back.
        private_redis.stop()
        body = wait_ready(port, False, "redis", "/readyz to say Redis is failing")
        assert line(body, "redis").startswith("redis: failing: ")
        assert line(body, "kafka") == "kafka: ok"  # the others still answer for themselves
        private_redis.start()
        wait_ready(port, True, "redis", "/readyz to be ready again with Redis back")

        # The checkpoint volume becomes unusable (its directory gone, a file in its place),
        # then usable again.
        volume = Path(cluster.checkpoint_dir)
        away = volume.with_name(volume.name + ".away")
        volume.rename(away)
        volume.write_text("not a directory")
        try:
            body = wait_ready(port, False, "checkpoint_volume", "/readyz to say the volume fails")
            assert "NotADirectoryError" in line(body, "checkpoint_volume")
            assert line(body, "redis") == "redis: ok"
        finally:
            volume.unlink()
            away.rename(volume)
        wait_ready(port, True, "checkpoint_volume", "/readyz to be ready with the volume back")

        # Redis hangs: connections accepted, nothing answered. Every probe still answers
        # within the probe timeout (readyz() raises otherwise), the hung check failing.
        relay.hang()
        body = wait_ready(port, False, "redis", "/readyz to report the hung Redis")
        assert line(body, "redis") == "redis: failing: no answer within 0.8 s"
        for _ in range(3):  # later probes too: the hung check is not waited for again
            code, body = readyz(port)
            assert code == 503 and line(body, "redis").startswith("redis: failing: ")
            assert line(body, "kafka") == "kafka: ok"
        relay.flow()
        wait_ready(port, True, "redis", "/readyz to be ready once Redis answers again")
        assert worker.alive()
    finally:
        relay.close()
