"""Helm from tests: render and lint the chart (charts/jarvis) with a real Helm binary."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.helpers.tools import ROOT

CHART = ROOT / "charts" / "jarvis"
KUBE_VERSIONS = ("1.29.0", "1.37.0")  # Chart.yaml kubeVersion: the oldest and newest supported


@dataclass
class Render:
    ok: bool
    stdout: str
    stderr: str
    docs: list[dict[str, Any]] = field(default_factory=list)

    def kinds(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.docs if d.get("kind") == kind]

    def one(self, kind: str) -> dict[str, Any]:
        found = self.kinds(kind)
        assert len(found) == 1, f"expected one {kind}, got {len(found)}"
        return found[0]


class Helm:
    def __init__(self, binary: Path, tmp: Path) -> None:
        self.binary = binary
        self.tmp = tmp
        self._n = 0

    def _values_file(self, values: dict[str, Any]) -> Path:
        self._n += 1
        path = self.tmp / f"values-{self._n}.json"
        path.write_text(json.dumps(values))
        return path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.binary), *args],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
            cwd=ROOT,
            env={
                "PATH": "/usr/bin:/bin",
                "HOME": str(self.tmp),
                "HELM_CACHE_HOME": str(self.tmp / "c"),
                "HELM_CONFIG_HOME": str(self.tmp / "cfg"),
                "HELM_DATA_HOME": str(self.tmp / "d"),
            },
        )

    def template(
        self,
        values: dict[str, Any] | None = None,
        kube: str = KUBE_VERSIONS[-1],
        release: str = "jarvis",
    ) -> Render:
        out = self.run(
            "template",
            release,
            str(CHART),
            "--namespace",
            "jarvis",
            "-f",
            str(self._values_file(values or {})),
            "--kube-version",
            kube,
        )
        docs = [d for d in yaml.safe_load_all(out.stdout) if d] if out.returncode == 0 else []
        return Render(out.returncode == 0, out.stdout, out.stderr, docs)

    def lint(self, values: dict[str, Any], kube: str) -> subprocess.CompletedProcess[str]:
        return self.run(
            "lint",
            "--strict",
            str(CHART),
            "-f",
            str(self._values_file(values)),
            "--kube-version",
            kube,
        )
