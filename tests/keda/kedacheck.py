"""KEDA's own code on Jarvis's KEDA objects: its CRD schemas and ``kedacheck`` (a Go program
built against github.com/kedacore/keda/v2, see scripts/keda-tools and scripts/tools/keda/).

Plain Python (no pytest) so other tests can use it on any rendered manifests, e.g. the
chart's::

    from tests.keda.kedacheck import assert_keda_documents_valid
    assert_keda_documents_valid(yaml.safe_load_all(rendered))

``validate_keda_documents`` checks every ScaledObject, TriggerAuthentication and
ClusterTriggerAuthentication among the documents against KEDA's CRD (openAPIV3Schema,
with unknown fields rejected as ``kubectl apply --validate=strict`` does), then hands all
documents to ``kedacheck validate``: KEDA's strict decoding into its Go types, its webhook's
replica/fallback/trigger checks, its resolver for ``authenticationRef`` (Secrets and
ServiceAccounts among the documents are used; ones referenced but absent are made up with
placeholder values and reported) and its Kafka trigger parser.
"""

from __future__ import annotations

import copy
import functools
import json
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from tests.helpers import ROOT

KEDA_KINDS = ("ScaledObject", "TriggerAuthentication", "ClusterTriggerAuthentication")
CRD_FILES = {
    "ScaledObject": "keda.sh_scaledobjects.yaml",
    "TriggerAuthentication": "keda.sh_triggerauthentications.yaml",
    "ClusterTriggerAuthentication": "keda.sh_clustertriggerauthentications.yaml",
}


@dataclass(frozen=True)
class Tools:
    kedacheck: Path
    crds: Path


@functools.cache
def tools() -> Tools:
    """Build (first time) or find (cached) KEDA's CRDs and kedacheck."""
    proc = subprocess.run(
        [str(ROOT / "scripts" / "keda-tools")],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"scripts/keda-tools failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    paths = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    return Tools(Path(paths["KEDA_CHECK"]), Path(paths["KEDA_CRDS"]))


def _strict(schema: dict[str, Any]) -> dict[str, Any]:
    """The structural schema as the API server applies it to a strict create: fields not in
    ``properties`` are errors unless the schema keeps unknown fields; int-or-string fields
    take either."""
    if schema.get("x-kubernetes-int-or-string") and "anyOf" not in schema:
        schema["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        schema["additionalProperties"] = False
    for value in schema.values():
        if isinstance(value, dict):
            _strict(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    _strict(item)
    return schema


@functools.cache
def crd_schema(kind: str, api_version: str = "keda.sh/v1alpha1") -> dict[str, Any]:
    """The openAPIV3Schema that KEDA's CRD declares for ``kind`` at ``api_version``."""
    crd = yaml.safe_load((tools().crds / CRD_FILES[kind]).read_text())
    group, _, version = api_version.partition("/")
    if crd["spec"]["group"] != group:
        raise ValueError(f"{kind}: KEDA's CRD is in group {crd['spec']['group']}, not {group}")
    for v in crd["spec"]["versions"]:
        if v["name"] == version and v.get("served", False):
            schema = copy.deepcopy(v["schema"]["openAPIV3Schema"])
            # metadata is ObjectMeta, checked by the API server itself, not by the CRD.
            return _strict(schema)
    raise ValueError(f"{kind}: KEDA's CRD serves no version {version!r}")


@dataclass
class Checked:
    """One KEDA document and what was found wrong with it (empty: valid)."""

    where: str  # "ScaledObject jarvis (document 2)"
    kind: str
    name: str
    errors: list[str] = field(default_factory=list)
    triggers: list[dict[str, Any]] = field(default_factory=list)  # kedacheck's parse results

    @property
    def ok(self) -> bool:
        return not self.errors


def schema_errors(doc: Mapping[str, Any]) -> list[str]:
    """Violations of KEDA's CRD schema, each naming the field path."""
    kind = str(doc.get("kind"))
    api_version = str(doc.get("apiVersion"))
    try:
        schema = crd_schema(kind, api_version)
    except ValueError as exc:
        return [str(exc)]
    validator = jsonschema.Draft7Validator(schema)
    out = []
    for err in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path))):
        path = ".".join(str(p) for p in err.absolute_path) or "(document)"
        out.append(f"{path}: {err.message}")
    return out


def validate_keda_documents(docs: Iterable[Mapping[str, Any] | None]) -> list[Checked]:
    """Check every KEDA object among ``docs`` (rendered manifests; other kinds give context
    or are ignored). Returns one ``Checked`` per KEDA object, in order."""
    documents = [dict(d) for d in docs if d]
    checked: list[Checked] = []
    for n, doc in enumerate(documents, start=1):
        if doc.get("kind") not in KEDA_KINDS:
            continue
        name = str((doc.get("metadata") or {}).get("name", "?"))
        checked.append(
            Checked(
                f"{doc['kind']} {name} (document {n})", str(doc["kind"]), name, schema_errors(doc)
            )
        )
    if not checked:
        return checked
    proc = subprocess.run(
        [str(tools().kedacheck), "validate", "-"],
        input=json.dumps(documents),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"kedacheck validate failed ({proc.returncode}): {proc.stderr}")
    results = json.loads(proc.stdout)
    if len(results) != len(checked):
        raise RuntimeError(
            f"kedacheck reported {len(results)} KEDA objects, expected {len(checked)}"
        )
    for mine, theirs in zip(checked, results, strict=True):
        mine.errors.extend(f"KEDA: {e}" for e in theirs["errors"])
        mine.triggers = theirs.get("triggers") or []
    return checked


def assert_keda_documents_valid(docs: Iterable[Mapping[str, Any] | None]) -> list[Checked]:
    """``validate_keda_documents``, failing with every problem listed, each with its object."""
    checked = validate_keda_documents(docs)
    problems = [f"{c.where}: {e}" for c in checked for e in c.errors]
    if problems:
        raise AssertionError("invalid KEDA objects:\n  " + "\n  ".join(problems))
    return checked


def scaler_view(
    metadata: Mapping[str, str],
    min_replicas: int,
    max_replicas: int,
    current_replicas: int = 0,
    auth: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """KEDA's Kafka scaler on a live broker: lag, activity, the HPA's recommendation and the
    replica count KEDA and the HPA would settle on (see scripts/tools/keda/main.go)."""
    args = [str(tools().kedacheck), "scale", "--min", str(min_replicas), "--max", str(max_replicas)]
    args += ["--current", str(current_replicas)]
    for key, value in metadata.items():
        args += ["--metadata", f"{key}={value}"]
    for key, value in (auth or {}).items():
        args += ["--auth", f"{key}={value}"]
    proc = subprocess.run(args, capture_output=True, text=True, check=False, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"kedacheck scale failed ({proc.returncode}): {proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result
