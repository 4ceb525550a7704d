"""`triage learn`: the outcome logs -> a new learned version, promoted only if better.

    triage learn --config deployments/local.yaml            # fit, judge, promote or refuse
    triage learn --config deployments/local.yaml --apply    # ... and reconfigure the running app
    triage learn --config deployments/local.yaml --rollback --apply

Reads every outcome log of the router's outcome memory (learning.path, else
<cache dir>/outcome-memory/outcomes-*.jsonl), proposes one version per
scope (learn.py), keeps versions beside the logs (versions.py) and writes
the Serve config with the versions in force in the user_config of the
deployment that runs the classifier (the Classifier, or the Ingress with
`classifier.placement: ingress`). `--apply` deploys that config to the
running cluster (what `serve deploy` does): Serve calls that deployment's
reconfigure, no replica restarts. Exit status 0 when a version changed, 1 when nothing was promoted.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import yaml

from serve_app.app import load_router_config
from serve_app.lab.learning.learn import fixed_set, propose, read_logs, scopes
from serve_app.lab.learning.versions import Versions
from serve_app.learning.memory import outcome_folder

IMPORT_PATH = "serve_app.app:build_app"
DEFAULT_FIXED = "build/routing/routing_val.jsonl"


def triage_app(serve_config: dict) -> dict:
    apps = [a for a in serve_config.get("applications", []) if a.get("import_path") == IMPORT_PATH]
    if len(apps) != 1:
        raise SystemExit(f"the Serve config must hold one application with import_path {IMPORT_PATH}")
    return apps[0]


def holder(placement: str) -> str:
    """The deployment whose user_config carries the adjustments: the one
    that runs the classifier (classifier.placement)."""
    return "Classifier" if placement == "deployment" else "Ingress"


def with_versions(serve_config: dict, batching: dict, in_force: dict, placement: str = "deployment") -> dict:
    """The Serve config with the versions in the user_config of the
    deployment that runs the classifier; the Classifier's keeps its batching
    (as the config already sets it, else the router config's)."""
    app = triage_app(serve_config)
    deployments = app.setdefault("deployments", [])
    name = holder(placement)
    clf = next((d for d in deployments if d.get("name") == name), None)
    if clf is None:
        clf = {"name": name}
        deployments.append(clf)
    kept = {k: v for k, v in (clf.get("user_config") or {}).items() if k != "adjustments"}
    user_config = {**batching, **kept} if name == "Classifier" else kept
    if in_force:
        user_config["adjustments"] = in_force
    clf["user_config"] = user_config
    return serve_config


def apply(serve_config: dict, address: str) -> None:
    from ray.dashboard.modules.serve.sdk import ServeSubmissionClient

    ServeSubmissionClient(address).deploy_applications(serve_config)


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    p.add_argument("--config", required=True, help="the Serve config the router runs with (deployments/*.yaml)")
    p.add_argument("--fixed", default=DEFAULT_FIXED,
                   help=f"fixed evaluation set (default {DEFAULT_FIXED}, from `triage data routing`)")
    p.add_argument("--logs", nargs="+", type=Path,
                   help="outcome logs to read (default: <outcome folder>/outcomes-*.jsonl; on a cluster, "
                        "the logs collected from every memory replica's node)")
    p.add_argument("--tenant", action="append", help="only these scopes (tenants, or '*' when shared)")
    p.add_argument("--rollback", action="store_true", help="go back to the version before the one in force")
    p.add_argument("--out", help="where to write the Serve config (default: <outcome folder>/serve-config.yaml)")
    p.add_argument("--apply", action="store_true", help="deploy the written config to the running cluster")
    p.add_argument("--address", default=os.environ.get("RAY_DASHBOARD_ADDRESS", "http://localhost:8265"))
    a = p.parse_args(argv)

    serve_config = yaml.safe_load(Path(a.config).read_text(encoding="utf-8"))
    cfg = load_router_config(triage_app(serve_config).get("args") or {})
    folder = outcome_folder(cfg.learning)
    versions = Versions(folder)
    changed = rollback(versions, a.tenant) if a.rollback else learn(versions, folder, cfg, a)

    out = Path(a.out) if a.out else folder / "serve-config.yaml"
    in_force = versions.in_force()
    updated = with_versions(serve_config, cfg.classifier.batching.model_dump(), in_force, cfg.classifier.placement)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(updated, sort_keys=False), encoding="utf-8")
    print(f"in force: {({s: v['version'] for s, v in in_force.items()}) or 'no learned version'}")
    print(f"wrote {out}")
    if a.apply:
        apply(updated, a.address)
        print(f"applied to {a.address}: the {holder(cfg.classifier.placement)} reconfigures without a restart")
    else:
        print(f"to apply: serve deploy {out}")
    return 0 if changed else 1


def learn(versions: Versions, folder: Path, cfg, a) -> bool:
    logs = a.logs or sorted(folder.glob("outcomes-*.jsonl"))
    data = read_logs(logs)
    print(f"{len(data)} usable outcomes in {len(logs)} log(s) under {folder}")
    if not len(data):
        return False
    fixed_path = Path(a.fixed)
    if not fixed_path.exists():
        raise SystemExit(f"{fixed_path}: no fixed evaluation set; run `triage data routing` first")
    fixed = fixed_set(fixed_path, Path("build/learning"), cfg.classifier)
    changed = False
    for scope, part in scopes(data, cfg.learning.scope).items():
        if a.tenant and scope not in a.tenant:
            continue
        proposal = propose(part, scope, versions.current(scope), versions.next_version(scope), fixed)
        if proposal.promoted:
            versions.promote(scope, proposal.adjustment, proposal.report)
            changed = True
        else:
            versions.refused(scope, {"reason": proposal.reason, **proposal.report})
        verb = f"promoted v{proposal.adjustment['version']}" if proposal.promoted else "refused"
        print(f"  {scope}: {verb}: {proposal.reason}")
    return changed


def rollback(versions: Versions, tenants: list[str] | None) -> bool:
    targets = tenants or list(versions.in_force())
    if not targets:
        print("no learned version in force")
        return False
    for scope in targets:
        v = versions.rollback(scope)
        print(f"  {scope}: rolled back to {'v' + str(v) if v else 'no learned version'}")
    return True
