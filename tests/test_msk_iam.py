"""MSK IAM: the worker's librdkafka settings carry an OAUTHBEARER callback whose token is a
SigV4-presigned kafka-cluster:Connect request (signed offline here with fixed credentials)."""

from __future__ import annotations

import base64
import time
from urllib.parse import parse_qs, urlparse

import pytest

from jarvis.errors import JarvisError
from jarvis.kafka.config import base_config
from jarvis.settings import Settings


def settings(**kw: object) -> Settings:
    return Settings(_env_file=None, **kw)  # type: ignore[call-arg]


def test_unset_adds_nothing() -> None:
    config = base_config(settings())
    assert "oauth_cb" not in config and "sasl.mechanism" not in config


def test_the_token_is_a_signed_connect_request_for_the_region(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    before = time.time()
    config = base_config(settings(kafka_msk_iam_region="eu-west-1"))
    assert config["security.protocol"] == "SASL_SSL"
    assert config["sasl.mechanism"] == "OAUTHBEARER"
    token, expiry = config["oauth_cb"]("")
    padded = token + "=" * (-len(token) % 4)
    url = urlparse(base64.urlsafe_b64decode(padded).decode())
    query = parse_qs(url.query)
    assert url.hostname == "kafka.eu-west-1.amazonaws.com"
    assert query["Action"] == ["kafka-cluster:Connect"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Credential"][0].startswith("AKIDEXAMPLE/")
    assert "/eu-west-1/kafka-cluster/aws4_request" in query["X-Amz-Credential"][0]
    # Seconds since the epoch, as librdkafka wants it (milliseconds would be 1,000x larger):
    # the signer's tokens live 15 minutes from when they are made.
    assert before < expiry < before + 24 * 3600


def test_security_settings_that_clash_are_refused() -> None:
    s = settings(kafka_msk_iam_region="eu-west-1", kafka_security={"sasl.mechanism": "PLAIN"})
    with pytest.raises(JarvisError, match="remove them from JARVIS_KAFKA_SECURITY"):
        base_config(s)


def test_the_same_values_given_in_security_settings_are_fine() -> None:
    s = settings(kafka_msk_iam_region="eu-west-1", kafka_security={"security.protocol": "SASL_SSL"})
    assert base_config(s)["security.protocol"] == "SASL_SSL"
