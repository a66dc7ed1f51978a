"""The chart rendered by a real Helm across a matrix of values: lint, Kubernetes schemas,
Pod Security `restricted` (Kubernetes' own evaluator), secrets by reference only, the schema's
messages for bad values, the grace period, KEDA objects, and README's Deploy commands."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from tests.helpers import ROOT
from tests.helpers.helm import KUBE_VERSIONS, Helm, Render

SASL = {
    "kafka": {
        "bootstrap": "b-1.kafka.internal:9096",
        "sasl": {"mechanism": "SCRAM-SHA-512", "existingSecret": "kafka-creds"},
        "tls": {
            "enabled": True,
            "existingSecret": "kafka-tls",
            "caKey": "ca.crt",
            "certKey": "tls.crt",
            "keyKey": "tls.key",
            "keyPasswordKey": "key-password",
        },
    },
    "redis": {
        "url": "rediss://redis.internal:6380/0",
        "existingSecret": "redis-auth",
        "passwordKey": "password",
    },
    "s3": {
        "existingSecret": "s3-keys",
        "endpointUrl": "https://s3.internal",
        "region": "eu-west-1",
    },
}

MATRIX: dict[str, dict[str, Any]] = {
    "defaults": {},
    "existing-claim": {"checkpoints": {"existingClaim": "jarvis-efs"}},
    "existing-service-account": {"serviceAccount": {"create": False, "name": "jarvis-runner"}},
    "sasl-with-secrets": SASL,
    "redis-url-from-secret": {"redis": {"existingSecret": "redis-auth", "urlKey": "url"}},
    "irsa": {
        "serviceAccount": {
            "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/jarvis"}
        },
        "kafka": {"tls": {"enabled": True}},
        "keda": {"awsMskIam": {"enabled": True, "region": "us-east-1"}},
        "s3": {"region": "us-east-1"},
    },
    "autoscaling-off": {"keda": {"enabled": False}, "replicaCount": 3},
    "network-policy": {
        "networkPolicy": {
            "enabled": True,
            "metricsFrom": [{"namespaceSelector": {"matchLabels": {"name": "monitoring"}}}],
            "kafka": {"to": [{"ipBlock": {"cidr": "10.0.0.0/16"}}], "ports": [9096]},
        }
    },
    "monitors": {"metrics": {"podMonitor": {"enabled": True}, "serviceMonitor": {"enabled": True}}},
    "dashboard": {
        "metrics": {
            "dashboard": {
                "enabled": True,
                "label": "grafana.example.com/dashboard",
                "labelValue": "jarvis",
                "namespace": "monitoring",
                "annotations": {"grafana_folder": "Jarvis"},
            }
        }
    },
    "conventions": {
        "image": {"tag": "1.2.3", "digest": "sha256:" + "ab" * 32},
        "imagePullSecrets": [{"name": "regcred"}],
        "nodeSelector": {"kubernetes.io/arch": "amd64"},
        "tolerations": [{"key": "jarvis", "operator": "Exists", "effect": "NoSchedule"}],
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {"key": "pool", "operator": "In", "values": ["jarvis"]}
                            ]
                        }
                    ]
                }
            }
        },
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "jarvis"}},
            }
        ],
        "extraEnv": [{"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional"}],
        "extraEnvFrom": [{"configMapRef": {"name": "jarvis-extra"}}],
        "podAnnotations": {"team": "platform"},
        "podLabels": {"cost-center": "42"},
        "terminationGracePeriodSeconds": 90,
    },
}
CASES = sorted(MATRIX)
# A cold scripts/tools/k8s builds helm from source (about 9 minutes on 2 CPUs); cached after.
pytestmark = pytest.mark.timeout(1800)
CRD_GROUPS = ("keda.sh/", "monitoring.coreos.com/")


@pytest.fixture(scope="module")
def renders(helm: Helm) -> dict[tuple[str, str], Render]:
    out = {}
    for case in CASES:
        for kube in KUBE_VERSIONS:
            render = helm.template(MATRIX[case], kube=kube)
            assert render.ok, f"{case} on {kube}: {render.stderr}"
            out[case, kube] = render
    return out


def _pods(render: Render) -> list[tuple[str, dict[str, Any]]]:
    pods = []
    for doc in render.docs:
        if doc["kind"] in ("Deployment", "Job", "StatefulSet", "DaemonSet", "CronJob"):
            spec = doc["spec"]["jobTemplate"]["spec"] if doc["kind"] == "CronJob" else doc["spec"]
            pods.append((f"{doc['kind']}/{doc['metadata']['name']}", spec["template"]))
    return pods


def _containers(render: Render) -> list[dict[str, Any]]:
    return [
        c
        for _, t in _pods(render)
        for c in t["spec"].get("initContainers", []) + t["spec"]["containers"]
    ]


@pytest.mark.parametrize("kube", KUBE_VERSIONS)
@pytest.mark.parametrize("case", CASES)
def test_lint_strict_is_clean(helm: Helm, case: str, kube: str) -> None:
    out = helm.lint(MATRIX[case], kube)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 chart(s) failed" in out.stdout
    assert "[WARNING]" not in out.stdout and "[ERROR]" not in out.stdout, out.stdout


def test_kube_version_outside_the_declared_range_is_refused(helm: Helm) -> None:
    for kube in ("1.28.9", "1.38.0"):
        render = helm.template({}, kube=kube)
        assert not render.ok
        assert "chart requires kubeVersion: >=1.29.0-0 <1.38.0-0" in render.stderr


def test_every_core_object_is_valid_on_the_oldest_and_newest_kubernetes(
    renders: dict[tuple[str, str], Render],
) -> None:
    kinds = set()
    for (case, kube), render in renders.items():
        for doc in render.docs:
            if doc["apiVersion"].startswith(CRD_GROUPS):
                continue
            try:
                kubernetes_validate.validate(doc, kube, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(
                    f"{case} on {kube}: {doc['kind']}/{doc['metadata']['name']}: {exc.message} at {list(exc.path)}"
                )
            kinds.add(doc["kind"])
    assert kinds >= {
        "Deployment",
        "Job",
        "PersistentVolumeClaim",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "Service",
    }


def test_the_validator_catches_a_bad_object(renders: dict[tuple[str, str], Render]) -> None:
    deployment = json.loads(json.dumps(renders["defaults", KUBE_VERSIONS[0]].one("Deployment")))
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsUser"] = (
        "nobody"
    )
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBE_VERSIONS[0], strict=True)


def _psa(binary: Path, pods: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    payload = json.dumps([{"name": n, "template": t} for n, t in pods])
    out = subprocess.run(
        [str(binary), "-level", "restricted", "-version", "latest"],
        input=payload,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    results: list[dict[str, Any]] = json.loads(out.stdout)
    assert [r["name"] for r in results] == [n for n, _ in pods]
    return results


def test_every_pod_passes_pod_security_restricted(
    psa_check_bin: Path, renders: dict[tuple[str, str], Render]
) -> None:
    pods = []
    for (case, kube), render in sorted(renders.items()):
        pods += [(f"{case}@{kube}:{name}", t) for name, t in _pods(render)]
    assert {n.split(":")[1] for n, _ in pods} == {"Deployment/jarvis", "Job/jarvis-topics"}
    results = _psa(psa_check_bin, pods)
    refused = {r["name"]: r["forbidden"] for r in results if not r["allowed"]}
    assert refused == {}


def test_the_evaluator_refuses_the_old_charts_pod(
    psa_check_bin: Path, renders: dict[tuple[str, str], Render]
) -> None:
    template = json.loads(
        json.dumps(renders["defaults", KUBE_VERSIONS[-1]].one("Deployment")["spec"]["template"])
    )
    template["spec"].pop("securityContext")
    for c in template["spec"]["containers"]:
        c.pop("securityContext")
    [result] = _psa(psa_check_bin, [("unhardened", template)])
    assert not result["allowed"]
    reasons = {f["reason"] for f in result["forbidden"]}
    assert reasons == {
        "allowPrivilegeEscalation != false",
        "unrestricted capabilities",
        "runAsNonRoot != true",
        "seccompProfile",
    }


def test_every_container_has_resources_and_a_read_only_root(
    renders: dict[tuple[str, str], Render],
) -> None:
    for (case, _), render in renders.items():
        for c in _containers(render):
            assert c["resources"].get("requests"), (case, c["name"])
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True and sc["runAsUser"] == 10001, (
                case,
                c["name"],
            )
            assert {"name": "tmp", "mountPath": "/tmp"} in c["volumeMounts"], (case, c["name"])
    job = renders["defaults", KUBE_VERSIONS[-1]].one("Job")["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert job["args"] == ["topics", "apply"]


SECRETISH = re.compile(r"PASSWORD|SECRET|TOKEN|CREDENTIAL", re.I)


def test_no_secret_value_in_any_rendered_manifest(renders: dict[tuple[str, str], Render]) -> None:
    for (case, _), render in renders.items():
        assert "kind: Secret\n" not in render.stdout, case
        for c in _containers(render):
            for env in c["env"]:
                if SECRETISH.search(env["name"]):
                    assert "valueFrom" in env or env["name"].endswith("_FILE"), (case, env)
                if env["name"] == "JARVIS_KAFKA_SECURITY":
                    security = json.loads(env["value"])
                    assert not [k for k in security if SECRETISH.search(k)], (case, security)
                if env["name"] == "JARVIS_REDIS_URL":
                    assert "@" not in env["value"], (case, env)
    # The SASL case carries references only: file paths and secretKeyRefs.
    sasl = renders["sasl-with-secrets", KUBE_VERSIONS[-1]]
    worker = sasl.one("Deployment")["spec"]["template"]["spec"]
    env = {e["name"]: e for e in worker["containers"][0]["env"]}
    assert (
        env["JARVIS_KAFKA_SASL_PASSWORD_FILE"]["value"]
        == "/var/run/secrets/jarvis/kafka-sasl/password"
    )
    assert env["JARVIS_REDIS_PASSWORD_FILE"]["value"] == "/var/run/secrets/jarvis/redis/password"
    assert env["AWS_SECRET_ACCESS_KEY"]["valueFrom"] == {
        "secretKeyRef": {"name": "s3-keys", "key": "AWS_SECRET_ACCESS_KEY"}
    }
    assert json.loads(env["JARVIS_KAFKA_SECURITY"]["value"]) == {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "ssl.ca.location": "/var/run/secrets/jarvis/kafka-tls/ca.crt",
        "ssl.certificate.location": "/var/run/secrets/jarvis/kafka-tls/tls.crt",
        "ssl.key.location": "/var/run/secrets/jarvis/kafka-tls/tls.key",
    }
    [secrets] = [v for v in worker["volumes"] if v["name"] == "secrets"]
    assert {
        (s["secret"]["name"], i["key"], i["path"])
        for s in secrets["projected"]["sources"]
        for i in s["secret"]["items"]
    } == {
        ("kafka-creds", "username", "kafka-sasl/username"),
        ("kafka-creds", "password", "kafka-sasl/password"),
        ("kafka-tls", "ca.crt", "kafka-tls/ca.crt"),
        ("kafka-tls", "tls.crt", "kafka-tls/tls.crt"),
        ("kafka-tls", "tls.key", "kafka-tls/tls.key"),
        ("kafka-tls", "key-password", "kafka-tls/key-password"),
        ("redis-auth", "password", "redis/password"),
    }


SENTINEL = "S3NT1NEL-do-not-render"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"kafka": {"security": {"sasl.password": SENTINEL}}},
            "kafka.security must not hold sasl.password",
        ),
        (
            {"kafka": {"security": {"ssl.key.password": SENTINEL}}},
            "kafka.security must not hold ssl.key.password",
        ),
        ({"redis": {"url": f"redis://:{SENTINEL}@redis:6379/0"}}, "redis.url holds a password"),
        ({"config": {"REDIS_PASSWORD": SENTINEL}}, "config.REDIS_PASSWORD is set by the chart"),
        (
            {"config": {"KAFKA_SASL_PASSWORD": SENTINEL}},
            "config.KAFKA_SASL_PASSWORD is set by the chart",
        ),
        ({"kafka": {"sasl": {"mechanism": "PLAIN"}}}, "kafka.sasl.existingSecret is empty"),
    ],
)
def test_sentinel_secrets_in_values_are_refused_and_never_rendered(
    helm: Helm, values: dict[str, Any], message: str
) -> None:
    render = helm.template(values)
    assert not render.ok
    assert message in render.stderr
    assert SENTINEL not in render.stdout


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"keda": {"maxReplicaCount": "lots"}},
            "at '/keda/maxReplicaCount': got string, want integer",
        ),
        ({"kafak": {"bootstrap": "x:9092"}}, "additional properties 'kafak' not allowed"),
        (
            {"keda": {"lagTreshold": 4}},
            "at '/keda': additional properties 'lagTreshold' not allowed",
        ),
        ({"image": {"digest": "latest"}}, "at '/image/digest'"),
        ({"kafka": {"sasl": {"mechanism": "GSSAPI"}}}, "at '/kafka/sasl/mechanism'"),
        (
            {"config": {"max_concurrency": "4"}},
            "at '/config': additional properties 'max_concurrency' not allowed",
        ),
        (
            {"keda": {"minReplicaCount": 5, "maxReplicaCount": 2}},
            "keda.minReplicaCount (5) is above keda.maxReplicaCount (2)",
        ),
    ],
)
def test_invalid_values_fail_with_a_clear_message(
    helm: Helm, values: dict[str, Any], message: str
) -> None:
    render = helm.template(values)
    assert not render.ok
    assert message in render.stderr, render.stderr


def _grace(render: Render) -> int:
    value: int = render.one("Deployment")["spec"]["template"]["spec"][
        "terminationGracePeriodSeconds"
    ]
    return value


def test_grace_period_is_drain_plus_flush_plus_margin(helm: Helm) -> None:
    assert _grace(helm.template({})) == 20 + 10 + 15
    longer = helm.template(
        {"shutdown": {"drainGraceSeconds": 50, "flushTimeoutSeconds": 10, "marginSeconds": 15}}
    )
    assert _grace(longer) == 75
    env = {
        e["name"]: e.get("value")
        for e in longer.one("Deployment")["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert (env["JARVIS_DRAIN_GRACE_S"], env["JARVIS_FLUSH_TIMEOUT_S"]) == ("50", "10")
    assert _grace(helm.template({"terminationGracePeriodSeconds": 120})) == 120
    too_small = helm.template({"terminationGracePeriodSeconds": 30})
    assert not too_small.ok
    assert "terminationGracePeriodSeconds=30 is too small" in too_small.stderr
    assert "= 45 s" in too_small.stderr


def test_probes_fit_the_health_checks(renders: dict[tuple[str, str], Render]) -> None:
    worker = renders["defaults", KUBE_VERSIONS[-1]].one("Deployment")["spec"]["template"]["spec"][
        "containers"
    ][0]
    ready, live = worker["readinessProbe"], worker["livenessProbe"]
    assert ready["httpGet"]["path"] == "/readyz" and live["httpGet"]["path"] == "/livez"
    # /readyz measured 4.4 s with every dependency down (checks one after another).
    assert ready["timeoutSeconds"] >= 5 and ready["periodSeconds"] > ready["timeoutSeconds"]
    # /livez goes stale after 60 s without a loop turn: a restart needs more than that.
    assert live["periodSeconds"] * live["failureThreshold"] >= 60


def test_service_account_name_whether_created_or_existing(
    helm: Helm, renders: dict[tuple[str, str], Render]
) -> None:
    existing = renders["existing-service-account", KUBE_VERSIONS[-1]]
    assert existing.kinds("ServiceAccount") == []
    assert (
        existing.one("Deployment")["spec"]["template"]["spec"]["serviceAccountName"]
        == "jarvis-runner"
    )
    assert existing.one("RoleBinding")["subjects"][0]["name"] == "jarvis-runner"
    unnamed = helm.template({"serviceAccount": {"create": False}})
    assert unnamed.one("Deployment")["spec"]["template"]["spec"]["serviceAccountName"] == "default"
    created = renders["irsa", KUBE_VERSIONS[-1]]
    sa = created.one("ServiceAccount")
    assert sa["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/jarvis"
    }
    assert (
        created.one("Deployment")["spec"]["template"]["spec"]["serviceAccountName"]
        == sa["metadata"]["name"]
    )


def test_checkpoint_claim_survives_uninstall_and_an_existing_claim_is_used(
    renders: dict[tuple[str, str], Render],
) -> None:
    pvc = renders["defaults", KUBE_VERSIONS[-1]].one("PersistentVolumeClaim")
    assert pvc["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    existing = renders["existing-claim", KUBE_VERSIONS[-1]]
    assert existing.kinds("PersistentVolumeClaim") == []
    volumes = existing.one("Deployment")["spec"]["template"]["spec"]["volumes"]
    assert {"name": "checkpoints", "persistentVolumeClaim": {"claimName": "jarvis-efs"}} in volumes


def test_keda_objects(renders: dict[tuple[str, str], Render]) -> None:
    plain = renders["defaults", KUBE_VERSIONS[-1]]
    so = plain.one("ScaledObject")["spec"]
    assert (
        plain.kinds("TriggerAuthentication") == [] and "authenticationRef" not in so["triggers"][0]
    )
    assert so["fallback"] == {"failureThreshold": 3, "replicas": 2}
    down = so["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"]
    assert down == {
        "stabilizationWindowSeconds": 300,
        "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}],
    }
    meta = so["triggers"][0]["metadata"]
    assert (meta["lagThreshold"], meta["activationLagThreshold"], meta["topic"]) == (
        "4",
        "0",
        "spy_control",
    )
    assert (
        "Deployment" in [d["kind"] for d in plain.docs]
        and "replicas" not in plain.one("Deployment")["spec"]
    )

    sasl = renders["sasl-with-secrets", KUBE_VERSIONS[-1]]
    trigger = sasl.one("ScaledObject")["spec"]["triggers"][0]
    assert (trigger["metadata"]["sasl"], trigger["metadata"]["tls"]) == ("scram_sha512", "enable")
    auth = sasl.one("TriggerAuthentication")
    assert trigger["authenticationRef"] == {"name": auth["metadata"]["name"]}
    assert {(r["parameter"], r["name"], r["key"]) for r in auth["spec"]["secretTargetRef"]} == {
        ("username", "kafka-creds", "username"),
        ("password", "kafka-creds", "password"),
        ("ca", "kafka-tls", "ca.crt"),
        ("cert", "kafka-tls", "tls.crt"),
        ("key", "kafka-tls", "tls.key"),
        ("keyPassword", "kafka-tls", "key-password"),
    }

    irsa = renders["irsa", KUBE_VERSIONS[-1]]
    meta = irsa.one("ScaledObject")["spec"]["triggers"][0]["metadata"]
    assert (meta["sasl"], meta["saslTokenProvider"], meta["tls"], meta["awsRegion"]) == (
        "oauthbearer",
        "aws_msk_iam",
        "enable",
        "us-east-1",
    )
    assert irsa.one("TriggerAuthentication")["spec"]["podIdentity"] == {
        "provider": "aws",
        "identityOwner": "workload",
    }
    # The workers authenticate the same way: tokens signed with the pod's IRSA role.
    env = {
        e["name"]: e.get("value")
        for e in irsa.one("Deployment")["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["JARVIS_KAFKA_MSK_IAM_REGION"] == "us-east-1"
    security = json.loads(env["JARVIS_KAFKA_SECURITY"] or "{}")
    assert not {"security.protocol", "sasl.mechanism"} & set(security)  # the worker sets them

    off = renders["autoscaling-off", KUBE_VERSIONS[-1]]
    assert off.kinds("ScaledObject") == [] and off.kinds("TriggerAuthentication") == []
    assert off.one("Deployment")["spec"]["replicas"] == 3


def test_network_policy_and_monitors(renders: dict[tuple[str, str], Render]) -> None:
    assert renders["defaults", KUBE_VERSIONS[-1]].kinds("NetworkPolicy") == []
    np = renders["network-policy", KUBE_VERSIONS[-1]].one("NetworkPolicy")["spec"]
    assert np["ingress"] == [
        {
            "ports": [{"port": "health", "protocol": "TCP"}],
            "from": [{"namespaceSelector": {"matchLabels": {"name": "monitoring"}}}],
        }
    ]
    egress_ports = [sorted(p["port"] for p in rule["ports"]) for rule in np["egress"]]
    assert [53, 53] in egress_ports and [9096] in egress_ports and [6379] in egress_ports
    assert {
        "to": [{"ipBlock": {"cidr": "10.0.0.0/16"}}],
        "ports": [{"port": 9096, "protocol": "TCP"}],
    } in np["egress"]
    mon = renders["monitors", KUBE_VERSIONS[-1]]
    assert mon.one("PodMonitor")["spec"]["podMetricsEndpoints"] == [
        {"port": "health", "path": "/metrics", "interval": "30s"}
    ]
    assert mon.one("ServiceMonitor")["spec"]["endpoints"][0]["port"] == "health"
    assert mon.one("Service")["spec"]["clusterIP"] == "None"


def test_the_grafana_dashboard_configmap(renders: dict[tuple[str, str], Render]) -> None:
    assert not [
        c
        for c in renders["defaults", KUBE_VERSIONS[-1]].kinds("ConfigMap")
        if c["metadata"]["name"].endswith("-dashboard")
    ]  # off by default
    shipped = json.loads((ROOT / "charts/jarvis/dashboards/jarvis.json").read_text())
    for kube in KUBE_VERSIONS:
        (cm,) = [
            c
            for c in renders["dashboard", kube].kinds("ConfigMap")
            if c["metadata"]["name"] == "jarvis-dashboard"
        ]
        meta = cm["metadata"]
        assert meta["namespace"] == "monitoring"
        assert meta["labels"]["grafana.example.com/dashboard"] == "jarvis"
        assert meta["labels"]["app.kubernetes.io/name"] == "jarvis"
        assert meta["annotations"] == {"grafana_folder": "Jarvis"}
        assert list(cm["data"]) == ["jarvis.json"]
        assert json.loads(cm["data"]["jarvis.json"]) == shipped  # byte for byte as JSON


def test_the_dashboard_defaults_to_the_sidecars_label_in_the_release_namespace(
    helm: Helm,
) -> None:
    render = helm.template({"metrics": {"dashboard": {"enabled": True}}})
    assert render.ok, render.stderr
    (cm,) = [c for c in render.kinds("ConfigMap") if c["metadata"]["name"] == "jarvis-dashboard"]
    assert cm["metadata"]["namespace"] == "jarvis"
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    bad = helm.template({"metrics": {"dashboard": {"enabled": True, "label": "not a label!"}}})
    assert not bad.ok and "/metrics/dashboard/label" in bad.stderr


def test_chart_conventions(renders: dict[tuple[str, str], Render]) -> None:
    default = renders["defaults", KUBE_VERSIONS[-1]].one("Deployment")
    app_version = re.search(
        r'appVersion: "([^"]+)"', (ROOT / "charts/jarvis/Chart.yaml").read_text()
    )
    assert (
        app_version
        and default["spec"]["template"]["spec"]["containers"][0]["image"]
        == f"ghcr.io/example/jarvis:{app_version[1]}"
    )
    for key in (
        "app.kubernetes.io/name",
        "app.kubernetes.io/instance",
        "app.kubernetes.io/version",
        "app.kubernetes.io/managed-by",
        "helm.sh/chart",
    ):
        assert key in default["metadata"]["labels"]
    conv = renders["conventions", KUBE_VERSIONS[-1]].one("Deployment")["spec"]["template"]
    spec = conv["spec"]
    assert spec["containers"][0]["image"] == "ghcr.io/example/jarvis:1.2.3@sha256:" + "ab" * 32
    assert spec["imagePullSecrets"] == [{"name": "regcred"}]
    assert spec["nodeSelector"] == {"kubernetes.io/arch": "amd64"}
    assert spec["tolerations"][0]["key"] == "jarvis" and "nodeAffinity" in spec["affinity"]
    assert spec["topologySpreadConstraints"][0]["topologyKey"] == "topology.kubernetes.io/zone"
    assert {"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional"} in spec["containers"][0][
        "env"
    ]
    assert spec["containers"][0]["envFrom"] == [{"configMapRef": {"name": "jarvis-extra"}}]
    assert (
        conv["metadata"]["annotations"]["team"] == "platform"
        and conv["metadata"]["labels"]["cost-center"] == "42"
    )
    assert spec["terminationGracePeriodSeconds"] == 90


def _readme_deploy_commands() -> list[list[str]]:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Deploy\n", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                commands.append(shlex.split(line))
    return commands


def test_readme_deploy_commands_run(helm: Helm, tmp_path: Path) -> None:
    commands = _readme_deploy_commands()
    assert {c[1] for c in commands} >= {"lint", "template", "install"}
    values = ROOT / "charts/jarvis/examples/production.yaml"
    for argv in commands:
        assert argv[0] == "helm", argv
        args = argv[1:]
        if args[0] in ("install", "upgrade"):
            # No cluster here: the same chart, values and flags rendered client-side.
            args = [
                "template",
                *[a for a in args[1:] if a not in ("--install", "--create-namespace", "--wait")],
                "--kube-version",
                KUBE_VERSIONS[-1],
            ]
        out = helm.run(*args)
        assert out.returncode == 0, f"{argv}: {out.stderr}"
    assert values.is_file()


@pytest.mark.parametrize("case", [c for c in MATRIX if c != "autoscaling-off"])
def test_the_charts_keda_objects_pass_kedas_crds_and_parser(
    renders: dict[tuple[str, str], Render], case: str
) -> None:
    from tests.keda.kedacheck import assert_keda_documents_valid

    render = renders[case, KUBE_VERSIONS[-1]]
    # The Deployment and ServiceAccount give KEDA its context; the Secrets and ConfigMaps the
    # values point at exist in the cluster, not in the chart: stand-ins with the keys used.
    checked = assert_keda_documents_valid([*render.docs, *_referenced(render)])
    kinds = sorted(c.kind for c in checked)
    assert "ScaledObject" in kinds  # rendered, and KEDA's own code accepted it
    if case in ("sasl-with-secrets", "irsa"):
        assert kinds == ["ScaledObject", "TriggerAuthentication"]


def _referenced(render: Render) -> list[dict[str, Any]]:
    """Stand-in Secrets and ConfigMaps for those the Deployment references but the chart does
    not create (existing secrets named in values)."""
    rendered = {(d["kind"], d["metadata"]["name"]) for d in render.docs}
    wanted: dict[tuple[str, str], set[str]] = {}
    for container in render.one("Deployment")["spec"]["template"]["spec"]["containers"]:
        for env in container.get("env", []):
            ref = (env.get("valueFrom") or {}).get("secretKeyRef")
            if ref:
                wanted.setdefault(("Secret", ref["name"]), set()).add(ref["key"])
        for source in container.get("envFrom", []):
            for kind, key in (("Secret", "secretRef"), ("ConfigMap", "configMapRef")):
                if key in source:
                    wanted.setdefault((kind, source[key]["name"]), set())
    out: list[dict[str, Any]] = []
    for (kind, name), keys in wanted.items():
        if (kind, name) in rendered:
            continue
        data = {k: "c3RhbmQtaW4=" if kind == "Secret" else "stand-in" for k in sorted(keys)}
        out.append({"apiVersion": "v1", "kind": kind, "metadata": {"name": name}, "data": data})
    return out


def _worker_env(render: Render) -> dict[str, Any]:
    container = render.one("Deployment")["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value") for e in container["env"]}


def test_worker_logs_are_json_and_tracing_is_off_by_default(helm: Helm) -> None:
    env = _worker_env(helm.template({}))
    assert env["JARVIS_LOG_FORMAT"] == "json" and env["JARVIS_TRACING"] == "off"
    assert not [name for name in env if name.startswith("OTEL_")]
    assert _worker_env(helm.template({"logFormat": "text"}))["JARVIS_LOG_FORMAT"] == "text"


def test_tracing_values_become_the_standard_otel_variables(helm: Helm) -> None:
    env = _worker_env(
        helm.template(
            {
                "tracing": {
                    "exporter": "otlp",
                    "otlpEndpoint": "http://otel-collector.observability:4318",
                    "sampler": "parentbased_traceidratio",
                    "samplerArg": "0.25",
                }
            }
        )
    )
    assert env["JARVIS_TRACING"] == "otlp"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector.observability:4318"
    assert env["OTEL_TRACES_SAMPLER"] == "parentbased_traceidratio"
    assert env["OTEL_TRACES_SAMPLER_ARG"] == "0.25"
    assert env["OTEL_SERVICE_NAME"]  # the release's full name unless tracing.serviceName
    named = _worker_env(helm.template({"tracing": {"exporter": "console", "serviceName": "w"}}))
    assert named["OTEL_SERVICE_NAME"] == "w" and "OTEL_EXPORTER_OTLP_ENDPOINT" not in named


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"logFormat": "xml"}, "at '/logFormat'"),
        ({"tracing": {"exporter": "jaeger"}}, "at '/tracing/exporter'"),
        ({"tracing": {"otlpEndpoint": "collector:4318"}}, "at '/tracing/otlpEndpoint'"),
        ({"config": {"LOG_FORMAT": "text"}}, "config.LOG_FORMAT is set by the chart"),
        ({"config": {"TRACING": "otlp"}}, "config.TRACING is set by the chart"),
    ],
)
def test_invalid_telemetry_values_fail_naming_them(
    helm: Helm, values: dict[str, Any], message: str
) -> None:
    render = helm.template(values)
    assert not render.ok
    assert message in render.stderr, render.stderr
