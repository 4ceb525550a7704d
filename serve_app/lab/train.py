"""`triage train`: build the labelled splits, train the heads and the success model, evaluate on val, write the artifact.

Above lab/training (the classifier heads) and lab/outcomes (the success model),
which it combines into one model directory."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__)
    p.add_argument("--datasets", default=None, help="root of the public datasets (default: $TRIAGE_DATASETS or ../shared/datasets)")
    p.add_argument("--data-dir", default="build/train_data", help="where the labelled splits are built")
    p.add_argument("--out", default="models/triage-router-v3")
    p.add_argument("--hidden", type=int, default=256, help="shared hidden layer width (0: linear heads)")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-tokens", type=int, default=128, help="encoder token budget (must match serving)")
    p.add_argument("--allow-noncommercial", action="store_true")
    p.add_argument("--finetune", action="store_true",
                   help="fine-tune the encoder first (hours on 2 cores; resumable) and ship it in the model")
    p.add_argument("--finetune-dir", default="build/finetune", help="fine-tune work dir: token cache, checkpoint, encoder")
    p.add_argument("--finetune-steps", type=int, default=None, help="default: FinetuneSettings.steps")
    p.add_argument("--finetune-rows", type=int, default=None, help="balanced sample size; default: FinetuneSettings.rows")
    p.add_argument("--finetune-layers", type=int, default=None, help="encoder layers kept (of 6); default: FinetuneSettings.layers")
    return train(p.parse_args(argv))


def finetune(args: argparse.Namespace, datasets: Path, data_dir: Path) -> str:
    """Fine-tune (or resume) and export into the model directory; returns the encoder dir."""
    from serve_app.lab.finetune.export import export
    from serve_app.lab.finetune.loop import FinetuneSettings, run
    from serve_app.lab.training.train import read_jsonl

    s = FinetuneSettings(max_tokens=args.max_tokens, seed=args.seed)
    s.steps = args.finetune_steps or s.steps
    s.rows = args.finetune_rows or s.rows
    s.layers = args.finetune_layers or s.layers
    hf_dir = run(s, read_jsonl(data_dir / "train.jsonl"), datasets, Path(args.finetune_dir))
    export(hf_dir, Path(args.out))
    return str(Path(args.out) / "encoder")


def add_success_model(datasets: Path, work: Path, out: Path, allow_noncommercial: bool, progress,
                      encoder: str | None = None) -> None:
    """Fit the success model (lab/outcomes/fit.py) into the artifact beside the heads."""
    from serve_app.classifier.heads import RouterHeads
    from serve_app.lab.outcomes import fit

    result = fit.fit(datasets, work, allow_noncommercial, progress, encoder=encoder)
    heads = RouterHeads.load(out)
    heads.w.update(result["weights"])
    heads.meta["success"] = result["meta"]
    heads.save(out)
    fit.save_memory(out, *result["memory"])
    (out / "outcome_table_report.json").write_text(json.dumps(result["table_report"], indent=2) + "\n",
                                                   encoding="utf-8")


def train(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from serve_app.lab.paths import datasets_root
    from serve_app.lab.training.build import build
    from serve_app.lab.training.train import TrainSettings
    from serve_app.lab.training.train import train as fit

    data_dir = Path(args.data_dir)
    datasets = datasets_root(args.datasets)
    print(f"== build labelled splits from {datasets} -> {data_dir}")
    data_report = build(datasets, data_dir, args.allow_noncommercial)
    encoder = None
    if args.finetune:
        print(f"== fine-tune the encoder (work dir {args.finetune_dir}; rerun to resume)")
        encoder = finetune(args, datasets, data_dir)
    settings = TrainSettings(hidden=args.hidden, epochs=args.epochs, seed=args.seed, max_tokens=args.max_tokens,
                             encoder=encoder)
    name = Path(args.out).name
    print(f"== train {name}")
    fit(data_dir, Path(args.out), name, settings, progress=tqdm)
    print("== per-tier success model (outcome table, head, outcome memory, calibration)")
    add_success_model(datasets, data_dir / "outcomes", Path(args.out), args.allow_noncommercial, tqdm, encoder)
    print("== validation metrics")
    from serve_app.lab.training.evaluate import ModelPredictor, evaluate, table
    from serve_app.lab.training.train import read_jsonl

    report = evaluate(read_jsonl(data_dir / "val.jsonl"), ModelPredictor(args.out), tqdm, latency_n=0)
    (Path(args.out) / "val_metrics.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(table(report))
    (Path(args.out) / "data_report.json").write_text(json.dumps(data_report, indent=2, ensure_ascii=False) + "\n",
                                                     encoding="utf-8")
    from serve_app.lab.card import main as write_card

    write_card([args.out])
    print(f"\nartifact: {args.out}  (val metrics in {args.out}/val_metrics.json)")
    print("held-out numbers for the card: see the Reproduce section of MODEL_CARD.md")
    return 0
