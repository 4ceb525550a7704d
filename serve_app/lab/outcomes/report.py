"""Choices on val, held-out numbers, decision curves, coverage: JSON + PNG under --out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from serve_app.lab.outcomes import pairs, success, tiers
from serve_app.lab.outcomes.evaluation import Data, mean_apgr, pair_table, pick, val_scores
from serve_app.lab.outcomes.served import SuccessEstimator

DEFAULT_RELATIVE_QUALITY = 0.95  # the quality target default keeps 95% of always-top quality on val
# A prompt whose nearest outcome-memory neighbour is less similar than the
# cover floor (1st percentile of val prompts) has no outcome evidence: its
# estimate is the head's extrapolation, and the policy sends it to this tier
# (the design's tier for long-form, creative and summarisation work).
UNCOVERED_TIER = "llm"


def _dump(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1, default=_jsonable) + "\n", encoding="utf-8")


def _jsonable(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def v1_outputs(d: Data):
    from serve_app.classifier.heads import RouterHeads, resolve_model_dir

    return RouterHeads.load(resolve_model_dir("triage-router-v1")).predict(d.X)


def choose(d: Data, est: dict, settings: dict, log) -> dict:
    scores = val_scores(est, d)
    chosen = {"head": pick(est, d, "head:"), "knn": pick(est, d, "knn:"), "blend_beta": pick(est, d, "beta:"),
              "blend_linear": pick(est, d, "linear-blend:")}
    final = min(chosen.values(), key=lambda n: scores[n]["log_loss"])
    for role, n in chosen.items():
        log(f"  {role:13s} {n:38s} val log-loss {scores[n]['log_loss']:.4f} brier {scores[n]['brier']:.4f}")
    log(f"  served estimate: {final}")
    return {"val_scores": scores, "chosen": chosen, "final": final}


def estimator_for(name: str, settings: dict, d: Data, memory: np.ndarray) -> SuccessEstimator:
    """The candidate `name` as one served object, its outcome memory = the rows in `memory`."""
    s = settings[name]
    mem, mem_y = d.emb[memory], d.Y[memory]
    if name.startswith("head:"):
        return SuccessEstimator(s["model"], mem, mem_y, head_weight=1.0, counts=s["kind"] == "linear+counts")
    if name.startswith("linear-blend:"):
        h, k = settings[s["head"]], settings[s["knn"]]
        return SuccessEstimator(h["model"], mem, mem_y, k["k"], k["alpha"], k["floor"], head_weight=s["head_weight"],
                                counts=h["kind"] == "linear+counts")
    h = settings[s["prior"]] if s["prior"] != "global" else None
    head = h or next(v for n, v in settings.items() if n.startswith("head:"))
    return SuccessEstimator(head["model"], mem, mem_y, s["k"], s["alpha"], s["floor"],
                            prior="head" if h else "global", counts=head["kind"] == "linear+counts")


def run(d: Data, est: dict, settings: dict, out: Path, boot: int, log, datasets: Path) -> dict:
    va, ho = d.mask("val"), d.mask("heldout")
    ch = choose(d, est, settings, log)
    final = ch["final"]
    platt = success.Platt.fit(est[final][va], d.Y[va])
    served = platt(est[final])
    check = estimator_for(final, settings, d, d.mask("train"))
    prompts = [r["prompt"] for r in d.rows]
    assert np.allclose(check.raw(d.emb[va], d.tok[va], [prompts[i] for i in np.nonzero(va)[0]])[0], est[final][va],
                       atol=1e-4), "the served estimator must reproduce the evaluated estimate"
    shipped = estimator_for(final, settings, d, d.mask("train") | va)
    shipped.platt = platt
    v1 = v1_outputs(d)
    routers = {"v1 difficulty": 1.0 - v1.difficulty, "length": -d.tok.astype(float),
               "head": est[ch["chosen"]["head"]], "knn": est[ch["chosen"]["knn"]],
               "blend": est[ch["chosen"]["blend_beta"]], "linear blend": est[ch["chosen"]["blend_linear"]],
               "ceiling": np.nan_to_num(d.Y, nan=0.5)}
    log("== pairs on val")
    gain = ("head", "blend", "ceiling")
    val_pairs = pair_table(d, "val", routers, gain=gain)
    log("== pairs on held-out benchmarks (bootstrap %d)" % boot)
    ho_pairs = pair_table(d, "heldout", routers, boot=boot, gain=gain)
    names = list(routers) + [f"{n} (gain)" for n in gain] + ["random", "oracle"]
    agg = {split: {kind: {("pooled" if pooled else "within"): {n: mean_apgr(res, n, kinds, pooled) for n in names}
                          for pooled in (False, True)}
                   for kind, kinds in (("seen", ("seen",)), ("unseen", ("unseen", "weak-unseen")))}
           for split, res in (("val", val_pairs), ("heldout", ho_pairs))}
    for split in agg:
        for kind in agg[split]:
            log(f"  {split:7s} {kind:6s} within-benchmark APGR: " +
                " ".join(f"{n}={v}" for n, v in agg[split][kind]["within"].items()))
    log("== calibration and the quality-target decision")
    calib = {split: {"raw": {"ece": success.ece(est[final][m], d.Y[m]), "log_loss": success.masked_bce(est[final][m], d.Y[m])},
                     "platt": {"ece": success.ece(served[m], d.Y[m]), "log_loss": success.masked_bce(served[m], d.Y[m])}}
             for split, m in (("val", va), ("heldout", ho))}
    decision = decide_report(d, served, v1.tier, log)
    cov = coverage(d, shipped, decision, log, out, datasets)
    sel = {k: {kk: vv for kk, vv in settings[v].items() if kk != "model"} for k, v in ch["chosen"].items()}
    head_model = settings[ch["chosen"]["head"]]["model"]
    summary = {"chosen": ch["chosen"], "served_estimate": final, "settings": sel,
               "platt": {"a": platt.a.tolist(), "b": platt.b.tolist()}, "calibration": calib,
               "apgr_mean": agg, "quality_target_default": decision["default_target"],
               "decision_at_default": decision["at_default"], "coverage": cov["summary"],
               "head_shapes": {k: list(np.shape(v)) for k, v in vars(head_model).items()},
               "memory": {"vectors": int(d.mask("train").sum() + va.sum()), "dims": int(d.emb.shape[1]),
                          "payload": "success per tier (4 floats, NaN allowed) + source"}}
    _dump(out / "val_choices.json", {**ch, "pairs": _strip(val_pairs)})
    _dump(out / "heldout_pairs.json", _strip(ho_pairs))
    _dump(out / "decision.json", decision)
    _dump(out / "coverage.json", cov)
    summary["artifact"] = shipped.save(out / "artifact", {"estimate": final, "quality_target_default":
                                                           decision["default_target"],
                                                           "cover_floor": cov["cover_floor"]})
    _dump(out / "summary.json", summary)
    from serve_app.lab.outcomes import plots

    plots.pair_grid(ho_pairs, out / "heldout_pairs.png", ["v1 difficulty", "head", "knn", "blend"])
    plots.pair_grid(val_pairs, out / "val_pairs.png", ["v1 difficulty", "head", "knn", "blend"])
    plots.decision_png(decision, out / "cost_quality.png")
    plots.card_png(ho_pairs, decision, out / "card_curves.png")
    np.savez_compressed(out / "served_estimates.npz", served=served.astype(np.float32), head=routers["head"],
                        knn=routers["knn"], blend=routers["blend"])
    return summary


def _strip(res: dict) -> dict:
    """Pair results without the (long) curves, for the JSON files."""
    return {u: [{k: v for k, v in e.items() if k != "curves"} for e in es] for u, es in res.items()}


RELATIVE_SLACKS = tuple(np.round(np.linspace(0, 0.6, 61), 3))


def default_target(curve: dict) -> dict | None:
    ok = [c for c in curve["curve"] if c["relative_quality"] >= DEFAULT_RELATIVE_QUALITY]
    return min(ok, key=lambda c: (c["cost"], c["target"])) if ok else None


def relative_rule(served: np.ndarray, truth: np.ndarray, slack: float) -> dict:
    """The alternative rule: cheapest tier predicted at least (1 - slack) x the best tier."""
    return pairs.realise(pairs.decide(served, 2.0, ~np.isnan(truth), slack), truth)


def decide_report(d: Data, served: np.ndarray, v1_tier: np.ndarray, log) -> dict:
    """The default quality target chosen on val (the issue's rule: cheapest tier reaching
    the target, else the best-predicted tier), then cost and quality at that target per
    val source and held-out benchmark; the relative rule beside it."""
    va = d.mask("val")
    chosen = default_target(pairs.decision_curve(served[va], d.Yall[va]))
    default = chosen["target"] if chosen else 1.0
    top = pairs.references(d.Yall[va])["always_top"]
    rel = [(sl, relative_rule(served[va], d.Yall[va], sl)) for sl in RELATIVE_SLACKS]
    rel_ok = [(sl, r) for sl, r in rel if r["quality"] >= DEFAULT_RELATIVE_QUALITY * top["quality"]]
    slack = max(sl for sl, _ in rel_ok) if rel_ok else 0.0
    log(f"  quality_target default {default} (cheapest target keeping {DEFAULT_RELATIVE_QUALITY:.0%} of always-top "
        f"quality on val: relative cost {chosen['relative_cost']:.3f}); relative rule: slack {slack}")
    at_default, curves = {}, {}
    sets = {"val (all)": va, **{f"val {s}": va & (d.source == s) for s in np.unique(d.source[va])},
            **{f"heldout {b}": d.mask("heldout") & (d.eval_set == b) for b in np.unique(d.eval_set[d.mask("heldout")])}}
    for name, m in sets.items():
        truth = d.Yall[m]
        avail = ~np.isnan(truth)
        refs = pairs.references(truth)
        v1c = pairs.nearest_available(v1_tier[m].argmax(1), avail)
        at_default[name] = {
            "n": int(m.sum()), "router": pairs.realise(pairs.decide(served[m], default, avail), truth),
            "relative_rule": relative_rule(served[m], truth, slack),
            "v1_tier_head": pairs.realise(v1c, truth), "oracle": pairs.realise(pairs.oracle_choice(truth, default), truth),
            **refs}
        curves[name] = pairs.decision_curve(served[m], truth)
        r, b, v = at_default[name]["router"], refs["always_top"], at_default[name]["v1_tier_head"]
        log(f"  {name:30s} router q {r['quality']:.3f} c {r['cost']:5.1f} | v1 q {v['quality']:.3f} c {v['cost']:5.1f} "
            f"| top q {b['quality']:.3f} c {b['cost']:5.1f} | mix {r['mix']}")
    return {"default_target": default, "relative_slack": slack,
            "rule": f"cheapest target with realised quality >= {DEFAULT_RELATIVE_QUALITY} x always-top on val",
            "relative_rule_val": [{"slack": sl, **r} for sl, r in rel],
            "tier_cost": tiers.TIER_COST, "at_default": at_default, "curves": curves}


def coverage(d: Data, shipped: SuccessEstimator, decision: dict, log, out: Path, datasets: Path) -> dict:
    """Nearest-neighbour similarity to the outcome memory, in and out of the outcome data,
    and the tier the shipped estimate picks at the default target (all four tiers offered)."""
    from serve_app.lab.outcomes import features
    from serve_app.lab.outcomes.ood import ood_prompts

    groups = ood_prompts(datasets)
    target = decision["default_target"]
    prompts = [p for ps in groups.values() for p in ps]
    emb, tok = features.embed(prompts, out / "emb")
    tr_mem = d.emb[d.mask("train")]
    top, mix = {}, {}
    for split in ("val", "heldout"):
        top[split] = (d.emb[d.mask(split)] @ tr_mem.T).max(1)
    start = 0
    for name, ps in groups.items():
        e, t = emb[start:start + len(ps)], tok[start:start + len(ps)]
        top[name] = (e @ shipped.memory.T).max(1)
        choice = pairs.decide(shipped.predict(e, t, ps), target, np.ones((len(ps), 4), bool))
        mix[name] = {tt: round(float(np.mean(choice == i)), 3) for i, tt in enumerate(tiers.TIERS)}
        start += len(ps)
        top[name + " (tiers)"] = choice
    chosen = {k.removesuffix(" (tiers)"): top.pop(k) for k in list(top) if k.endswith(" (tiers)")}
    summ = {k: {"n": int(len(v)), **{f"p{q}": round(float(np.percentile(v, q)), 3) for q in (1, 5, 50, 95)}}
            for k, v in top.items()}
    floor = round(float(np.percentile(top["val"], 1)), 2)
    llm = tiers.TIERS.index(UNCOVERED_TIER)
    for k, v in top.items():
        summ[k]["share_below_cover_floor"] = round(float(np.mean(v < floor)), 3)
        if k in mix:
            summ[k]["tier_mix_at_default_target"] = mix[k]
            ruled = np.where(v < floor, llm, chosen[k])
            summ[k]["tier_mix_with_uncovered_rule"] = {t: round(float(np.mean(ruled == i)), 3)
                                                       for i, t in enumerate(tiers.TIERS)}
    log(f"  coverage floor (1st percentile of val max-similarity) {floor}: " +
        ", ".join(f"{k} {v['share_below_cover_floor']:.0%} below" for k, v in summ.items()))
    for k, m in mix.items():
        log(f"  {k}: tier mix at the default target {m}")
    return {"cover_floor": floor, "summary": summ}
