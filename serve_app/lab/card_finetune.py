"""The model card's sections for a fine-tuned encoder: the run, the
comparison with the previous model, attack families, and the cache, from
finetune.json, compare.json and attack_families.json in the model directory
and the cache bench's JSON."""

from __future__ import annotations

import json
from pathlib import Path

CACHE_RESULTS = Path("loadtest/results")  # seen from the repository root, where the card is rendered


def _f(x, digits=3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def finetune_section(run: dict | None) -> list[str]:
    if not run:
        return []
    s, ex, last = run["settings"], run["export"], run["history"][-1]
    return ["## Fine-tuned encoder", "",
            f"all-MiniLM-L6-v2 fine-tuned end to end (every weight; no adapters to merge) by `triage train --finetune`: "
            f"{s['steps']} steps of {s['batch']} labelled rows plus {s['pairs']} paraphrase pairs, on a balanced "
            f"sample of {run['sampled_rows']} training rows (every rare cell whole, the big sources capped; "
            f"`serve_app/lab/finetune/data.py`) and {run['pairs']} pairs from the tune half of the shared paraphrases. "
            f"Loss: the tier, domain, sensitive and jailbreak heads (masked multi-task, as the head trainer) plus an "
            f"InfoNCE term (temperature {s['temperature']}) that ranks each question's paraphrase above the batch's "
            f"other questions and above meaning-changing edits of it (numbers, negation, entity swaps), so the same "
            f"embedding keys the semantic cache. AdamW, lr {s['lr']} (encoder) / {s['head_lr']} (heads), "
            f"{s['warmup']} warm-up steps, {s['max_tokens']}-token budget (serving's head+tail truncation), seed {s['seed']}.",
            "",
            f"Wall time on the 2-core CPU machine: **{run['wall_minutes']} min** (checkpointed every "
            f"{s['checkpoint_every']} steps; a rerun resumes). Last window: loss {last['loss']:.3f}, paraphrase "
            f"ranked first {last['pair_acc']:.0%}. Curve: `finetune.png`.", "",
            f"Shipped as int8 ONNX (MatMul and the word-embedding Gather quantised) plus tokenizer in `encoder/`: "
            f"{ex['bytes'] / 1e6:.1f} MB, minimum cosine to the fp32 fine-tuned model on the probe texts "
            f"{ex['probe_min_cosine']}. The heads and the success model were then trained on this int8 encoder's "
            f"own features, so serving has no fp32/int8 skew.", ""]


def compare_section(r: dict | None) -> list[str]:
    if not r:
        return []
    models = list(r["models"])
    lines = ["## Compared with the previous model", "",
             f"`triage eval compare --models {' '.join(models)}` (`compare.json`, `compare.png`). val is the tuning "
             "split (cuts and temperatures were chosen there); held-out holds whole sources no model trained on. "
             "Each model at its own cuts; \"served\" is the score at the router's `privacy.uncertain` (the shipped "
             "default, validators included), the cut that keeps a request off cloud models.", ""]
    for split in r["files"]:
        f = r["files"][split]
        lines += [f"**{split}** ({f['role']}; {f['rows']} rows)", "",
                  "| model | tier acc | tier macro-F1 | domain acc | sensitive P / R | no-identifier R | "
                  "served: sensitive R / clean flagged | jailbreak P / R / F1 |",
                  "|---|---|---|---|---|---|---|---|"]
        for m in models:
            s = r["models"][m][split]
            g = lambda h, k: (s.get(h) or {}).get(k)  # noqa: E731
            lines.append(f"| {m} | {_f(g('tier', 'accuracy'))} | {_f(g('tier', 'macro_f1'))} | {_f(g('domain', 'accuracy'))} | "
                         f"{_f(g('sensitive', 'precision'))} / {_f(g('sensitive', 'recall'))} | "
                         f"{_f(g('sensitive_no_identifier_recall', 'recall'))} | "
                         f"{_f(g('sensitive_at_privacy_uncertain', 'recall'))} / "
                         f"{_f(g('sensitive_at_privacy_uncertain', 'clean_flagged'))} | {_f(g('jailbreak', 'precision'))} / "
                         f"{_f(g('jailbreak', 'recall'))} / {_f(g('jailbreak', 'f1'))} |")
        lines += ["", "Tier accuracy by source:", "", "| source | " + " | ".join(models) + " |",
                  "|---|" + "---|" * len(models)]
        sources = sorted({src for m in models for src in r["models"][m][split]["tier_accuracy_by_source"]})
        for src in sources:
            cells = [r["models"][m][split]["tier_accuracy_by_source"].get(src) for m in models]
            lines.append(f"| {src} | " + " | ".join(f"{_f(c['accuracy'])} (n={c['n']})" if c else "-" for c in cells) + " |")
        lines.append("")
    lines += ["Jailbreak by attack family (share flagged at each model's cut; JailbreakBench methods are held out "
              "of all training, the encoder's included):", "", "| family | split | " + " | ".join(models) + " |",
              "|---|---|" + "---|" * len(models)]
    for split in r["files"]:
        fams = sorted({f for m in models for f in r["models"][m][split]["jailbreak_by_family"]})
        for fam in fams:
            cells = [r["models"][m][split]["jailbreak_by_family"].get(fam) for m in models]
            lines.append(f"| {fam} | {split} | " + " | ".join(f"{_f(c['share'])} (n={c['n']})" if c else "-" for c in cells) + " |")
    lines += ["", "Latency of one ~200-token prompt per call (encoder on one thread, heads, success model, validators):", ""]
    for m in models:
        lat = r["models"][m]["latency"]
        lines.append(f"- {m}: p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms ({lat['prompt_tokens']} tokens, n={lat['n']})")
    return lines + [""]


def families_section(r: dict | None) -> list[str]:
    if not r:
        return []
    models = list(r["models"])
    lines = ["## Attack families left out of training", "", r["method"], "",
             "`triage eval attack-families` (`attack_families.json`, `attack_families.png`); recall on the family's "
             "attacks / share of its benign look-alikes flagged:", "",
             "| family | " + " | ".join(f"{m}{' (encoder saw it)' if r['models'][m]['encoder_fine_tuned'] else ''}"
                                      for m in models) + " |", "|---|" + "---|" * len(models)]
    fams = sorted({f for m in models for f in r["models"][m]["families"]})
    for fam in fams:
        cells = []
        for m in models:
            e = r["models"][m]["families"].get(fam)
            cells.append(f"{_f(e['recall'], 2)} / {_f(e['benign_flagged'], 2)} (n={e['attacks']}+{e['benign']})" if e else "-")
        lines.append(f"| {fam} | " + " | ".join(cells) + " |")
    return lines + [""]


def cache_section(space: str | None) -> list[str]:
    """The cache bench's tune and eval runs, when they measured this model's embedding."""
    runs = {}
    for split in ("tune", "eval"):
        p = CACHE_RESULTS / ("cache_quality.json" if split == "eval" else "cache_quality_tune.json")
        if p.is_file():
            r = json.loads(p.read_text())
            encoder = r["settings"].get("encoder")
            # Older runs name the encoder in words only: not this model's.
            if isinstance(encoder, dict) and encoder.get("space") == space:
                runs[split] = r
    if "eval" not in runs:
        return []
    ev = runs["eval"]
    c, low = ev["configured"], (runs.get("tune") or {}).get("lowest_within_wrong_target")
    lines = ["## Semantic cache with this embedding", "",
             "`triage bench cache-quality` on the production path (this model's int8 encoder, serving token budget, "
             "guards on). The threshold was chosen on the tune half "
             + (f"(the lowest with guarded wrong hits within 1% there: {low['threshold']:.2f}, "
                f"{low['hit_rate']:.1%} hits on that half, which the fine-tune's paraphrase loss also trained on)"
                if low else "")
             + f"; the eval half, never trained or tuned on, reports it: at {ev['settings']['threshold']:.2f}, hit rate {c['hit_rate']:.1%} "
             f"with {c['wrong_share']:.2%} of hits wrong ({ev['mix']['same']} same + {ev['mix']['different']} "
             "different pairs; `loadtest/results/cache_quality.json`). Target: at least 60% hits with at most 1% "
             f"wrong: **{'met' if ev.get('target_met') else 'not met'}**.", ""]
    return lines


def targets_11_section(r: dict | None) -> list[str]:
    """Issue #11's targets beside this model's numbers on our own held-out
    sources (the issue checks them on sources we do not have)."""
    if not r:
        return []
    name = list(r["models"])[-1]
    val, held = r["models"][name]["val"], r["models"][name]["heldout"]
    fams = {k.split(" (")[0]: v["share"] for k, v in held["jailbreak_by_family"].items() if "attacks" in k}
    worst = min(fams.items(), key=lambda kv: kv[1]) if fams else ("-", None)
    sens, lat = val.get("sensitive") or {}, r["models"][name]["latency"]
    rows = [
        ("tier macro-F1 (held-out sources)", ">= 0.70", held["tier"]["macro_f1"], held["tier"]["macro_f1"] >= 0.70),
        ("domain accuracy (held-out sources)", ">= 0.85", held["domain"]["accuracy"], held["domain"]["accuracy"] >= 0.85),
        ("sensitive recall at precision (val, unseen templates, model's cut)", ">= 0.99 at >= 0.95",
         f"{sens.get('recall', 0):.3f} at {sens.get('precision', 0):.3f}",
         sens.get("recall", 0) >= 0.99 and sens.get("precision", 0) >= 0.95),
        ("jailbreak F1 (held-out)", ">= 0.90", held["jailbreak"]["f1"], held["jailbreak"]["f1"] >= 0.90),
        ("recall on each attack family held out of all training (JailbreakBench)", ">= 0.80",
         f"lowest: {worst[0]} {_f(worst[1])}", (worst[1] or 0) >= 0.80),
        ("classifier p50, ~200-token prompt (this run, one thread)", "<= 15 ms", f"{lat['p50_ms']} ms", lat["p50_ms"] <= 15),
    ]
    out = ["## Targets (issue #11)", "", "Measured on our held-out sources (the issue's own sources are not available "
           "here); the cache target is in \"Semantic cache with this embedding\".", "",
           "| target | wanted | this model | met |", "|---|---|---|---|"]
    for what, want, got, ok in rows:
        got = f"{got:.3f}" if isinstance(got, float) else got
        out.append(f"| {what} | {want} | {got} | {'yes' if ok else '**no**'} |")
    return out + [""]


def limitations_section(r: dict | None) -> list[str]:
    """What the numbers leave out, with this model's own numbers from the
    comparison run (`compare.json`): the first model there is the baseline."""
    names = list(r["models"]) if r else []
    held = {n: r["models"][n]["heldout"] for n in names}
    last, first = (names[-1], names[0]) if names else (None, None)
    tier = (f"Fine-tuning moved tier macro-F1 there from {held[first]['tier']['macro_f1']:.3f} ({first}) to "
            f"{held[last]['tier']['macro_f1']:.3f}, not to the target; outcome labels for more sources would."
            if last and last != first else "Outcome labels for more sources would close it.")
    pair = next((v["share"] for k, v in held[last]["jailbreak_by_family"].items()
                 if k.startswith("jbb:PAIR") and "attacks" in k), None) if last else None
    caught = f"are caught at {pair:.1%} recall" if pair is not None else "are the weakest family"
    return [
        "## Limitations", "",
        "- Tier labels are per-source rules; the held-out sources' rules (PubMedQA and StrategyQA as srm/lrm) "
        "disagree with what the training sources teach for short questions, which is most of the held-out tier gap. "
        + tier,
        "- The sensitive head's own cut (99% recall on val) flags far too much clean text to serve by itself; the "
        "router uses it only at `privacy.uncertain` (precision-first) beside the validators and the privacy detector, "
        "which catch the named-person forms the head scores lower.",
        f"- PAIR's persuasive rewrites (JailbreakBench, never trained on) {caught}; nothing like them is in the "
        "training data, and the jailbreak cut chosen for the best F1 on val moves their recall a lot: val F1 is flat "
        "across a wide range of cuts, so a retrain can land anywhere in it. The generated families (suffix, "
        "encoding, indirect, many-shot) were seen by the encoder during fine-tuning, so their left-out-family "
        "numbers are optimistic.",
        "- The generated rows (ours) make prompts shaped like them easier than a truly unseen source would be.",
        "",
    ]
