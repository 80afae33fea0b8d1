"""The over-optimization lab's default study, over seeds: what it finds, how long it takes, cold and cached.

    python benchmarks/bench_overopt.py --seeds 0 1 2 --out benchmarks/results/overopt.json

For each seed (the study's prompts and samples, and the proxy's training world and bootstraps): the
default study (`rewardlab overopt` with no config: 200 fresh synthetic prompts x 1000
reference-policy samples, the default frozen-embedding proxy ensemble of 4 trained on the biased pool, the
Laplace scorer, the scaling study and three rounds of iterated updates) run cold (empty embedding and score
caches) and then again with the caches warm. Then the naive peer: plain ``EmbeddingRewardModel.score`` on
samples as they come (no deduplication, no cache), timed on 2,000 samples and stated per sample.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def run_seed(seed: int, work: Path) -> dict[str, Any]:
    from rewardlab.config import load_config
    from rewardlab.overopt.config import OverOptConfig
    from rewardlab.overopt.study import run_study

    cache = work / f"cache-{seed}"
    os.environ["XDG_CACHE_HOME"] = str(cache)
    timings = {}
    result = None
    for label in ("cold", "warm"):
        out = work / f"seed{seed}-{label}"
        shutil.rmtree(out, ignore_errors=True)
        cfg = load_config(OverOptConfig, None, [f"seed={seed}", f"train.seed={seed}"])
        t0 = time.perf_counter()
        tag = f"[{seed} {label}]"
        result = run_study(cfg, out, log=lambda m, tag=tag: print(f"  {tag} {m}", flush=True), progress=False)
        timings[label] = time.perf_counter() - t0
    assert result is not None
    study = result.to_dict()
    naive = naive_rate(work / f"seed{seed}-cold", result)
    members = sum(1 for label in study["scoring"]["per_scorer"] if label.startswith("proxy "))
    return {"seed": seed, "seconds": timings, "rows": study["rows"], "verdict": study["verdict"],
            "scaling": study["scaling"], "iterate": study["iterate"], "early_stopping": study["early_stopping"],
            "candidates": study["candidates"], "naive_samples_per_second": naive,
            "lab_samples_per_second_cold": study["candidates"]["samples"] * members / timings["cold"],
            "lab_samples_per_second_warm": study["candidates"]["samples"] * members / timings["warm"]}


def naive_rate(run: Path, result: Any, samples: int = 2000) -> float:
    """Samples per second of plain ``score`` (one member, no cache, no deduplication) on the study's samples."""
    import random

    from rewardlab.models.embedding_model import EmbeddingRewardModel
    from rewardlab.overopt.candidates import synth_candidates

    cands = synth_candidates(n_prompts=200, n=1000, seed=result.config["seed"])
    rng = random.Random(0)
    picks = [(p.prompt, p.responses[rng.randrange(p.n)]) for p in (rng.choice(cands.prompts) for _ in range(samples))]
    model = EmbeddingRewardModel.from_pretrained(run / "proxy" / "member-0", cache=None)
    t0 = time.perf_counter()
    model.score([p for p, _ in picks], [r for _, r in picks], batch_size=64, precision="auto")
    return samples / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", default="benchmarks/results/overopt.json")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-overopt-"))
    results = []
    for s in args.seeds:  # written after every seed, so an interrupted run keeps what it measured
        results.append(run_seed(s, work))
        payload = {"cpu": cpu_model(), "cores": os.cpu_count(), "seeds": results,
                   "command": f"python benchmarks/bench_overopt.py --seeds {' '.join(map(str, args.seeds))}"}
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(payload, indent=2, default=float) + "\n")
    for r in results:
        print(f"seed {r['seed']}: cold {r['seconds']['cold']:.0f} s, warm {r['seconds']['warm']:.0f} s; "
              f"{r['verdict']['line']}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
