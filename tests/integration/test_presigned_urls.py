"""Presigned artifact URLs on real S3 API servers: what a completed event hands out downloads
the artifact's exact bytes with a plain HTTP GET, is SigV4, and is refused once expired.

Two servers: the local stack's moto server (where the worker normally stores artifacts) and
S3Proxy (tests/integration/s3proxy.py), because moto serves a presigned URL whatever its
signature or expiry say; S3Proxy checks both, so only it can show a refusal after expiry.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import orjson
import pytest

from jarvis.contract.messages import LifecycleEvent
from jarvis.journal import Journal
from jarvis.settings import Settings
from tests.helpers import new_id, wait_for
from tests.helpers.harness import Harness
from tests.helpers.stack import cli_env
from tests.integration.s3proxy import S3Proxy, s3proxy
from tests.integration.test_cli_submit import JARVIS

# A text artifact, a binary one, and a result too big to travel inline (stored as result.json).
PROGRAM = """\
artifact("report.txt", "first line\\nsecond line: " + str(inputs["n"]) + "\\n")
artifact("blob.bin", bytes([0, 1, 2, 255, 254]) * 40)
result = {"text": "x" * 3000, "n": inputs["n"]}
"""
REPORT = b"first line\nsecond line: 7\n"
BLOB = bytes([0, 1, 2, 255, 254]) * 40


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _signed_at(url: str) -> datetime:
    return datetime.strptime(_query(url)["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def _check_urls(done: LifecycleEvent, expiry_s: int, region: str) -> None:
    assert done.event == "completed", done
    by_name = {a.name: a for a in done.artifacts}
    assert set(by_name) == {"report.txt", "blob.bin"}
    for ref, body in ((by_name["report.txt"], REPORT), (by_name["blob.bin"], BLOB)):
        assert (
            ref.uri.startswith("s3://") and ref.url is not None and ref.url_expires_at is not None
        )
        q = _query(ref.url)
        assert q["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
        assert q["X-Amz-Credential"].split("/")[2:] == [region, "s3", "aws4_request"]
        assert q["X-Amz-Expires"] == str(expiry_s)
        assert ref.url_expires_at == _signed_at(ref.url) + timedelta(seconds=expiry_s)
        got = httpx.get(ref.url, timeout=30)  # no credentials: the URL alone
        assert got.status_code == 200, got.text
        assert got.content == body and ref.size == len(body)
    assert done.result is None and done.result_ref is not None and done.result_url is not None
    got = httpx.get(done.result_url, timeout=30)
    assert got.status_code == 200, got.text
    assert orjson.loads(got.content) == {"text": "x" * 3000, "n": 7}
    assert done.result_url_expires_at == _signed_at(done.result_url) + timedelta(seconds=expiry_s)


def test_completed_event_urls_download_the_artifacts_bytes(harness: Harness, client: Any) -> None:
    harness.start_worker(max_inline_result_bytes=1000)
    eid = client.start(PROGRAM, inputs={"n": 7}, execution_id=new_id("urls"))
    done = client.wait(eid, timeout_s=120)  # the Python client hands out the URLs as they came
    _check_urls(done, 3600, os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    on_topic = harness.terminal(eid)
    assert [a.url for a in on_topic.artifacts] == [a.url for a in done.artifacts]
    # Signed as the event goes out, never journaled: a re-announced outcome is signed afresh.
    end = Journal.read(harness.settings.checkpoint_dir, eid).end
    assert end is not None
    assert all(a.get("url") is None for a in end.event["artifacts"])
    assert end.event.get("result_url") is None


def test_duplicate_start_reannounces_with_fresh_urls(harness: Harness, client: Any) -> None:
    harness.start_worker(max_inline_result_bytes=1000)
    eid = new_id("urls-dup")
    client.start(PROGRAM, inputs={"n": 7}, execution_id=eid)
    first = harness.terminal(eid)
    wait_for(
        lambda: (
            datetime.now(UTC) >= _signed_at(first.artifacts[0].url or "") + timedelta(seconds=1.1)
        ),
        10,
        "the clock to pass the first signature's second",
    )
    client.start(PROGRAM, inputs={"n": 7}, execution_id=eid)
    again = wait_for(
        lambda: [e for e in harness.events_for(eid) if e.terminal][1:],
        60,
        "the re-announced outcome",
    )[0]
    assert again.artifacts[0].url != first.artifacts[0].url
    assert (
        again.artifacts[0].url_expires_at is not None
        and first.artifacts[0].url_expires_at is not None
    )
    assert again.artifacts[0].url_expires_at > first.artifacts[0].url_expires_at
    _check_urls(again, 3600, os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))


def test_cli_submit_follow_prints_the_urls(
    harness: Harness, settings: Settings, tmp_path: Path
) -> None:
    harness.start_worker()
    program = tmp_path / "urls.spy"
    program.write_text(PROGRAM.replace('inputs["n"]', "7"))
    env = cli_env(settings, JARVIS_HEALTH_PORT="0")
    proc = subprocess.run(
        [*JARVIS, "submit", str(program), "--follow", "--json", "--timeout", "120"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [orjson.loads(line) for line in proc.stdout.splitlines()]
    done = LifecycleEvent.model_validate([line["event"] for line in lines if "event" in line][-1])
    report = next(a for a in done.artifacts if a.name == "report.txt")
    assert report.url is not None and report.url_expires_at is not None
    assert httpx.get(report.url, timeout=30).content == REPORT

    proc = subprocess.run(
        [*JARVIS, "submit", str(program), "--follow", "--timeout", "120"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "artifact report.txt: s3://" in out
    url_line = out[out.index("artifact report.txt: s3://") :].splitlines()[1].strip()
    assert url_line.startswith("url http") and "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url_line
    assert "(until 20" in out
    assert httpx.get(url_line.removeprefix("url "), timeout=30).content == REPORT


# --- S3Proxy: signatures and expiry enforced -----------------------------------------------


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory, stack_env: dict[str, str]) -> Iterator[S3Proxy]:
    with s3proxy(tmp_path_factory.mktemp("s3proxy")) as server:
        yield server


@pytest.fixture
def on_proxy(settings: Settings, proxy: S3Proxy) -> Settings:
    s3 = boto3.client(
        "s3",
        endpoint_url=proxy.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=proxy.access_key,
        aws_secret_access_key=proxy.secret_key,
    )
    bucket = f"urls-{new_id('b')}".lower()[:63]
    s3.create_bucket(Bucket=bucket)
    return settings.model_copy(
        update={
            "s3_endpoint_url": proxy.endpoint_url,
            "s3_bucket": bucket,
            "s3_region": "us-east-1",
        }
    )


def test_urls_are_accepted_by_a_server_that_checks_sigv4(on_proxy: Settings, client: Any) -> None:
    harness = Harness(on_proxy)
    try:
        harness.start_worker(max_inline_result_bytes=1000)
        eid = client.start(PROGRAM, inputs={"n": 7}, execution_id=new_id("urls-proxy"))
        done = harness.terminal(eid, 120)
        _check_urls(done, 3600, "us-east-1")
        # The server does check: the same URL with its signature altered is refused.
        url = done.artifacts[0].url or ""
        forged = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
        refused = httpx.get(forged, timeout=30)
        assert refused.status_code == 403 and "SignatureDoesNotMatch" in refused.text
    finally:
        harness.close()


def test_url_is_refused_after_its_expiry(on_proxy: Settings, client: Any) -> None:
    harness = Harness(on_proxy)
    try:
        harness.start_worker(artifact_url_expiry_s=1, max_inline_result_bytes=1000)
        eid = client.start(PROGRAM, inputs={"n": 7}, execution_id=new_id("urls-expiry"))
        done = harness.terminal(eid, 120)
        assert done.event == "completed", done
        ref = next(a for a in done.artifacts if a.name == "report.txt")
        assert ref.url is not None and ref.url_expires_at is not None
        assert _query(ref.url)["X-Amz-Expires"] == "1"
        assert ref.url_expires_at == _signed_at(ref.url) + timedelta(seconds=1)
        # Wait for the clock (not a duration): a second past the expiry, as S3 counts seconds.
        wait_for(
            lambda: datetime.now(UTC) > ref.url_expires_at + timedelta(seconds=1),
            30,
            "the URL's expiry",
        )
        for url in (ref.url, done.result_url or ""):
            refused = httpx.get(url, timeout=30)
            assert refused.status_code == 403, refused.text
            assert "AccessDenied" in refused.text and "Request has expired" in refused.text
        # The object is still there: only the URL is dead.
        s3 = boto3.client("s3", endpoint_url=on_proxy.s3_endpoint_url, region_name="us-east-1")
        bucket, _, key = ref.uri.removeprefix("s3://").partition("/")
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == REPORT
    finally:
        harness.close()


def test_failed_event_lists_its_artifacts_with_urls(harness: Harness, client: Any) -> None:
    harness.start_worker()
    eid = client.start(
        'artifact("partial.txt", "so far")\nraise ValueError("no more")\n',
        execution_id=new_id("urls-failed"),
    )
    done = client.wait(eid, timeout_s=120)
    assert done.event == "failed" and done.error is not None
    assert done.error.type == "ValueError"
    (ref,) = done.artifacts
    assert ref.url is not None and ref.url_expires_at is not None
    assert httpx.get(ref.url, timeout=30).content == b"so far"
