"""Every object in keda/ is one KEDA accepts: valid against KEDA's CRDs and its trigger
metadata parsed by KEDA's own Kafka scaler code (tests/keda/kedacheck.py). Broken objects
fail with a message naming the object and the field."""

from __future__ import annotations

import base64
import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import ROOT
from tests.keda.kedacheck import (
    KEDA_KINDS,
    assert_keda_documents_valid,
    validate_keda_documents,
)

KEDA_DIR = ROOT / "keda"
MANIFESTS = sorted(KEDA_DIR.glob("*.yaml"))


def load(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def scaled_object(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (so,) = [d for d in docs if d["kind"] == "ScaledObject"]
    return so


def test_keda_dir_has_the_three_variants() -> None:
    names = {p.name for p in MANIFESTS}
    assert {"scaledobject.yaml", "scaledobject-sasl-tls.yaml", "scaledobject-msk-iam.yaml"} <= names
    for path in MANIFESTS:
        kinds = [d["kind"] for d in load(path)]
        assert kinds.count("ScaledObject") == 1, f"{path.name}: {kinds}"


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_manifest_is_accepted_by_keda(path: Path) -> None:
    docs = load(path)
    checked = assert_keda_documents_valid(docs)
    assert len(checked) == sum(1 for d in docs if d["kind"] in KEDA_KINDS)
    (so,) = [c for c in checked if c.kind == "ScaledObject"]
    (trigger,) = so.triggers
    parsed = trigger["parsed"]
    # What KEDA's parser made of our metadata, not just "no error".
    assert parsed["lagThreshold"] == 4
    assert parsed["activationLagThreshold"] == 0
    assert parsed["consumerGroup"] == "jarvis-workers"
    assert parsed["topic"] == "spy_control"
    assert parsed["offsetResetPolicy"] == "earliest"
    assert parsed["scaleToZeroOnInvalidOffset"] is False


def test_sasl_tls_credentials_come_from_the_secret() -> None:
    docs = load(KEDA_DIR / "scaledobject-sasl-tls.yaml")
    (so,) = [c for c in assert_keda_documents_valid(docs) if c.kind == "ScaledObject"]
    parsed = so.triggers[0]["parsed"]
    assert parsed["sasl"] == "scram_sha512"
    assert parsed["tls"] is True
    assert parsed["hasUsername"] and parsed["hasPassword"] and parsed["hasCA"]
    assert parsed["authParams"] == ["ca", "password", "sasl", "tls", "username"]
    # The Secret is the user's: the check made it up, and says so.
    assert any("secret jarvis-kafka key password" in p for p in so.triggers[0]["placeholders"])
    text = (KEDA_DIR / "scaledobject-sasl-tls.yaml").read_text()
    assert "password:" not in text.replace("parameter: password", "")


def test_sasl_secret_given_with_the_documents_is_used() -> None:
    docs = load(KEDA_DIR / "scaledobject-sasl-tls.yaml")
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "jarvis-kafka"},
    }
    values = {"sasl": "plaintext", "username": "u", "password": "p", "tls": "disable", "ca": ""}
    secret["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in values.items()}
    (so,) = [c for c in assert_keda_documents_valid([*docs, secret]) if c.kind == "ScaledObject"]
    assert so.triggers[0]["parsed"]["sasl"] == "plaintext"
    assert so.triggers[0]["parsed"]["tls"] is False
    assert not so.triggers[0].get("placeholders")


def test_msk_iam_uses_the_workers_irsa_role() -> None:
    docs = load(KEDA_DIR / "scaledobject-msk-iam.yaml")
    (so,) = [c for c in assert_keda_documents_valid(docs) if c.kind == "ScaledObject"]
    parsed = so.triggers[0]["parsed"]
    assert parsed["sasl"] == "oauthbearer"
    assert parsed["saslTokenProvider"] == "aws_msk_iam"
    assert parsed["tls"] is True
    assert parsed["podIdentity"] == "aws"
    assert parsed["awsUsingPodIdentity"] is True
    # identityOwner: workload -> the role annotated on the workers' ServiceAccount.
    assert parsed["awsRoleArn"] == "arn:aws:iam::111122223333:role/jarvis-worker"


def test_scale_down_behaviour_and_fallback_are_set() -> None:
    for path in MANIFESTS:
        spec = scaled_object(load(path))["spec"]
        behavior = spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
        assert behavior["scaleDown"]["stabilizationWindowSeconds"] >= 60, path.name
        assert behavior["scaleDown"]["policies"] == [
            {"type": "Pods", "value": 1, "periodSeconds": 60}
        ], path.name
        assert spec["fallback"]["replicas"] >= 1, path.name
        assert spec["maxReplicaCount"] <= 12, path.name  # spy_control's partitions


def test_keda_dir_agrees_with_the_chart_defaults() -> None:
    values = yaml.safe_load((ROOT / "charts" / "jarvis" / "values.yaml").read_text())["keda"]
    spec = scaled_object(load(KEDA_DIR / "scaledobject.yaml"))["spec"]
    for key in ("minReplicaCount", "maxReplicaCount", "pollingInterval", "cooldownPeriod"):
        assert spec[key] == values[key], key
    assert spec["triggers"][0]["metadata"]["lagThreshold"] == str(values["lagThreshold"])


# --- hostile input: clear errors naming the object and the field ---


def base() -> list[dict[str, Any]]:
    return load(KEDA_DIR / "scaledobject.yaml")


def problems(docs: list[dict[str, Any]]) -> list[str]:
    return [f"{c.where}: {e}" for c in validate_keda_documents(docs) for e in c.errors]


def test_unknown_field_is_named_with_its_path() -> None:
    docs = base()
    docs[0]["spec"]["cooldownPeriods"] = 120
    found = problems(docs)
    assert any(
        p.startswith("ScaledObject jarvis (document 1): spec:") and "cooldownPeriods" in p
        for p in found
    ), found
    assert any("KEDA: not a valid KEDA ScaledObject" in p and "cooldownPeriods" in p for p in found)


def test_wrong_type_is_named_with_its_path() -> None:
    docs = base()
    docs[0]["spec"]["maxReplicaCount"] = "lots"
    found = problems(docs)
    assert any("spec.maxReplicaCount: 'lots' is not of type 'integer'" in p for p in found), found


def test_unparsable_lag_threshold_is_refused_by_kedas_parser() -> None:
    docs = base()
    docs[0]["spec"]["triggers"][0]["metadata"]["lagThreshold"] = "four"
    found = problems(docs)
    assert any("trigger 0 (kafka)" in p and "lagThreshold" in p for p in found), found


def test_zero_lag_threshold_is_refused_by_kedas_validation() -> None:
    docs = base()
    docs[0]["spec"]["triggers"][0]["metadata"]["lagThreshold"] = "0"
    found = problems(docs)
    assert any('"lagThreshold" must be positive number' in p for p in found), found


def test_min_above_max_is_refused() -> None:
    docs = base()
    docs[0]["spec"]["minReplicaCount"] = 13
    found = problems(docs)
    assert any("MinReplicaCount=13 must be less than MaxReplicaCount=12" in p for p in found), found


def test_missing_trigger_authentication_is_named() -> None:
    docs = [d for d in load(KEDA_DIR / "scaledobject-sasl-tls.yaml") if d["kind"] == "ScaledObject"]
    found = problems(docs)
    assert any('names TriggerAuthentication "jarvis-kafka", which is not among' in p for p in found)


def test_sasl_without_a_password_is_refused() -> None:
    docs = load(KEDA_DIR / "scaledobject-sasl-tls.yaml")
    ta = copy.deepcopy(docs[0])
    ta["spec"]["secretTargetRef"] = [
        r for r in ta["spec"]["secretTargetRef"] if r["parameter"] != "password"
    ]
    found = problems([ta, docs[1]])
    assert any("no password given" in p for p in found), found


def test_unknown_pod_identity_provider_is_refused_by_the_crd() -> None:
    docs = load(KEDA_DIR / "scaledobject-msk-iam.yaml")
    docs[1]["spec"]["podIdentity"]["provider"] = "aws-irsa"
    found = problems(docs)
    assert any(
        p.startswith("TriggerAuthentication jarvis-msk-iam") and "spec.podIdentity.provider" in p
        for p in found
    ), found


def test_rendered_deployment_and_service_account_are_used() -> None:
    """Rendered manifests (the chart's) carry the Deployment: KEDA's resolver then follows its
    pod template to the ServiceAccount actually used."""
    ta, so = [
        d for d in load(KEDA_DIR / "scaledobject-msk-iam.yaml") if d["kind"] != "ServiceAccount"
    ]
    role = "arn:aws:iam::444455556666:role/rendered"
    account = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "release-jarvis", "annotations": {"eks.amazonaws.com/role-arn": role}},
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "jarvis"},
        "spec": {
            "selector": {"matchLabels": {"app": "jarvis"}},
            "template": {
                "metadata": {"labels": {"app": "jarvis"}},
                "spec": {
                    "serviceAccountName": "release-jarvis",
                    "containers": [{"name": "worker", "image": "jarvis:test"}],
                },
            },
        },
    }
    checked = assert_keda_documents_valid([deployment, account, ta, so])
    assert [c.kind for c in checked] == ["TriggerAuthentication", "ScaledObject"]
    trigger = checked[1].triggers[0]
    assert trigger["parsed"]["awsRoleArn"] == role
    assert not trigger.get("placeholders")
