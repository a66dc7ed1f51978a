"""charts/telegraf/telegraf.yaml, statically: it ships the tested telegraf.conf unchanged, sets
every variable that config reads, and its pod fits Pod Security ``restricted``."""

from __future__ import annotations

import re
from typing import Any

import yaml

from tests.helpers import ROOT

CHART = ROOT / "charts" / "telegraf"


def _docs() -> dict[str, dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all((CHART / "telegraf.yaml").read_text()) if d]
    return {d["kind"]: d for d in docs}


def test_the_configmap_holds_the_tested_telegraf_conf() -> None:
    conf = (CHART / "telegraf.conf").read_text()
    shipped = _docs()["ConfigMap"]["data"]["telegraf.conf"]
    assert shipped == conf, (
        "charts/telegraf/telegraf.yaml's ConfigMap differs from charts/telegraf/telegraf.conf: "
        "copy the file into it (indented 4 spaces under `telegraf.conf: |`)"
    )


def test_the_conf_reads_ts_as_its_time_and_talks_to_kafka_4() -> None:
    conf = (CHART / "telegraf.conf").read_text()
    assert re.search(r'^\s*version = "3\.6\.0"', conf, re.M)
    assert re.search(r'^\s*timestamp_path = "ts"', conf, re.M)
    assert re.search(r'^\s*timestamp_format = "unix_ns"', conf, re.M)
    assert 'path = "at"\n      type = "string"' in conf  # `at` only as a field, never the time


def test_the_deployment_sets_every_variable_and_mounts_the_config() -> None:
    docs = _docs()
    lines = (CHART / "telegraf.conf").read_text().splitlines()
    settings = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    wanted = set(re.findall(r"\$\{([A-Z_]+)(?::-[^}]*)?\}", settings))
    assert wanted >= {"KAFKA_BROKERS", "JARVIS_LOGS_TOPIC", "INFLUXDB_URL", "INFLUXDB_DATABASE"}
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert {e["name"] for e in container["env"]} == wanted
    mount = container["volumeMounts"][0]
    assert container["args"] == ["--config", f"{mount['mountPath']}/telegraf.conf"]
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    assert volume["configMap"]["name"] == docs["ConfigMap"]["metadata"]["name"]
    assert re.fullmatch(r"\S+:1\.(3[7-9]|[4-9]\d)\.\d+", container["image"]), container["image"]


def test_the_pod_fits_pod_security_restricted() -> None:
    pod = _docs()["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] > 0
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    for container in pod["containers"]:
        sc = container["securityContext"]
        assert sc["allowPrivilegeEscalation"] is False
        assert sc["capabilities"]["drop"] == ["ALL"]
        assert sc["readOnlyRootFilesystem"] is True
        assert set(container["resources"]) == {"requests", "limits"}
