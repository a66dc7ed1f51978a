"""Presigned artifact URLs without services: SigV4, expiry arithmetic, the setting's bounds.

botocore signs offline (a presigned URL is computed, not requested), so these run anywhere;
tests/integration/test_presigned_urls.py GETs the URLs from real S3 API servers.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import botocore.session
import orjson
import pytest
from botocore.config import Config
from botocore.credentials import RefreshableCredentials
from pydantic import ValidationError

from jarvis.artifacts import LocalArtifactStore, S3ArtifactStore, with_urls
from jarvis.artifacts.store import credential_expiry, signed_at, url_expires_at
from jarvis.contract.messages import ArtifactRef, LifecycleEvent
from jarvis.errors import ArtifactError
from jarvis.settings import Settings
from tests.helpers import ROOT

T0 = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def static_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)


# --- the expiry arithmetic -----------------------------------------------------------


def test_url_expiry_is_the_signature_time_plus_the_expiry_without_credential_expiry() -> None:
    assert url_expires_at(T0, 3600) == T0 + timedelta(hours=1)
    assert url_expires_at(T0, 3600, (None, None)) == T0 + timedelta(hours=1)


def test_credentials_expiring_first_cap_the_url() -> None:
    soon = T0 + timedelta(minutes=20)
    assert url_expires_at(T0, 3600, (soon,)) == soon
    # A refresh between two reads: the earlier expiry is the one that holds for sure.
    later = T0 + timedelta(minutes=50)
    assert url_expires_at(T0, 3600, (later, soon)) == soon


def test_credentials_outliving_the_expiry_do_not_extend_it() -> None:
    assert url_expires_at(T0, 60, (T0 + timedelta(hours=6),)) == T0 + timedelta(seconds=60)


def test_expiry_is_reported_in_utc_whatever_the_zone_of_its_inputs() -> None:
    plus2 = timezone(timedelta(hours=2))
    at = url_expires_at(T0.astimezone(plus2), 10, (T0.astimezone(plus2) + timedelta(seconds=5),))
    assert at == T0 + timedelta(seconds=5)
    assert at.utcoffset() == timedelta(0)


def test_signed_at_reads_date_and_expires_of_a_sigv4_url() -> None:
    url = "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261201T120000Z&X-Amz-Expires=900&X-Amz-Signature=ab"
    assert signed_at(url) == (T0, 900)
    with pytest.raises(ArtifactError, match="not a SigV4 presigned URL"):
        signed_at("https://b.s3.amazonaws.com/k?AWSAccessKeyId=x&Signature=y&Expires=1764590400")


def test_credential_expiry_of_botocore_credentials() -> None:
    refreshable = RefreshableCredentials("a", "s", "t", T0, refresh_using=dict, method="test")
    assert credential_expiry(refreshable) == T0
    assert credential_expiry(botocore.credentials.Credentials("a", "s")) is None
    assert credential_expiry(None) is None


# --- signing with botocore, offline ---------------------------------------------------


def test_presign_is_sigv4_in_the_configured_region(static_keys: None) -> None:
    store = S3ArtifactStore(
        "bkt", endpoint_url="https://s3.eu-central-1.amazonaws.com", region="eu-central-1"
    )
    signed = store.presign("s3://bkt/executions/e1/report.txt", 900)
    q = _query(signed.url)
    assert signed.url.startswith("https://")
    assert q["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert q["X-Amz-Credential"].split("/")[2:] == ["eu-central-1", "s3", "aws4_request"]
    assert q["X-Amz-Expires"] == "900"
    assert urlsplit(signed.url).path.endswith("/executions/e1/report.txt")
    date = datetime.strptime(q["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert signed.expires_at == date + timedelta(seconds=900)


def test_presign_is_sigv4_in_us_east_1_too(static_keys: None) -> None:
    # Without signature_version="s3v4" botocore presigns us-east-1 with SigV2 (Signature=, Expires=).
    store = S3ArtifactStore("bkt", endpoint_url=None, region="us-east-1")
    q = _query(store.presign("s3://bkt/k", 60).url)
    assert q["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert "Signature" not in q and "AWSAccessKeyId" not in q
    assert q["X-Amz-Credential"].split("/")[2] == "us-east-1"


def test_presign_keeps_the_endpoint_scheme(static_keys: None) -> None:
    store = S3ArtifactStore("bkt", endpoint_url="http://127.0.0.1:9", region="us-east-1")
    assert store.presign("s3://bkt/k", 60).url.startswith("http://127.0.0.1:9/")


def test_presign_is_capped_by_temporary_credentials() -> None:
    # IRSA gives botocore refreshable STS credentials with an expiry; the URL dies with them.
    expiry = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=30)
    creds = RefreshableCredentials(
        "ASIAEXAMPLE", "secret", "token", expiry, refresh_using=dict, method="test"
    )
    core = botocore.session.Session()
    core._credentials = creds  # what an IRSA web-identity provider would have set
    client = boto3.session.Session(botocore_session=core).client(
        "s3", region_name="us-west-2", config=Config(signature_version="s3v4")
    )
    signed = S3ArtifactStore("bkt", client=client).presign("s3://bkt/k", 3600)
    assert _query(signed.url)["X-Amz-Security-Token"] == "token"
    assert signed.expires_at == expiry
    # An expiry shorter than the credentials' stands.
    short = S3ArtifactStore("bkt", client=client).presign("s3://bkt/k", 60)
    assert short.expires_at < expiry
    assert short.expires_at == signed_at(short.url)[0] + timedelta(seconds=60)


@pytest.mark.parametrize("expires_s", [0, -1, 604_801])
def test_presign_refuses_expiries_sigv4_cannot_sign(static_keys: None, expires_s: int) -> None:
    store = S3ArtifactStore("bkt", endpoint_url=None, region="us-east-1")
    with pytest.raises(ArtifactError, match=r"out of range: SigV4 allows 1\.\.604800 s"):
        store.presign("s3://bkt/k", expires_s)


def test_presign_refuses_what_is_not_an_s3_uri(static_keys: None) -> None:
    store = S3ArtifactStore("bkt", endpoint_url=None, region="us-east-1")
    for uri in ("file:///tmp/x", "s3://bkt", "s3:///k"):
        with pytest.raises(ArtifactError, match="not an s3://bucket/key URI"):
            store.presign(uri, 60)


# --- events ---------------------------------------------------------------------------


def _completed(**fields: object) -> LifecycleEvent:
    return LifecycleEvent(execution_id="e1", event="completed", worker="w", **fields)  # type: ignore[arg-type]


def test_with_urls_signs_every_artifact_and_the_stored_result(static_keys: None) -> None:
    store = S3ArtifactStore("bkt", endpoint_url="http://127.0.0.1:9", region="us-east-1")
    event = _completed(
        artifacts=[
            ArtifactRef(name="a.txt", uri="s3://bkt/p/e1/a.txt", size=3),
            ArtifactRef(name="b", uri="s3://bkt/p/e1/b", size=1),
        ],
        result_ref="s3://bkt/p/e1/result.json",
    )
    signed = with_urls(event, store, 120)
    for ref in signed.artifacts:
        assert ref.url is not None and ref.url_expires_at is not None
        assert urlsplit(ref.url).path == "/" + ref.uri.removeprefix("s3://")
        assert _query(ref.url)["X-Amz-Expires"] == "120"
    assert (
        signed.result_url is not None
        and urlsplit(signed.result_url).path == "/bkt/p/e1/result.json"
    )
    assert signed.result_url_expires_at is not None
    # The URIs stay, beside the URLs.
    assert [r.uri for r in signed.artifacts] == [r.uri for r in event.artifacts]
    wire = orjson.loads(signed.model_dump_json())
    assert wire["artifacts"][0]["url_expires_at"].endswith("Z")


def test_with_urls_leaves_a_local_store_s_references_alone(tmp_path: Path) -> None:
    event = _completed(artifacts=[ArtifactRef(name="a", uri="file:///x/a", size=1)])
    assert with_urls(event, LocalArtifactStore(tmp_path), 60) == event


def test_with_urls_without_credentials_still_hands_out_the_uris(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    store = S3ArtifactStore("bkt", endpoint_url="http://127.0.0.1:9", region="us-east-1")
    event = _completed(artifacts=[ArtifactRef(name="a", uri="s3://bkt/a", size=1)])
    out = with_urls(event, store, 60)
    assert out.artifacts[0].uri == "s3://bkt/a" and out.artifacts[0].url is None


# --- the setting ----------------------------------------------------------------------


def test_expiry_setting_defaults_to_an_hour() -> None:
    assert Settings().artifact_url_expiry_s == 3600


@pytest.mark.parametrize("value", ["0", "-5", "604801", "an hour"])
def test_expiry_setting_out_of_bounds_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("JARVIS_ARTIFACT_URL_EXPIRY_S", value)
    with pytest.raises(ValidationError) as info:
        Settings()
    assert "artifact_url_expiry_s" in str(info.value)


def test_expiry_setting_accepts_the_sigv4_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    for value in ("1", "604800"):
        monkeypatch.setenv("JARVIS_ARTIFACT_URL_EXPIRY_S", value)
        assert Settings().artifact_url_expiry_s == int(value)


# --- jarvis run (local store) ---------------------------------------------------------


def test_jarvis_run_json_has_no_url_for_local_artifacts(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "JARVIS_KAFKA_BOOTSTRAP": "127.0.0.1:9",
        "JARVIS_REDIS_URL": "redis://127.0.0.1:9/0",
        "JARVIS_S3_ENDPOINT_URL": "http://127.0.0.1:9",
        "PYTHONPATH": str(ROOT),
    }  # this checkout's jarvis, not the one the venv may have installed
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "jarvis.cli",
            "run",
            str(ROOT / "examples" / "hello.spy"),
            "--json",
            "--id",
            "u1",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [orjson.loads(line) for line in proc.stdout.splitlines()]
    event = [line["event"] for line in lines if "event" in line][-1]
    assert event["event"] == "completed"
    (art,) = event["artifacts"]
    assert art["uri"].startswith("file://")
    assert art["url"] is None and art["url_expires_at"] is None
