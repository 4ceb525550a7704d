"""A KubeRay `RayService` built from a Serve config and the router config it names.

    triage deploy kuberay --serve-config deployments/gpu-cluster.yaml \\
        --out cluster/kuberay/rayservice.yaml [--check] [--image IMAGE] [--node-labels gfd|gke]

`serveConfigV2` is the Serve config with each application's `args.config` (a
router config path) replaced by `args.config_inline`: that file's text,
verbatim, comments and `${VAR:-default}` references included (they are
expanded in the cluster, from the pods' environment, never here). Inline
rather than a path into the image because KubeRay acts on changes to
serveConfigV2: a router edit then is a `kubectl apply` that redeploys the
Serve app on the running cluster, instead of a new image and, with it, a new
RayCluster (KubeRay's zero-downtime upgrade starts a second cluster: twice the
GPUs for the length of the rollout). `--embed path` keeps `args.config`, a
path inside the image, for images that carry the repo (the containers'
workingDir is the repo root).

The cluster is sized from the router config, not by hand: one worker group
per accelerator type the models ask for (`deployment.accelerator_type`),
whose pods are one node shape (GPU_SHAPES), with Ray's custom resource
`accelerator_type:<name>` and as many pods at most as the models' max
replicas fill (first-fit of each replica's GPUs); one CPU group for the
Ingress, the Classifier and the models that need no GPU. The Ray autoscaler
(in-tree) adds and removes pods as Serve's autoscaling asks for replicas.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from serve_app.config.files import validate_file
from serve_app.config.loader import load_config, resolve_path
from serve_app.config.schema import DeploymentSettings, ModelConfig, RouterConfig
from serve_app.errors import ConfigError

# Must match the Ray in the image and the version pyproject.toml pins.
RAY_VERSION = "2.60.0"
DEFAULT_IMAGE = "registry.example.com/triage:0.1.0"
DEFAULT_NAME = "triage"
WORKDIR = "/home/ray/triage"  # the repo root inside the image (cluster/kuberay/Dockerfile)
SECRET = "triage-secrets"  # optional; every key becomes an env var of every Ray container
DEFAULT_OUT = "cluster/kuberay/rayservice.yaml"


@dataclass(frozen=True)
class Shape:
    """One pod per node: the requests leave room for the node's own daemons."""

    gpus: int
    cpus: int
    memory: str
    shm: str = "1Gi"  # /dev/shm: NCCL between tensor-parallel workers
    cache: str = "0"  # emptyDir for downloaded weights (HF_HOME)
    gfd_product: str = ""  # nvidia.com/gpu.product (NVIDIA GPU feature discovery)
    gke_accelerator: str = ""  # cloud.google.com/gke-accelerator


GPU_SHAPES: dict[str, Shape] = {
    # g2-standard-8 / g6.2xlarge: 8 vCPU, 32 GB.
    "L4": Shape(gpus=1, cpus=7, memory="26Gi", shm="8Gi", cache="250Gi",
                gfd_product="NVIDIA-L4", gke_accelerator="nvidia-l4"),
    # a3-highgpu-8g / p5.48xlarge: 208 / 192 vCPU, 1.8-2 TB.
    "H100": Shape(gpus=8, cpus=180, memory="1500Gi", shm="64Gi", cache="1400Gi",
                  gfd_product="NVIDIA-H100-80GB-HBM3", gke_accelerator="nvidia-h100-80gb"),
}
CPU_SHAPE = Shape(gpus=0, cpus=14, memory="24Gi")  # n2-standard-16 / c7i.4xlarge
HEAD_SHAPE = Shape(gpus=0, cpus=4, memory="16Gi")


# ------------------------------------------------------------------ sizing


def max_replicas(d: DeploymentSettings) -> int:
    return d.autoscaling.max_replicas if d.autoscaling else d.num_replicas


def nodes_needed(sizes: list[float], capacity: float) -> int:
    """Nodes of `capacity` that hold every item (first-fit decreasing)."""
    free: list[float] = []
    for size in sorted(sizes, reverse=True):
        if size > capacity:
            raise ValueError(f"an item of {size:g} does not fit a node of {capacity:g}")
        for i, room in enumerate(free):
            if size <= room + 1e-9:
                free[i] = room - size
                break
        else:
            free.append(capacity - size)
    return len(free)


def replica_gpus(m: ModelConfig) -> float:
    """GPUs one replica holds: a vllm model's num_gpus is per engine worker,
    one worker per tensor-parallel rank (engines/vllm_engine.py)."""
    ranks = m.engine.tensor_parallel_size if m.engine.type == "vllm" else 1
    return m.deployment.num_gpus * ranks


def gpu_replicas(cfg: RouterConfig) -> dict[str, list[float]]:
    """accelerator type -> GPUs of every replica at max scale."""
    out: dict[str, list[float]] = {}
    for m in cfg.models:
        d = m.deployment
        if d.num_gpus == 0:
            continue
        if not d.accelerator_type:
            raise ValueError(f"model {m.name} uses GPUs but names no deployment.accelerator_type")
        out.setdefault(d.accelerator_type, []).extend([replica_gpus(m)] * max_replicas(d))
    return out


def cpu_replicas(cfg: RouterConfig) -> list[float]:
    """num_cpus of every CPU-only replica at max scale (GPU models run on GPU pods)."""
    settings = [cfg.ingress.deployment]
    settings += [cfg.classifier.deployment] if cfg.classifier.placement == "deployment" else []
    settings += [m.deployment for m in cfg.models if m.deployment.num_gpus == 0]
    settings += [section.deployment for section in (cfg.cache, cfg.learning) if section.enabled]
    return [d.num_cpus for d in settings for _ in range(max_replicas(d))]


# ------------------------------------------------------------------ manifest


def serve_config_v2(serve_config: dict, embed: str = "inline") -> str:
    """The Serve config as KubeRay wants it: a YAML string, router configs inline."""
    out = json.loads(json.dumps(serve_config))  # a deep copy of plain data
    if embed == "inline":
        for app in out.get("applications") or []:
            args = dict(app.get("args") or {})
            args["config_inline"] = Path(resolve_path(args.pop("config"))).read_text()
            app["args"] = args
    return dump(out)


def build_rayservice(serve_config: dict, cfg: RouterConfig, *, name: str = DEFAULT_NAME,
                     image: str = DEFAULT_IMAGE, node_labels: str = "gfd",
                     embed: str = "inline") -> dict:
    groups = [_worker_group("cpu", CPU_SHAPE, None, max(1, nodes_needed(cpu_replicas(cfg), CPU_SHAPE.cpus)),
                            image, node_labels, min_pods=1)]
    for accel, sizes in sorted(gpu_replicas(cfg).items()):
        shape = GPU_SHAPES.get(accel)
        if shape is None:
            raise ValueError(f"no node shape for accelerator_type {accel!r}; add it to GPU_SHAPES")
        group = f"gpu-{accel.lower()}-{shape.gpus}x"
        groups.append(_worker_group(group, shape, accel, nodes_needed(sizes, shape.gpus), image, node_labels))
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayService",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "triage"}},
        "spec": {
            "serveConfigV2": serve_config_v2(serve_config, embed),
            "rayClusterConfig": {
                "rayVersion": RAY_VERSION,
                "enableInTreeAutoscaling": True,
                "autoscalerOptions": {
                    "upscalingMode": "Default",
                    "idleTimeoutSeconds": 600,
                    "resources": _resources("1", "1Gi"),
                },
                "headGroupSpec": _head_group(image),
                "workerGroupSpecs": groups,
            },
        },
    }


def _head_group(image: str) -> dict:
    ports = [("gcs-server", 6379), ("dashboard", 8265), ("client", 10001), ("serve", 8000),
             ("metrics", 8080), ("as-metrics", 44217), ("dash-metrics", 44227)]
    container = _container("ray-head", image, HEAD_SHAPE)
    container["ports"] = [{"containerPort": port, "name": n} for n, port in ports]
    return {
        "serviceType": "ClusterIP",
        # num-cpus 0: the head runs the control plane (GCS, dashboard,
        # autoscaler, Serve controller, a proxy), no replicas.
        "rayStartParams": {"dashboard-host": "0.0.0.0", "num-cpus": "0"},
        "template": {"spec": {"containers": [container]}},
    }


def _worker_group(group: str, shape: Shape, accel: str | None, max_pods: int, image: str,
                  node_labels: str, min_pods: int = 0) -> dict:
    container = _container("ray-worker", image, shape)
    container["lifecycle"] = {"preStop": {"exec": {"command": ["/bin/sh", "-c", "ray stop"]}}}
    spec: dict = {"containers": [container]}
    params: dict = {}
    if accel:
        params["resources"] = ray_resources_param({f"accelerator_type:{accel}": 1})
        label = ("nvidia.com/gpu.product", shape.gfd_product) if node_labels == "gfd" else \
            ("cloud.google.com/gke-accelerator", shape.gke_accelerator)
        spec["nodeSelector"] = {label[0]: label[1]}
        spec["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
        spec["volumes"] = [
            {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": shape.shm}},
            # Re-downloaded when a pod is recreated; a PVC or a node-local
            # cache (local SSD) here skips that part of the cold start.
            {"name": "hf-cache", "emptyDir": {"sizeLimit": shape.cache}},
        ]
    return {
        "groupName": group,
        "replicas": min_pods,
        "minReplicas": min_pods,
        "maxReplicas": max_pods,
        "rayStartParams": params,
        "template": {"spec": spec},
    }


def _container(name: str, image: str, shape: Shape) -> dict:
    env = [{"name": "RAY_SERVE_THROUGHPUT_OPTIMIZED", "value": "1"}]
    container: dict = {
        "name": name,
        "image": image,
        # Ray workers run where `ray start` ran: relative paths in the Serve
        # config resolve against the repo root.
        "workingDir": WORKDIR,
        "env": env,
        # HF_TOKEN (gated models), OPENAI_API_KEY (cloud-fallback),
        # TRIAGE_ADMIN_KEY, TRIAGE_CLOUD_*: whatever the Secret holds.
        "envFrom": [{"secretRef": {"name": SECRET, "optional": True}}],
        "resources": _resources(str(shape.cpus), shape.memory, shape.gpus),
    }
    if shape.gpus:
        env.append({"name": "HF_HOME", "value": "/data/hf"})
        container["volumeMounts"] = [{"name": "dshm", "mountPath": "/dev/shm"},
                                     {"name": "hf-cache", "mountPath": "/data/hf"}]
    return container


def _resources(cpu: str, memory: str, gpus: int = 0) -> dict:
    amounts: dict = {"cpu": cpu, "memory": memory}
    if gpus:
        amounts["nvidia.com/gpu"] = str(gpus)
    return {"requests": dict(amounts), "limits": dict(amounts)}


def ray_resources_param(resources: dict[str, int]) -> str:
    """rayStartParams.resources: JSON wrapped in quotes with escaped inner
    quotes, the form KubeRay passes to `ray start --resources` and Ray's
    KubeRay autoscaler reads back."""
    return '"' + json.dumps(resources).replace('"', '\\"') + '"'


# -------------------------------------------------------------------- output


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data):  # the same dict in two places stays two copies
        return True


def _str(dumper: yaml.SafeDumper, s: str):
    return dumper.represent_scalar("tag:yaml.org,2002:str", s, style="|" if "\n" in s else None)


_Dumper.add_representer(str, _str)


def dump(data) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, width=4096, allow_unicode=True)


def command(serve_config: str, out: str, image: str, node_labels: str, embed: str) -> str:
    cmd = f"triage deploy kuberay --serve-config {serve_config} --out {out}"
    for flag, value, default in (("--image", image, DEFAULT_IMAGE), ("--node-labels", node_labels, "gfd"),
                                 ("--embed", embed, "inline")):
        if value != default:
            cmd += f" {flag} {value}"
    return cmd


def render(serve_config: str, out: str = DEFAULT_OUT, *, image: str = DEFAULT_IMAGE,
           node_labels: str = "gfd", embed: str = "inline") -> str:
    """The manifest's text for a Serve config file; raises ConfigError if the configs are invalid."""
    validate_file(serve_config)
    data = yaml.safe_load(Path(serve_config).read_text())
    apps = data.get("applications") or []
    if len(apps) != 1:
        raise ValueError("expected one application in the Serve config (the worker groups are sized from its router config)")
    cfg = load_config(resolve_path(apps[0]["args"]["config"]))
    manifest = build_rayservice(data, cfg, image=image, node_labels=node_labels, embed=embed)
    head = HEADER.format(command=command(serve_config, out, image, node_labels, embed), source=serve_config)
    return head + dump(manifest)


HEADER = """\
# GENERATED from {source} and the router config it names, by
#   {command}
# Do not edit: edit those files and rerun; tests/unit/test_cluster_configs.py
# fails while this file is stale. See cluster/README.md.
#
# serveConfigV2 carries the router config inline (args.config_inline, the
# file's text): a router edit is a `kubectl apply` that redeploys the Serve
# app in place, where a path into the image would need a new image and a new
# RayCluster. ${{VAR:-default}} references are expanded in the cluster from
# the pods' env (Secret `{secret}`, optional: HF_TOKEN, OPENAI_API_KEY, ...).
# Worker groups are sized from the router config: one per accelerator_type.
""".replace("{secret}", SECRET)


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    p.add_argument("--serve-config", required=True, help="Serve config (applications: ...) whose router config to embed")
    p.add_argument("--out", default=DEFAULT_OUT, help="manifest path ('-' for stdout)")
    p.add_argument("--check", action="store_true", help="exit 1 if --out differs from what would be written")
    p.add_argument("--image", default=DEFAULT_IMAGE, help="container image with Triage and ray[serve,llm]")
    p.add_argument("--node-labels", choices=["gfd", "gke"], default="gfd",
                   help="GPU node selector: nvidia.com/gpu.product (GPU feature discovery) or GKE's accelerator label")
    p.add_argument("--embed", choices=["inline", "path"], default="inline",
                   help="router config inline in serveConfigV2, or args.config as a path inside the image")
    a = p.parse_args(argv)
    try:
        text = render(a.serve_config, a.out, image=a.image, node_labels=a.node_labels, embed=a.embed)
    except (ConfigError, ValueError, OSError) as exc:
        print(f"kuberay: {exc}", file=sys.stderr)
        return 2
    if a.out == "-":
        sys.stdout.write(text)
        return 0
    if a.check:
        current = Path(a.out).read_text() if Path(a.out).exists() else ""
        if current == text:
            print(f"{a.out}: up to date")
            return 0
        diff = difflib.unified_diff(current.splitlines(), text.splitlines(), a.out, "generated", lineterm="", n=1)
        print("\n".join(list(diff)[:60]), file=sys.stderr)
        print(f"{a.out} is stale: run {command(a.serve_config, a.out, a.image, a.node_labels, a.embed)}",
              file=sys.stderr)
        return 1
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(text)
    print(f"wrote {a.out}")
    return 0
