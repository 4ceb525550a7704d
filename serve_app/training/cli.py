"""`triage train`: build the labelled splits, train, evaluate on val, write the artifact."""

from __future__ import annotations

import json
from pathlib import Path


def train_from_args(args) -> int:
    from tqdm import tqdm

    from serve_app.training.build import build
    from serve_app.training.train import TrainSettings, train

    data_dir = Path(args.data_dir)
    print(f"== build labelled splits from {args.datasets} -> {data_dir}")
    data_report = build(Path(args.datasets), data_dir, args.allow_noncommercial)
    settings = TrainSettings(hidden=args.hidden, epochs=args.epochs, seed=args.seed, max_tokens=args.max_tokens)
    name = Path(args.out).name
    print(f"== train {name}")
    train(data_dir, Path(args.out), name, settings, progress=tqdm)
    print("== validation metrics")
    from serve_app.training.evaluate import ModelPredictor, evaluate, table
    from serve_app.training.train import read_jsonl

    report = evaluate(read_jsonl(data_dir / "val.jsonl"), ModelPredictor(args.out), tqdm, latency_n=0)
    (Path(args.out) / "val_metrics.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(table(report))
    (Path(args.out) / "data_report.json").write_text(json.dumps(data_report, indent=2, ensure_ascii=False) + "\n",
                                                     encoding="utf-8")
    from serve_app.training.card import main as write_card

    write_card([args.out])
    print(f"\nartifact: {args.out}  (val metrics in {args.out}/val_metrics.json)")
    print("held-out numbers for the card: see the Reproduce section of MODEL_CARD.md")
    return 0
