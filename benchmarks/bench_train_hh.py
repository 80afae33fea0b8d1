"""rewardlab vs TRL RewardTrainer on real HH-RLHF pairs, side by side in one run.

Same pairs (a seeded 80/20 split by prompt), same backbone (all-MiniLM-L6-v2), same
epochs, batch size, learning rate, schedule and precision, and the *same token ids*:
rewardlab keeps over-long pairs by truncating the start of the prompt, and TRL is handed
exactly those ids, so its length filter drops nothing and both count the same pairs.
Also measures scoring throughput against a plain transformers loop.

    python benchmarks/bench_train_hh.py --data ../shared/data/hh-rlhf/harmless-base/test.jsonl.gz \
        --out benchmarks/results/train_hh.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from trl_peer import train_trl

from rewardlab.config import load_config
from rewardlab.data import load_comparisons, split_by_prompt
from rewardlab.eval import evaluate
from rewardlab.models.local import resolve_backbone
from rewardlab.models.precision import cpu_has_fast_bf16, resolve_precision
from rewardlab.train import RunConfig, run_training
from rewardlab.train.data import RunData
from rewardlab.train.pairs import tokenize_pairs


def plain_transformers_scoring(model_dir: str, texts: list[str], max_length: int, batch_size: int) -> float:
    """Responses/s of the loop most users write: batches in input order, padded to the longest."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    tokenizer.truncation_side = "left"
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    t0 = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(texts), batch_size):
            enc = tokenizer(texts[i : i + batch_size], padding=True, truncation=True, max_length=max_length,
                            return_tensors="pt")
            model(**enc)
    return len(texts) / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--limit", type=int, help="use only the first N rows (quick check)")
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--trl-gradient-checkpointing", choices=["default", "off"], default="off",
                   help="TRL turns gradient checkpointing on by default; 'off' gives it the faster setting")
    p.add_argument("--skip-trl", action="store_true")
    args = p.parse_args(argv)
    torch.set_num_threads(os.cpu_count() or 1)
    work = Path(args.out).with_suffix("")
    work.mkdir(parents=True, exist_ok=True)

    loaded = load_comparisons(args.data, format="hh", on_invalid="skip", limit=args.limit)
    train, test = split_by_prompt(loaded.records, 0.2, seed=0)
    cfg = load_config(RunConfig, None, [
        "model.backbone=default", f"model.max_length={args.max_length}", f"train.batch_size={args.batch_size}",
        f"train.lr={args.lr}", "train.epochs=1", "train.warmup_ratio=0.1", "train.schedule=cosine",
        "train.precision=auto", "train.progress=false", "train.save_every=100000", "data.overlong=truncate",
    ])
    device = torch.device("cpu")
    precision = resolve_precision("auto", device)
    result: dict[str, Any] = {
        "data": args.data, "data_report": loaded.report.summary(), "train_pairs": len(train), "test_pairs": len(test),
        "precision": precision, "cpu_has_fast_bf16": cpu_has_fast_bf16(), "torch_threads": torch.get_num_threads(),
    }
    print(json.dumps({k: v for k, v in result.items()}, indent=1), flush=True)

    # --- rewardlab
    t0 = time.perf_counter()
    ours = run_training(cfg, work / "rewardlab", data=RunData(train=list(train), heldout=list(test)), log=print)
    ours_report, _ = evaluate(ours.model, ours.data.heldout, precision="fp32")
    model = ours.model
    result["rewardlab"] = {
        "pairs_trained": len(ours.data.train), "train_seconds": round(ours.loop.train_seconds, 2),
        "pairs_per_s": round(ours.loop.pairs_per_s, 3), "eval_accuracy": ours_report.accuracy,
        "wall_seconds": round(time.perf_counter() - t0, 1), "over_length_truncated": ours.lengths["train"].truncated,
    }
    print("rewardlab:", result["rewardlab"], flush=True)

    # --- TRL on identical token ids
    ids = tokenize_pairs(model, ours.data.train)
    full = [(model.format(r.prompt, r.chosen), model.format(r.prompt, r.rejected)) for r in ours.data.train]
    untruncated = tokenize_pairs_untruncated(model, ours.data.train)
    result["trl_would_drop_as_text"] = sum(1 for c, r in untruncated if max(c, r) + 1 > args.max_length)
    if not args.skip_trl:
        eval_texts = [(model.format(r.prompt, r.chosen), model.format(r.prompt, r.rejected)) for r in ours.data.heldout]
        overrides = {"gradient_checkpointing": False} if args.trl_gradient_checkpointing == "off" else {}
        trl = train_trl(
            full, eval_texts, model_dir=resolve_backbone("default")[0], max_length=args.max_length, epochs=1,
            batch_size=args.batch_size, lr=args.lr, bf16=precision == "bf16", seed=0, out_dir=str(work / "trl"),
            lr_scheduler_type="cosine", warmup_ratio=0.1, token_ids=list(zip(ids.chosen, ids.rejected)),
            config_overrides=overrides,
        )
        result["trl"] = {k: trl[k] for k in ("pairs_trained", "train_seconds", "pairs_per_s", "eval_accuracy")}
        result["trl"]["gradient_checkpointing"] = trl["settings"]["gradient_checkpointing"]
        result["trl"]["disable_dropout"] = trl["settings"]["disable_dropout"]
        result["speedup"] = round(result["rewardlab"]["pairs_per_s"] / trl["pairs_per_s"], 2)
        result["accuracy_gap_points"] = round(100 * (result["rewardlab"]["eval_accuracy"] - trl["eval_accuracy"]), 2)
        print("trl:", result["trl"], flush=True)

    # --- scoring throughput on held-out responses
    responses = [(r.prompt, r.chosen) for r in ours.data.heldout][:384]
    texts = [model.format(p_, r_) for p_, r_ in responses]
    t0 = time.perf_counter()
    model.score([p_ for p_, _ in responses], [r_ for _, r_ in responses], batch_size=32, precision="fp32")
    ours_rps = len(responses) / (time.perf_counter() - t0)
    plain_rps = plain_transformers_scoring(str(ours.model_dir), texts, args.max_length, 32)
    result["scoring"] = {"responses": len(responses), "rewardlab_fp32_per_s": round(ours_rps, 1),
                         "plain_transformers_per_s": round(plain_rps, 1), "ratio": round(ours_rps / plain_rps, 2)}
    print("scoring:", result["scoring"], flush=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


def tokenize_pairs_untruncated(model: Any, records: list[Any]) -> list[tuple[int, int]]:
    prompts = [r.prompt for r in records]
    c = model.encode(prompts, [r.chosen for r in records], truncate=False)
    r = model.encode(prompts, [r.rejected for r in records], truncate=False)
    return [(len(a), len(b)) for a, b in zip(c, r)]


if __name__ == "__main__":
    main()
