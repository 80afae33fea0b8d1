"""Frozen-embedding reward model on 10,000 synthetic pairs, end to end with a cold cache (issue 3 target: < 5 min).

    python benchmarks/bench_embedding_10k.py --out benchmarks/results/embedding_10k.json

Times the whole ``train_embedding_head`` call (loading the backbone, embedding every distinct
input, fitting the head) for the MLP (BT) and LightGBM heads, each with an empty cache, and
reports held-out accuracy (prompt split) against the labels and the gold order.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from rewardlab.data import split_by_prompt
from rewardlab.synth import SynthConfig, generate_world
from rewardlab.train.config import EmbeddingConfig
from rewardlab.train.embedding import train_embedding_head


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--pairs", type=int, default=10_000)
    args = p.parse_args()
    world = generate_world(SynthConfig(n_prompts=4500, pairs_per_prompt=3, seed=0))
    pairs = [c for c in world.comparisons() if not c.tie]
    train, held = split_by_prompt(pairs, 0.2, 0)
    train = train[: args.pairs]
    results = []
    for head in ("mlp", "lightgbm"):
        with tempfile.TemporaryDirectory() as cache:
            cfg = replace(EmbeddingConfig(), head=head, cache_dir=cache)  # type: ignore[arg-type]
            t0 = time.perf_counter()
            model, timings = train_embedding_head(train, cfg, backbone="default", log=lambda m: print(f"  {m}"))
            total = time.perf_counter() - t0
            prompts = [c.prompt for c in held]
            rc = model.score(prompts, [c.chosen for c in held])
            rr = model.score(prompts, [c.rejected for c in held])
        acc = sum(a > b for a, b in zip(rc, rr)) / len(held)
        strict = [(a, b, c) for a, b, c in zip(rc, rr, held) if c.gold_chosen != c.gold_rejected]
        gold = sum((a > b) == (c.gold_chosen > c.gold_rejected) for a, b, c in strict) / len(strict)
        row = {"head": head, "train_pairs": len(train), "distinct_inputs": timings["n_texts"],
               "end_to_end_seconds": total, **timings, "heldout_pairs": len(held), "accuracy": acc,
               "gold_accuracy": gold}
        print(json.dumps(row), flush=True)
        results.append(row)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
