"""The Grafana dashboard shipped with the chart (charts/jarvis/dashboards/jarvis.json): a valid
dashboard by Grafana's own schema (grafana-foundation-sdk's strict decoder, built by
scripts/tools/grafana), laid out on the grid, every query parsed by Prometheus's own PromQL
parser, and every metric a query names exported by a live worker."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.fault.cluster import Cluster
from tests.helpers import ROOT, built_tool, wait_for

DASHBOARD = ROOT / "charts" / "jarvis" / "dashboards" / "jarvis.json"
BUILTIN_VARIABLES = {"__rate_interval", "__interval", "__range"}
# A cold scripts/tools/grafana builds both tools from the Go module proxy (a minute or two).
pytestmark = pytest.mark.timeout(1200)


@pytest.fixture(scope="module")
def dashboard_check() -> Path:
    return built_tool("grafana", "dashboard-check", timeout_s=1200)


@pytest.fixture(scope="module")
def promql_check() -> Path:
    return built_tool("grafana", "promql-check", timeout_s=1200)


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for panel in dashboard["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))  # a collapsed row holds its panels
    return out


def queries(dashboard: dict[str, Any]) -> list[str]:
    """Every PromQL expression: panel targets, and the selectors of label_values variables."""
    exprs = [t["expr"] for p in panels(dashboard) for t in p.get("targets", [])]
    for var in dashboard["templating"]["list"]:
        if var["type"] == "query":
            query = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
            found = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", query)
            assert found, f"variable {var['name']}: not label_values(selector, label): {query}"
            exprs.append(found[1])
    return exprs


def interpolate(expr: str) -> str:
    """As Grafana sends it: variables replaced (multi-value ones by a regex)."""
    expr = expr.replace("$__rate_interval", "5m").replace("$__interval", "1m")
    return re.sub(r"\$\{?(\w+)\}?", ".*", expr)


def check_exprs(binary: Path, exprs: list[str]) -> list[dict[str, Any]]:
    out = subprocess.run(
        [str(binary)], input=json.dumps(exprs), capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    results: list[dict[str, Any]] = json.loads(out.stdout)
    return results


def test_the_dashboard_is_valid_by_grafanas_schema(dashboard_check: Path, tmp_path: Path) -> None:
    ok = subprocess.run([str(dashboard_check), str(DASHBOARD)], capture_output=True, text=True)
    assert (ok.returncode, ok.stdout.strip()) == (0, "ok"), ok.stdout + ok.stderr
    # The validator does refuse what Grafana would not load.
    broken = json.loads(DASHBOARD.read_text())
    broken["panels"][1]["gridPos"]["w"] = "wide"
    broken["refreshEvery"] = "1m"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(broken))
    refused = subprocess.run([str(dashboard_check), str(bad)], capture_output=True, text=True)
    assert refused.returncode == 1
    assert "panels[1].gridPos.w" in refused.stdout and "'refreshEvery'" in refused.stdout


def test_the_dashboards_model_ids_grid_and_datasource_variable(dashboard: dict[str, Any]) -> None:
    assert dashboard["schemaVersion"] >= 36 and dashboard["title"] == "Jarvis"
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,40}", dashboard["uid"])
    every = panels(dashboard)
    ids = [p["id"] for p in every]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    cells: dict[tuple[int, int], int] = {}
    for p in every:
        g = p["gridPos"]
        assert g["w"] >= 1 and g["h"] >= 1 and g["x"] >= 0 and g["y"] >= 0, p["title"]
        assert g["x"] + g["w"] <= 24, f"{p['title']} is wider than the grid"
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, f"{p['title']} overlaps panel {cells[(x, y)]}"
                cells[(x, y)] = p["id"]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    ds = {"type": "prometheus", "uid": "${datasource}"}
    for p in every:
        if p["type"] == "row":
            continue
        assert p["datasource"] == ds, p["title"]
        assert p["targets"], f"{p['title']} has no query"
        refs = [t["refId"] for t in p["targets"]]
        assert len(refs) == len(set(refs)), p["title"]
        for t in p["targets"]:
            assert t["datasource"] == ds and t["expr"].strip(), p["title"]
            used = set(re.findall(r"\$\{?(\w+)\}?", t["expr"]))
            assert used <= set(variables) | BUILTIN_VARIABLES, (p["title"], used)
    # What operators look at first is there (the list).
    titles = " | ".join(p["title"].lower() for p in every)
    for topic in (
        "lag",
        "throughput",
        "duration",
        "error type",
        "per pod",
        "book call",
        "fsync",
        "sandboxes",
        "dead letters",
    ):
        assert topic in titles, topic
    assert any("histogram_quantile(" in e for e in queries(dashboard))


def test_every_query_parses(promql_check: Path, dashboard: dict[str, Any]) -> None:
    exprs = queries(dashboard)
    results = check_exprs(promql_check, [interpolate(e) for e in exprs])
    assert [r for r in results if r["error"]] == []
    assert all(r["metrics"] for r in results)
    # The parser does refuse a broken query.
    (broken,) = check_exprs(promql_check, ["sum(rate(jarvis_executions_total[5m])"])
    assert broken["error"]


def exported(port: int) -> set[str]:
    """Every sample name a worker's /metrics declares (from its # TYPE lines), whether or
    not a labelled metric has a sample yet."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    suffixes = {
        "counter": ("_total",),
        "histogram": ("_bucket", "_count", "_sum"),
        "summary": ("_count", "_sum", ""),
        "gauge": ("",),
        "info": ("_info",),
    }
    names: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            base = name.removesuffix("_total") if kind == "counter" else name
            names |= {base + s for s in suffixes.get(kind, ("",))}
    return names


@pytest.mark.integration
def test_every_metric_a_query_names_is_exported_by_a_live_worker(
    promql_check: Path, dashboard: dict[str, Any], cluster: Cluster
) -> None:
    worker = cluster.start_worker()
    port = wait_for(worker.health_port, 30, "the worker's health port")
    names = exported(port)
    assert "jarvis_executions_total" in names and "process_cpu_seconds_total" in names
    results = check_exprs(promql_check, [interpolate(e) for e in queries(dashboard)])
    wanted = {m for r in results for m in r["metrics"]}
    assert wanted, "no metric named at all"
    assert sorted(wanted - names) == []
    # Every family of ours is on the dashboard, apart from the few kept for debugging.
    ours = {n for n in names if n.startswith("jarvis_")}
    offscreen = {"jarvis_rebalances_total", "jarvis_consumer_lag_updated_seconds"}
    families = {re.sub(r"_(bucket|count|sum)$", "", n) for n in ours}
    shown = {re.sub(r"_(bucket|count|sum)$", "", n) for n in wanted}
    assert sorted(families - shown - offscreen) == []
