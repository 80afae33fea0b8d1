"""Every preference signal and reward-model variant on one yardstick (issue 3's table).

Synthetic world: every row trains on the same train prompts (the world's pairs, its 4-way
rankings, its Likert ratings or its good/bad labels of those prompts: one annotation session
per prompt) and is evaluated on the same held-out pairs, against the annotators' labels and
against the gold order. Real data (``--hh``): the HH-RLHF harmless file, 80/20 by prompt.

    python benchmarks/bench_signals.py --out benchmarks/results/signals.json            # synthetic rows
    python benchmarks/bench_signals.py --out benchmarks/results/signals_hh.json \
        --hh ../shared/data/hh-rlhf/harmless-base/test.jsonl.gz
    python benchmarks/bench_signals.py --table benchmarks/results/signals.json          # markdown table

Results are appended row by row, so an interrupted run keeps what it finished; rerunning
skips rows already in the file.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

from rewardlab.config import load_config
from rewardlab.pipeline.training import train_and_evaluate
from rewardlab.train import RunConfig

COMMON = ["train.lr=2e-4", "train.warmup_ratio=0.1", "train.epochs=1", "train.progress=false",
          "train.save_every=100000", "train.log_every=10", "model.max_length=256"]
PAIRS = ["train.batch_size=16"]  # 32 sequences per step for every objective
RANKS = ["train.batch_size=8"]
POINTS = ["train.batch_size=32"]

ROWS: dict[str, list[str]] = {
    "BT": ["loss.name=bradley_terry", *PAIRS],
    "BT + margin (strength)": ["loss.name=bradley_terry", "loss.margin=strength", *PAIRS],
    "tie-aware BT (Davidson)": ["loss.name=tie_bt", "loss.tie_model=davidson", *PAIRS],
    "Plackett-Luce (4-way rankings)": ["loss.name=plackett_luce", *RANKS],
    "ranking pairs (InstructGPT)": ["loss.name=ranking_pairs", *RANKS],
    "regression (Likert overall)": ["loss.name=regression", "loss.attributes=[overall]", *POINTS],
    "classification (good/bad labels)": ["loss.name=classification", *POINTS],
    "pairwise classification": ["loss.name=pairwise_classification", *PAIRS],
    "annotator-aware BT": ["loss.name=annotator_bt", *PAIRS],
    "annotator-aware BT (+bias)": ["loss.name=annotator_bt", "loss.annotator_bias=true", *PAIRS],
    "ensemble of 4 (BT mean)": ["loss.name=bradley_terry", "ensemble.members=4", *PAIRS],
    "LoRA r=16 (BT)": ["loss.name=bradley_terry", "model.method=lora", "train.lr=1e-3", *PAIRS],
    "frozen embeddings + MLP (BT)": ["model.method=embedding", "embedding.head=mlp",
                                     "embedding.loss=bradley_terry"],
    "frozen embeddings + LightGBM": ["model.method=embedding", "embedding.head=lightgbm"],
}
HH_ROWS = ["frozen embeddings + MLP (BT)", "frozen embeddings + LightGBM", "BT"]


def _spearman(a: list[float], b: list[float]) -> float:
    def ranks(x: list[float]) -> list[int]:
        order = sorted(range(len(x)), key=x.__getitem__)
        r = [0] * len(x)
        for i, j in enumerate(order):
            r[j] = i
        return r

    ra, rb = ranks(a), ranks(b)
    n = len(a)
    return 1 - 6 * sum((x - y) ** 2 for x, y in zip(ra, rb)) / (n * (n * n - 1))


def run_row(name: str, overrides: list[str], base: list[str], out_dir: Path) -> dict[str, Any]:
    cfg = load_config(RunConfig, None, [*base, *COMMON, *overrides])
    run_dir = out_dir / name.replace(" ", "_").replace("/", "-").replace("(", "").replace(")", "")
    t0 = time.perf_counter()
    outcome = train_and_evaluate(cfg, run_dir, overwrite=True, log=lambda m: print(f"  {m}", flush=True))
    wall = time.perf_counter() - t0
    rep = outcome.report
    assert rep is not None
    row: dict[str, Any] = {
        "row": name, "objective": cfg.loss.name, "method": cfg.model.method, "ensemble": cfg.ensemble.members,
        "train_records": len(outcome.train.data.train), "records": cfg.loss.records,
        "heldout_pairs": rep.n_pairs,
        "accuracy": rep.accuracy, "gold_accuracy": (rep.gold or {}).get("accuracy", math.nan), "ece": rep.ece,
        "train_seconds": outcome.train.loop.train_seconds, "wall_seconds": wall,
    }
    meta = getattr(outcome.train.model, "metadata", {})
    learned = (meta.get("objective") or {}).get("learned") or {}
    if "annotators" in learned and outcome.train.data.world is not None:
        true = {a.id: a.temperature for a in outcome.train.data.world.annotators}
        ids = sorted(learned["annotators"])
        fitted = [learned["annotators"][a]["temperature"] for a in ids]
        row["annotator_temperature"] = {a: {"true": true[a], "learned": round(t, 3)} for a, t in zip(ids, fitted)}
        row["annotator_spearman"] = _spearman([true[a] for a in ids], fitted)
    if "nu" in learned:
        row["davidson_nu"] = learned["nu"]
    if "timings" in meta:
        row["timings"] = meta["timings"]
    return row


def table(path: Path) -> str:
    rows = json.loads(path.read_text())
    lines = ["| variant | trained on | acc vs annotators | acc vs gold | ECE | train time |",
             "|---|---|---:|---:|---:|---:|"]
    for r in rows:
        gold = "n/a" if math.isnan(r["gold_accuracy"]) else f"{100 * r['gold_accuracy']:.1f}%"
        lines.append(f"| {r['row']} | {r['train_records']} {r['records']} | {100 * r['accuracy']:.1f}% | {gold} | "
                     f"{r['ece']:.3f} | {r['wall_seconds']:.0f} s |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", help="results JSON (appended row by row)")
    p.add_argument("--runs", default="/tmp/rewardlab-bench-signals", help="run directories")
    p.add_argument("--n-prompts", type=int, default=800)
    p.add_argument("--hh", help="HH-RLHF harmless file: run the real-data rows instead")
    p.add_argument("--rows", help="comma-separated row names (default: all)")
    p.add_argument("--table", help="print the markdown table of a results file and exit")
    args = p.parse_args(argv)
    if args.table:
        print(table(Path(args.table)))
        return
    if args.hh:
        base = [f"data.train={args.hh}", "data.format=hh", "data.test_fraction=0.2", "data.split_seed=0",
                "data.on_invalid=skip"]  # 4 empty replies, 5 corrupted dialogues: counted (configs/hh-harmless.yaml)
        names = HH_ROWS
    else:
        base = ["data.train=synth", f"synth.n_prompts={args.n_prompts}", "synth.seed=0"]
        names = list(ROWS)
    if args.rows:
        names = [n for n in names if n in args.rows.split(",")]
    out = Path(args.out)
    done = json.loads(out.read_text()) if out.exists() else []
    for name in names:
        if any(r["row"] == name for r in done):
            continue
        print(f"== {name}", flush=True)
        hh_lr = ["train.lr=5e-5"] if args.hh else []  # the lr of configs/hh-harmless.yaml
        overrides = [*ROWS[name], *hh_lr]
        row = run_row(name, overrides, base, Path(args.runs) / ("hh" if args.hh else "synth"))
        done.append(row)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(done, indent=2) + "\n")
        print(json.dumps({k: v for k, v in row.items() if k != "annotator_temperature"}), flush=True)


if __name__ == "__main__":
    main()
