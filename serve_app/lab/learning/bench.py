"""`triage bench learning`: does routing get better from outcomes? A replay.

    triage data routing                          # build/routing/routing_{val,heldout}.jsonl
    triage bench learning                        # the report split: held-out benchmarks
    triage bench learning --split val --grid     # the tuning split: how the settings were chosen

Traffic: per weak/strong model pair (a deployment of two tiers), the prompts
it has known outcomes for, streamed as one tenant's requests with that
tenant's feedback (replay.py). The report split holds benchmarks the
shipped model never trained on (lab/outcomes/table.py HELDOUT_BENCHMARKS);
every setting was chosen on the tuning split (`--split val --grid`), and
the fixed evaluation set of `triage learn` is the tuning split in both.

Variants, each against the no-learning line (the shipped model):
- learning: the defaults (exploration, live correction, `triage learn`);
- no exploration: what feedback alone teaches when the router keeps
  sending the same prompts to the same tier;
- live correction only: no `triage learn`;
- adversary (tenant scope): another tenant sends the same traffic with
  every outcome inverted; this tenant's curve must not move;
- adversary (shared scope): the same with one memory for all tenants.

Writes JSON and a PNG (APGR against outcomes seen, mean over deployments).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

import numpy as np

from serve_app.config.schema import LearningConfig, PolicyConfig
from serve_app.lab.learning.data import deployments, signals_for
from serve_app.lab.learning.learn import fixed_set
from serve_app.lab.learning.replay import Settings, replay
from serve_app.lab.outcomes.evaluation import MIN_GAP

# A deployment needs enough prompts for a stable test APGR and for every
# deployment to reach the same checkpoints (the curve is a mean over them).
MIN_PROMPTS = 900
GRID = {"explore": (0.0, 0.05, 0.1, 0.2), "similarity": (0.6, 0.7, 0.8), "strength": (2.0, 10.0)}


def variants(base: LearningConfig) -> dict[str, dict]:
    shared = base.model_copy(update={"scope": "shared"})
    return {
        "learning": {"learning": base},
        "no exploration": {"learning": base.model_copy(update={"explore": 0.0})},
        "live correction only": {"learning": base, "learn_every": None},
        "adversary (tenant scope)": {"learning": base, "adversary": True},
        "adversary (shared scope)": {"learning": shared, "adversary": True},
    }


def grid(base: LearningConfig, values: dict[str, tuple[float, ...]] = GRID) -> dict[str, dict]:
    out = {}
    for e in values["explore"]:
        for sim in values["similarity"]:
            for st in values["strength"]:
                corr = base.correction.model_copy(update={"similarity": sim, "strength": st})
                out[f"explore={e} similarity={sim} strength={st}"] = {
                    "learning": base.model_copy(update={"explore": e, "correction": corr})}
    return out


def run(split: str, data_dir: Path, out: Path, use_grid: bool, progress=None, log=print,
        grid_values: dict[str, tuple[float, ...]] = GRID) -> dict:
    path = data_dir / f"routing_{split}.jsonl"
    if not path.exists():
        raise SystemExit(f"{path}: run `triage data routing` first")
    deps = [d for d in deployments(path) if d.gap >= MIN_GAP and len(d.prompts) >= MIN_PROMPTS]
    cache = Path("build/learning")
    signals = signals_for([p for d in deps for p in d.prompts], cache, progress=progress)
    fixed = fixed_set(data_dir / "routing_val.jsonl", cache, progress=progress)
    policy = PolicyConfig()
    base = LearningConfig(enabled=True)
    runs = grid(base, grid_values) if use_grid else variants(base)
    log(f"{len(deps)} deployments ({split}), {len(runs)} runs; quality target {policy.quality_target}")
    result = {"split": split, "file": str(path), "quality_target": policy.quality_target,
              "deployments": [{"pair": d.pair, "prompts": len(d.prompts), "gap": round(d.gap, 4)} for d in deps],
              "runs": {}}
    for name, kw in runs.items():
        started = time.perf_counter()
        curves = asyncio.run(_all(deps, signals, fixed, Settings(quality_target=policy.quality_target,
                                                                  near_best=policy.near_best, **kw)))
        result["runs"][name] = summarise(deps, curves)
        r = result["runs"][name]
        log(f"  {name}: APGR {r['apgr'][0]:.3f} -> {r['apgr'][-1]:.3f} after {r['outcomes'][-1]} outcomes "
            f"({time.perf_counter() - started:.0f}s)")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    if not use_grid:
        from serve_app.lab.learning.plot import curves_png

        curves_png(result, out.with_suffix(".png"))
    return result


async def _all(deps, signals, fixed, settings: Settings) -> list:
    return [await replay(d, signals, settings, fixed) for d in deps]


def summarise(deps, curves) -> dict:
    """Mean over deployments at each checkpoint that every deployment reached."""
    common = sorted(set.intersection(*(set(c.outcomes) for c in curves)))
    at = lambda c, n: c.apgr[c.outcomes.index(n)]  # noqa: E731
    share = lambda c, n: c.share_95[c.outcomes.index(n)]  # noqa: E731
    return {
        "outcomes": common,
        "apgr": [round(float(np.mean([at(c, n) for c in curves])), 4) for n in common],
        "share_95": [round(float(np.mean([share(c, n) for c in curves if share(c, n) is not None])), 4)
                     for n in common],
        "gain": round(float(np.mean([c.apgr[-1] - c.apgr[0] for c in curves])), 4),
        "per_deployment": [{"pair": d.pair, "outcomes": c.outcomes, "apgr": c.apgr, "share_95": c.share_95,
                            "strong_share_streamed": c.strong_share_streamed, "explored": c.explored,
                            "learn_steps": c.versions} for d, c in zip(deps, curves)],
    }


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    p.add_argument("--split", choices=["heldout", "val"], default="heldout")
    p.add_argument("--data", default="build/routing", help="folder of `triage data routing`'s files")
    p.add_argument("--grid", action="store_true", help="the settings grid (tuning split) instead of the variants")
    for key, values in GRID.items():
        p.add_argument(f"--{key}", type=float, nargs="+", default=list(values),
                       help=f"with --grid: the {key} values tried (default {' '.join(map(str, values))})")
    p.add_argument("--out", help="JSON path (default loadtest/results/learning[_tuning].json)")
    a = p.parse_args(argv)
    from tqdm import tqdm

    out = Path(a.out or f"loadtest/results/learning{'_tuning' if a.grid else ''}.json")
    run(a.split, Path(a.data), out, a.grid, progress=tqdm, grid_values={k: tuple(getattr(a, k)) for k in GRID})
    print(f"wrote {out}" + ("" if a.grid else f" and {out.with_suffix('.png')}"))
    return 0
