"""The Grafana dashboard and Prometheus config agree with serve_app/metrics.py.

metrics.py is read as text (parsed with `ast`): importing RayMetrics' module is
harmless, but its metric kinds and tag_keys only exist inside a constructor that
needs Ray, and unit tests never import Ray.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
METRICS_PY = ROOT / "serve_app" / "metrics.py"
DASHBOARD = ROOT / "cluster" / "monitoring" / "grafana" / "triage-dashboard.json"
PROMETHEUS = ROOT / "cluster" / "monitoring" / "prometheus.yml"

# Labels Ray adds to every metric a Serve replica records (ray.serve.metrics) and
# that its exporter or Prometheus attach (session, node, scrape target).
RAY_LABELS = {"application", "deployment", "replica", "route", "SessionName", "Version",
              "Component", "NodeAddress", "WorkerId", "instance", "job"}
TRIAGE_SERIES = re.compile(r"\bray_triage_[a-z0-9_]+\b")
SERVE_SERIES = re.compile(r"\bray_serve_[a-z0-9_]+\b")
BY_CLAUSE = re.compile(r"\bby\s*\(([^)]*)\)")
SELECTOR = re.compile(r"\b(ray_triage_[a-z0-9_]+)\{([^}]*)\}")
MATCHER = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)")


def defined_metrics() -> dict[str, dict]:
    """{name: {"kind": Counter|Histogram|Gauge, "labels": set}} from metrics.py's source."""
    tree = ast.parse(METRICS_PY.read_text())
    constants = {t.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
                 for t in node.targets if isinstance(t, ast.Name)
                 and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)}
    ray_cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "RayMetrics")
    found = {}
    for call in ast.walk(ray_cls):
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                and call.func.attr in ("Counter", "Histogram", "Gauge")):
            continue
        name = constants[call.args[0].id]
        tags = next((k.value for k in call.keywords if k.arg == "tag_keys"), None)
        labels = set(ast.literal_eval(tags)) if tags is not None else set()
        found[name] = {"kind": call.func.attr, "labels": labels}
    return found


def exported(name: str, kind: str) -> set[str]:
    """The series names Ray's Prometheus exporter writes for one metric."""
    full = f"ray_{name}"
    if kind == "Counter":
        return {full if full.endswith("_total") else f"{full}_total"}
    if kind == "Histogram":
        return {f"{full}_bucket", f"{full}_sum", f"{full}_count"}
    return {full}


def exprs(dashboard: dict) -> list[str]:
    out = []

    def walk(panels):
        for p in panels:
            out.extend(t["expr"] for t in p.get("targets", []) if t.get("expr"))
            walk(p.get("panels", []))

    walk(dashboard["panels"])
    return out


@pytest.fixture(scope="module")
def metrics() -> dict[str, dict]:
    found = defined_metrics()
    assert len(found) >= 12, found  # every RayMetrics instrument was parsed
    return found


@pytest.fixture(scope="module")
def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


@pytest.fixture(scope="module")
def series(metrics) -> dict[str, str]:
    """Exported series name -> metric name."""
    return {s: name for name, m in metrics.items() for s in exported(name, m["kind"])}


def test_metrics_py_parse_matches_its_constants(metrics):
    from serve_app import metrics as module  # Ray-free at import time

    names = {v for k, v in vars(module).items()
             if k.isupper() and isinstance(v, str) and v.startswith("triage_")}
    assert names == set(metrics)


def test_every_referenced_triage_series_is_exported(dashboard, series):
    used = {s for e in exprs(dashboard) for s in TRIAGE_SERIES.findall(e)}
    assert used, "the dashboard queries no Triage metric"
    unknown = used - set(series)
    assert not unknown, f"not exported by serve_app/metrics.py: {sorted(unknown)}"


def test_every_defined_metric_is_on_a_panel(dashboard, metrics, series):
    shown = {series[s] for e in exprs(dashboard) for s in TRIAGE_SERIES.findall(e) if s in series}
    assert set(metrics) - shown == set()


def test_grouping_and_matcher_labels_exist(dashboard, metrics, series):
    for expr in exprs(dashboard):
        used = set(TRIAGE_SERIES.findall(expr)) & set(series)  # unknown names: test above
        if not used:
            continue
        for s in used:  # every Triage metric in the expression must carry the label
            allowed = metrics[series[s]]["labels"] | RAY_LABELS
            if s.endswith("_bucket"):
                allowed = allowed | {"le"}
            for clause in BY_CLAUSE.findall(expr):
                labels = {x.strip() for x in clause.split(",") if x.strip()}
                assert labels <= allowed, f"{s} has no label {labels - allowed}: {expr}"
        for name, body in SELECTOR.findall(expr):
            if name not in series:
                continue
            labels = set(MATCHER.findall(body))
            allowed = metrics[series[name]]["labels"] | RAY_LABELS
            assert labels <= allowed, f"{name} has no label {labels - allowed}: {expr}"


def test_quantiles_group_by_le_and_rates_use_the_rate_interval(dashboard):
    for expr in exprs(dashboard):
        if "histogram_quantile" in expr:
            assert "_bucket" in expr and re.search(r"by \([^)]*\ble\b", expr), expr
        for window in re.findall(r"\[([^\]]+)\]", expr):
            assert window in ("$__rate_interval", "$__range"), expr


def test_dashboard_shape(dashboard):
    assert 36 <= dashboard["schemaVersion"] <= 41
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert "application" in variables
    ids = []

    def walk(panels):
        for p in panels:
            ids.append(p["id"])
            if p["type"] != "row":
                assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, p["title"]
                assert p["targets"], p["title"]
                for t in p["targets"]:
                    assert t["datasource"]["uid"] == "${datasource}", p["title"]
                    assert 'application=~"$application"' in t["expr"], (p["title"], t["expr"])
            walk(p.get("panels", []))

    walk(dashboard["panels"])
    assert len(ids) == len(set(ids)), "panel ids must be unique"


def test_serve_metrics_exist_in_installed_ray(dashboard):
    """Ray Serve's own series the dashboard uses are defined by the installed Ray.

    Looks Ray's source up without importing it."""
    spec = importlib.util.find_spec("ray")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("ray is not installed")
    serve_dir = Path(next(iter(spec.submodule_search_locations))) / "serve"
    source = "\n".join(p.read_text(errors="replace") for p in serve_dir.rglob("*.py"))
    used = {s for e in exprs(dashboard) for s in SERVE_SERIES.findall(e)}
    assert used
    for s in used:
        base = re.sub(r"_(bucket|sum|count|total)$", "", s.removeprefix("ray_"))
        assert f'"{base}"' in source, f"{s}: no metric {base!r} in {serve_dir}"


def test_prometheus_config_parses():
    cfg = yaml.safe_load(PROMETHEUS.read_text())
    assert cfg["global"]["scrape_interval"] == "10s"
    ray_job = next(j for j in cfg["scrape_configs"] if j["job_name"] == "ray")
    files = [f for sd in ray_job["file_sd_configs"] for f in sd["files"]]
    assert "/tmp/ray/prom_metrics_service_discovery.json" in files
