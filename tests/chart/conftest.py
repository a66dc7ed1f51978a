"""Chart tests: a real Helm and Kubernetes' Pod Security evaluator, built by scripts/tools/k8s."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import built_tool
from tests.helpers.helm import Helm


@pytest.fixture(scope="session")
def helm_bin() -> Path:
    return built_tool("k8s", "helm", timeout_s=1800)


@pytest.fixture(scope="session")
def psa_check_bin() -> Path:
    return built_tool("k8s", "psa-check", timeout_s=1800)


@pytest.fixture(scope="session")
def helm(helm_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Helm]:
    yield Helm(helm_bin, tmp_path_factory.mktemp("helm"))
