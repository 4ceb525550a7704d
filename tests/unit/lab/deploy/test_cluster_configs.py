"""The cluster configs agree with the router config they serve.

Every Serve and router config in deployments/ validates; the `ray up` cluster
YAMLs follow Ray's cluster schema and have a node type, big enough and with
room for max_replicas, for every accelerator the GPU router config asks for;
the KubeRay RayService is what serve_app.lab.deploy.kuberay generates now. No Ray
import: Ray's schema and accelerator names are read as files. Each check is a
function returning problems, run on the real files (none) and on tampered
copies (some), so the tests can fail.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from serve_app.config import load_config, parse_config
from serve_app.config.files import validate_file
from serve_app.config.schema import RouterConfig
from serve_app.errors import ConfigError
from serve_app.lab.deploy import kuberay
from serve_app.lab.deploy.kuberay import cpu_replicas, gpu_replicas, max_replicas, nodes_needed, replica_gpus
from tests.unit.factories import REPO_ROOT

ROOT = REPO_ROOT
SERVE = "deployments/gpu-cluster.yaml"
ROUTER = "deployments/router/gpu-cluster.yaml"
RAYSERVICE = "cluster/kuberay/rayservice.yaml"
CLOUDS = ["cluster/aws.yaml", "cluster/gcp.yaml"]
RAY_DIR = Path(importlib.util.find_spec("ray").origin).parent  # located, not imported


@pytest.fixture(autouse=True)
def at_repo_root(monkeypatch):
    # Serve configs name router configs relative to the repo root.
    monkeypatch.chdir(ROOT)


def read(path: str) -> dict:
    return yaml.safe_load((ROOT / path).read_text())


def router() -> RouterConfig:
    return load_config(ROOT / ROUTER)


def ray_pin() -> str:
    return re.search(r'"ray\[serve\]==([^"]+)"', (ROOT / "pyproject.toml").read_text()).group(1)


def ray_accelerator_names() -> set[str]:
    text = (RAY_DIR / "util" / "accelerators" / "accelerators.py").read_text()
    return set(re.findall(r'^\w+ = "([^"]+)"$', text, re.M))


# ------------------------------------------------------------ deployments/


def test_every_deployment_file_validates():
    files = sorted(ROOT.glob("deployments/*.yaml")) + sorted(ROOT.glob("deployments/router/*.yaml"))
    assert {SERVE, ROUTER} <= {str(f.relative_to(ROOT)) for f in files}
    for f in files:
        validate_file(str(f.relative_to(ROOT)))
    assert ROUTER in validate_file(SERVE)


def test_validation_catches_a_broken_gpu_config(tmp_path):
    text = (ROOT / ROUTER).read_text()
    broken = tmp_path / "router.yaml"
    broken.write_text(text.replace("target_ongoing_requests: 24", "upscale_delay_s: 30", 1))
    with pytest.raises(ConfigError, match="target_ongoing_requests"):
        validate_file(str(broken))
    serve = tmp_path / "serve.yaml"
    serve.write_text((ROOT / SERVE).read_text().replace(ROUTER, str(broken)))
    with pytest.raises(ConfigError):
        validate_file(str(serve))


def vllm_problems(cfg: RouterConfig) -> list[str]:
    problems = []
    known = ray_accelerator_names()
    vllm = [m for m in cfg.models if m.engine.type == "vllm"]
    for m in vllm:
        d, e = m.deployment, m.engine
        a = d.autoscaling
        if a is None or not {"min_replicas", "max_replicas", "target_ongoing_requests"} <= a.model_fields_set:
            problems.append(f"{m.name}: autoscaling must state min/max replicas and target_ongoing_requests")
        if d.accelerator_type not in known:
            problems.append(f"{m.name}: accelerator_type {d.accelerator_type!r} is not one of Ray's names")
        if d.num_gpus >= 1 and d.num_gpus != 1:
            problems.append(f"{m.name}: num_gpus is per tensor-parallel worker: 1 or a share of one GPU")
        if 0 < d.num_gpus < 1 and (e.tensor_parallel_size != 1 or e.gpu_memory_utilization > d.num_gpus):
            problems.append(f"{m.name}: a GPU share of {d.num_gpus:g} needs TP 1 and gpu_memory_utilization <= it")
        if d.num_gpus <= 0:
            problems.append(f"{m.name}: a vllm model needs num_gpus")
        source = e.model_source.lower()
        if "qwen3-" in source and m.reasoning.style != "chat_template":
            problems.append(f"{m.name}: Qwen3 switches thinking with the chat template")
        if "gpt-oss" in source and m.reasoning.style != "reasoning_effort":
            problems.append(f"{m.name}: gpt-oss takes reasoning_effort")
    for tier in ("slm", "srm", "llm", "lrm"):
        warm = [m for m in vllm if tier in m.tiers and m.deployment.autoscaling.min_replicas >= 1]
        if not warm:
            problems.append(f"tier {tier}: no local model stays warm (min_replicas >= 1)")
    costliest = max(vllm, key=lambda m: (replica_gpus(m), m.cost.blended))
    if costliest.deployment.autoscaling.min_replicas != 0:
        problems.append(f"{costliest.name}: the costliest model should scale to zero")
    for m in cfg.models:
        if m.locality == "cloud" and (not getattr(m.engine, "api_key_env", None)
                                      or any(k.lower() == "authorization" for k in m.engine.headers)):
            problems.append(f"{m.name}: a cloud key comes from api_key_env, never from the config")
    return problems


def test_gpu_router_config_is_a_sane_vllm_pool():
    assert vllm_problems(router()) == []


def test_vllm_pool_checks_can_fail():
    data = read(ROUTER)
    by_name = {m["name"]: m for m in data["models"]}
    by_name["qwen2.5-1.5b"]["engine"]["gpu_memory_utilization"] = 0.9  # over its 0.5 GPU
    by_name["llama-3.3-70b"]["deployment"]["accelerator_type"] = "H-100"
    by_name["gpt-oss-120b"]["deployment"]["autoscaling"]["min_replicas"] = 0
    by_name["qwen3-4b"]["reasoning"] = {"style": "none"}
    found = "\n".join(vllm_problems(parse_config(data)))
    for expected in ("qwen2.5-1.5b: a GPU share", "'H-100'", "tier lrm: no local model stays warm",
                     "qwen3-4b: Qwen3"):
        assert expected in found
    data = read(ROUTER)
    data["models"][[m["name"] for m in data["models"]].index("qwen3-235b-a22b")]["deployment"][
        "autoscaling"]["min_replicas"] = 1
    assert vllm_problems(parse_config(data)) == ["qwen3-235b-a22b: the costliest model should scale to zero"]


# ---------------------------------------------------------- ray up clusters


def cluster_problems(cluster: dict, cfg: RouterConfig) -> list[str]:
    problems = []
    types = cluster["available_node_types"]
    head = cluster["head_node_type"]
    workers = {k: v for k, v in types.items() if k != head}
    if head not in types or types[head]["resources"].get("GPU"):
        problems.append("the head node type must exist and have no GPU")
    for name, t in workers.items():
        if not 0 <= t.get("min_workers", 0) <= t.get("max_workers", 0):
            problems.append(f"{name}: needs 0 <= min_workers <= max_workers")
    if cluster["max_workers"] < sum(t.get("max_workers", 0) for t in workers.values()):
        problems.append("max_workers is below the sum of the node types' max_workers")
    if cluster["idle_timeout_minutes"] <= 0 or cluster["upscaling_speed"] <= 0:
        problems.append("idle_timeout_minutes and upscaling_speed must be positive")
    for accel, sizes in gpu_replicas(cfg).items():
        fits = [t for t in workers.values() if t["resources"].get(f"accelerator_type:{accel}", 0) >= 1
                and t["resources"].get("GPU", 0) >= max(sizes)]
        if not fits:
            problems.append(f"no node type with accelerator_type:{accel} holds a {max(sizes):g}-GPU replica")
        elif max(t["max_workers"] for t in fits) < nodes_needed(sizes, max(t["resources"]["GPU"] for t in fits)):
            problems.append(f"{accel} node types cannot hold max_replicas of every {accel} model")
    cpu_types = [t for t in workers.values() if not t["resources"].get("GPU")]
    if not cpu_types or max(t["max_workers"] for t in cpu_types) < nodes_needed(
            cpu_replicas(cfg), max(t["resources"]["CPU"] for t in cpu_types)):
        problems.append("no CPU node type with room for the Ingress and Classifier at max replicas")
    setup = " ".join(cluster["setup_commands"])
    if f"=={ray_pin()}" not in setup or "llm" not in setup or "~/triage" not in setup:
        problems.append(f"setup_commands must install ray[...,llm]=={ray_pin()} and ~/triage")
    for key in ("head_start_ray_commands", "worker_start_ray_commands"):
        if "cd ~/triage" not in " ".join(cluster[key]):
            problems.append(f"{key}: Ray must start in ~/triage (relative args.config)")
    return problems


@pytest.mark.parametrize("path", CLOUDS)
def test_cloud_cluster_follows_rays_schema_and_covers_the_router_config(path):
    schema = json.loads((RAY_DIR / "autoscaler" / "ray-schema.json").read_text())
    cluster = read(path)
    jsonschema.validate(cluster, schema)
    assert cluster["provider"]["type"] in ("aws", "gcp")
    assert cluster_problems(cluster, router()) == []


@pytest.mark.parametrize("path", CLOUDS)
def test_cluster_checks_can_fail(path):
    schema = json.loads((RAY_DIR / "autoscaler" / "ray-schema.json").read_text())
    bad = copy.deepcopy(read(path))
    bad["available_node_types"]["gpu_l4_1x"]["gpus"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    bad = copy.deepcopy(read(path))
    del bad["available_node_types"]["gpu_l4_1x"]
    bad["available_node_types"]["gpu_h100_8x"]["max_workers"] = 1
    bad["available_node_types"]["cpu_router"]["min_workers"] = 9
    bad["worker_start_ray_commands"] = ["ray start --address=$RAY_HEAD_IP:6379"]
    found = "\n".join(cluster_problems(bad, router()))
    for expected in ("accelerator_type:L4", "H100 node types cannot hold", "cpu_router: needs",
                     "worker_start_ray_commands"):
        assert expected in found


def test_cpu_replicas_count_the_cache_and_the_outcome_memory_when_on():
    cfg = router()
    off = cpu_replicas(cfg)
    on = cpu_replicas(cfg.model_copy(update={
        "cache": cfg.cache.model_copy(update={"enabled": True}),
        "learning": cfg.learning.model_copy(update={"enabled": True})}))
    assert sorted(on) == sorted(off + [cfg.cache.deployment.num_cpus, cfg.learning.deployment.num_cpus])


def test_cpu_replicas_leave_out_the_classifier_placed_in_the_ingress():
    cfg = router()
    inside = cfg.model_copy(update={"classifier": cfg.classifier.model_copy(update={"placement": "ingress"})})
    assert len(cpu_replicas(inside)) == len(cpu_replicas(cfg)) - max_replicas(cfg.classifier.deployment)


def test_the_local_profile_fits_a_two_core_machine():
    """Ray counts 2 CPUs on a 2-core laptop; a replica that does not fit is
    never scheduled and `serve run deployments/local.yaml` waits forever."""
    cfg = load_config(ROOT / "deployments/router/local.yaml")
    assert cfg.learning.enabled  # the README's feedback examples run on this profile
    assert sum(cpu_replicas(cfg)) <= 2


def test_the_judgement_profile_fits_a_two_core_machine():
    cfg = load_config(ROOT / "deployments/router/judgement.yaml")
    assert cfg.policy.meta_router.enabled and cfg.escalation.enabled
    assert sum(cpu_replicas(cfg)) <= 2


def test_nodes_needed_packs_first_fit_decreasing():
    assert nodes_needed([8, 2, 2, 2, 2, 1, 1, 1, 1], 8) == 3
    assert nodes_needed([0.5] * 3, 1) == 2
    assert nodes_needed([], 8) == 0
    with pytest.raises(ValueError):
        nodes_needed([16], 8)


# ----------------------------------------------------------------- KubeRay


def test_rayservice_is_what_the_generator_makes_now():
    committed = (ROOT / RAYSERVICE).read_text()
    assert committed == kuberay.render(SERVE, RAYSERVICE)
    serve_v2 = yaml.safe_load(yaml.safe_load(committed)["spec"]["serveConfigV2"])
    app = serve_v2["applications"][0]
    assert app["args"] == {"config_inline": (ROOT / ROUTER).read_text()}
    expected = read(SERVE)
    del expected["applications"][0]["args"]
    del app["args"]
    assert serve_v2 == expected


def test_rayservice_serve_config_validates_and_loads_like_build_app(tmp_path, monkeypatch):
    """The inline router config is what build_app reads (load_router_config),
    and `triage validate` accepts the serveConfigV2 as a Serve config."""
    from serve_app.app import load_router_config

    serve_v2 = yaml.safe_load(yaml.safe_load((ROOT / RAYSERVICE).read_text())["spec"]["serveConfigV2"])
    args = serve_v2["applications"][0]["args"]
    monkeypatch.setenv("OPENAI_API_KEY", "x")
    cfg = load_router_config(args)
    assert [m.name for m in cfg.models] == [m.name for m in router().models]
    path = tmp_path / "serve_v2.yaml"
    path.write_text(yaml.safe_dump(serve_v2))
    assert "args.config_inline" in validate_file(str(path))
    broken = copy.deepcopy(serve_v2)
    broken["applications"][0]["args"]["config_inline"] += "\nunknown_top_level_key: 1\n"
    path.write_text(yaml.safe_dump(broken))
    with pytest.raises(ConfigError, match="unknown_top_level_key"):
        validate_file(str(path))


def test_check_fails_on_a_stale_manifest(tmp_path, capsys):
    args = ["--serve-config", SERVE, "--check", "--out"]
    assert kuberay.main(args + [RAYSERVICE]) == 0
    stale = tmp_path / "rayservice.yaml"
    stale.write_text((ROOT / RAYSERVICE).read_text().replace("max_replicas: 8", "max_replicas: 9", 1))
    assert kuberay.main(args + [str(stale)]) == 1
    assert "is stale" in capsys.readouterr().err
    # An edit of the router config makes the committed manifest stale too.
    edited = tmp_path / "router.yaml"
    edited.write_text((ROOT / ROUTER).read_text().replace("max_replicas: 6", "max_replicas: 7", 1))
    serve = tmp_path / "serve.yaml"
    serve.write_text((ROOT / SERVE).read_text().replace(ROUTER, str(edited)))
    assert kuberay.main(["--serve-config", str(serve), "--check", "--out", RAYSERVICE]) == 1


def ray_resources(group: dict) -> dict:
    """rayStartParams.resources the way Ray's KubeRay autoscaler reads it."""
    raw = group["rayStartParams"].get("resources")
    return json.loads(raw[1:-1].replace("\\", "")) if raw else {}


def kuberay_problems(service: dict, cfg: RouterConfig) -> list[str]:
    problems = []
    cluster = service["spec"]["rayClusterConfig"]
    if cluster.get("enableInTreeAutoscaling") is not True or "autoscalerOptions" not in cluster:
        problems.append("in-tree autoscaling must be on")
    if cluster["rayVersion"] != ray_pin():
        problems.append(f"rayVersion {cluster['rayVersion']} != the pinned {ray_pin()}")
    if cluster["headGroupSpec"]["rayStartParams"].get("num-cpus") != "0":
        problems.append("the head runs no replicas (num-cpus 0)")
    groups = cluster["workerGroupSpecs"]
    for g in groups:
        if not 0 <= g["minReplicas"] <= g["maxReplicas"]:
            problems.append(f"{g['groupName']}: needs 0 <= minReplicas <= maxReplicas")
    for accel, sizes in gpu_replicas(cfg).items():
        fits = [g for g in groups if isinstance(ray_resources(g).get(f"accelerator_type:{accel}"), int)]
        gpus = [int(g["template"]["spec"]["containers"][0]["resources"]["limits"].get("nvidia.com/gpu", 0))
                for g in fits]
        if not fits or max(gpus) < max(sizes):
            problems.append(f"no worker group with accelerator_type:{accel} holds a {max(sizes):g}-GPU replica")
        elif max(g["maxReplicas"] for g in fits) < nodes_needed(sizes, max(gpus)):
            problems.append(f"{accel} worker groups cannot hold max_replicas of every {accel} model")
    return problems


def test_rayservice_worker_groups_cover_the_router_config():
    assert kuberay_problems(read(RAYSERVICE), router()) == []


def test_rayservice_checks_can_fail():
    bad = copy.deepcopy(read(RAYSERVICE))
    cluster = bad["spec"]["rayClusterConfig"]
    cluster["rayVersion"] = "2.9.0"
    cluster["workerGroupSpecs"] = [g for g in cluster["workerGroupSpecs"] if g["groupName"] != "gpu-l4-1x"]
    h100 = next(g for g in cluster["workerGroupSpecs"] if g["groupName"] == "gpu-h100-8x")
    h100["maxReplicas"] = 2
    found = "\n".join(kuberay_problems(bad, router()))
    for expected in ("rayVersion 2.9.0", "accelerator_type:L4", "H100 worker groups cannot hold"):
        assert expected in found


def test_generator_refuses_what_no_node_shape_holds():
    data = read(ROUTER)
    serve = read(SERVE)
    big = next(m for m in data["models"] if m["name"] == "qwen3-235b-a22b")
    big["engine"]["tensor_parallel_size"] = 16
    with pytest.raises(ValueError, match="does not fit"):
        kuberay.build_rayservice(serve, parse_config(data))
    big["deployment"]["accelerator_type"] = "A100"
    big["engine"]["tensor_parallel_size"] = 8
    with pytest.raises(ValueError, match="no node shape"):
        kuberay.build_rayservice(serve, parse_config(data))
    del big["deployment"]["accelerator_type"]
    with pytest.raises(ValueError, match="names no deployment.accelerator_type"):
        kuberay.build_rayservice(serve, parse_config(data))


def test_one_ray_version_everywhere():
    assert kuberay.RAY_VERSION == ray_pin()
    dockerfile = (ROOT / "cluster/kuberay/Dockerfile").read_text()
    assert f"rayproject/ray:{ray_pin()}-" in dockerfile and f"ray[serve,llm]=={ray_pin()}" in dockerfile


def _min_ingress_replicas(cfg) -> int:
    d = cfg.ingress.deployment
    return d.autoscaling.min_replicas if d.autoscaling else d.num_replicas


def test_cluster_profiles_run_at_least_two_ingress_replicas():
    """One Ingress replica is a single point of failure: when it dies, every
    request until Serve replaces it fails (README, 'When an Ingress replica dies')."""
    from serve_app.app import load_router_config

    assert _min_ingress_replicas(router()) >= 2
    serve_v2 = yaml.safe_load(yaml.safe_load((ROOT / RAYSERVICE).read_text())["spec"]["serveConfigV2"])
    for app in serve_v2["applications"]:
        assert _min_ingress_replicas(load_router_config(app["args"])) >= 2
