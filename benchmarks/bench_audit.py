"""The audit flags absorbed annotator biases, and ODIN-style length debiasing shrinks them (issue 4).

Rows: plain Bradley-Terry, and the two length mitigations (``debias.length=covariate|odin``).
The synthetic world with the ``biased`` annotator pool (every annotator likes length and markdown;
the gold utility does not), the demo's training settings, the same train/held-out split for every
row. Each row trains, evaluates, then audits all held-out pairs (bias probes, length-controlled
accuracy, reward–length correlation) and runs the built-in synthetic suite.

    python benchmarks/bench_audit.py --out benchmarks/results/audit.json
    python benchmarks/bench_audit.py --table benchmarks/results/audit.json     # markdown tables
    python benchmarks/bench_audit.py --out FILE --reaudit    # re-audit rows already trained under --runs

Rows are appended one by one; rerunning skips rows already in the file.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

from rewardlab.config import apply_overrides, config_from_dict
from rewardlab.pipeline.demo import demo_defaults
from rewardlab.pipeline.training import train_and_evaluate
from rewardlab.train import RunConfig

COMMON = ["synth.pool=biased", "train.progress=false", "train.save_every=100000", "audit.max_pairs=100000",
          "audit.report=true"]
ROWS: dict[str, list[str]] = {
    "BT": [],
    "BT + length covariate": ["debias.length=covariate"],
    "BT + ODIN length head": ["debias.length=odin"],
}


def _reaudit(cfg: RunConfig, run_dir: Path) -> tuple[Any, Any, Any, float]:
    """Evaluate and audit an already trained row again (same split, current audit code)."""
    from rewardlab.eval import evaluate
    from rewardlab.models import load_model
    from rewardlab.pipeline.after_training import audit_run
    from rewardlab.train.data import load_run_data

    model = load_model(run_dir / "model")
    data = load_run_data(cfg)
    report, pairs = evaluate(model, data.heldout, batch_size=cfg.eval.batch_size, precision="auto",
                             seed=cfg.data.split_seed)
    audit, suite, _ = audit_run(cfg, run_dir, model, pairs, precision="auto", log=lambda m: print(f"  {m}"))
    train_seconds = json.loads((run_dir / "metrics.json").read_text())["train"]["train_seconds"]
    return report, audit, suite, train_seconds


def run_row(name: str, overrides: list[str], n_prompts: int, out_dir: Path, reaudit: bool = False) -> dict[str, Any]:
    cfg = config_from_dict(RunConfig, apply_overrides(demo_defaults(), [*COMMON, f"synth.n_prompts={n_prompts}",
                                                                        *overrides]))
    run_dir = out_dir / name.replace(" ", "_").replace("+", "plus")
    t0 = time.perf_counter()
    if reaudit and (run_dir / "model").is_dir() and (run_dir / "metrics.json").is_file():
        rep, audit, suite, train_seconds = _reaudit(cfg, run_dir)
    else:
        outcome = train_and_evaluate(cfg, run_dir, overwrite=True, log=lambda m: print(f"  {m}", flush=True))
        rep, audit, suite = outcome.report, outcome.audit, outcome.suite
        train_seconds = outcome.train.loop.train_seconds
    wall = time.perf_counter() - t0
    assert rep is not None and audit is not None and suite is not None
    a = audit.to_dict()
    return {
        "row": name, "overrides": overrides, "heldout_pairs": rep.n_pairs,
        "accuracy": rep.accuracy, "gold_accuracy": (rep.gold or {}).get("accuracy", math.nan), "ece": rep.ece,
        "length": a["length"], "probes": {p["name"]: {k: p[k] for k in ("effect", "mean_delta", "flip_rate",
                                                                        "base_flip_rate", "severity", "direction")}
                                          for p in a["probes"]},
        "flagged": a["flagged"], "audited_pairs": a["n_pairs"],
        "suite": {"pass_rate": suite.pass_rate, "n_failed": len(suite.failures),
                  "failed": [r.check.id for r in suite.failures]},
        "train_seconds": train_seconds, "wall_seconds": wall, "run_dir": str(run_dir),
    }


def gold_row(n_prompts: int) -> dict[str, Any]:
    """The length statistics of the gold utility itself on the same held-out pairs: what an unbiased model shows."""
    from rewardlab.audit import length_bias, word_count
    from rewardlab.train.data import load_run_data

    cfg = config_from_dict(RunConfig, apply_overrides(demo_defaults(), [*COMMON, f"synth.n_prompts={n_prompts}"]))
    pairs = [p for p in load_run_data(cfg).heldout if not p.tie and p.gold_chosen != p.gold_rejected]
    gc, gr = [p.gold_chosen or 0.0 for p in pairs], [p.gold_rejected or 0.0 for p in pairs]
    lb = length_bias(gc, gr, [word_count(p.chosen) for p in pairs], [word_count(p.rejected) for p in pairs])
    return {"row": "gold utility (reference)", "heldout_pairs": len(pairs),
            "accuracy": sum(c > r for c, r in zip(gc, gr)) / len(pairs), "gold_accuracy": 1.0,
            "length": {k: getattr(lb, k) for k in ("pearson", "spearman", "pair_pearson", "acc_chosen_longer",
                                                   "n_chosen_longer", "acc_chosen_shorter", "n_chosen_shorter",
                                                   "n_equal", "gap", "severity")},
            "probes": {}, "suite": {"pass_rate": None}}


def _pct(x: Any) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}%"


def table(path: Path) -> str:
    rows = json.loads(path.read_text())
    lines = ["| variant | acc vs labels | acc vs gold | reward–length r (pairs) | acc chosen longer / shorter "
             "(gap) | length verdict | suite pass |", "|---|---:|---:|---:|---:|---|---:|"]
    for r in rows:
        ln = r["length"]
        lines.append(f"| {r['row']} | {_pct(r['accuracy'])} | {_pct(r['gold_accuracy'])} | {ln['pearson']:+.2f} "
                     f"({ln['pair_pearson']:+.2f}) | {_pct(ln['acc_chosen_longer'])} / "
                     f"{_pct(ln['acc_chosen_shorter'])} ({_pct(ln['gap'])}) | {ln['severity']} | "
                     f"{_pct(r['suite']['pass_rate'])} |")
    rows = [r for r in rows if r["probes"]]
    names = list(rows[0]["probes"]) if rows else []
    lines += ["", "| probe | " + " | ".join(r["row"] for r in rows) + " |", "|---|" + "---|" * len(rows)]
    for n in names:
        cells = []
        for r in rows:
            p = r["probes"][n]
            cells.append(f"{p['effect']:+.2f} sd, flips {_pct(p['base_flip_rate'])}→{_pct(p['flip_rate'])}, "
                         f"**{p['severity']}**")
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", help="results JSON (appended row by row)")
    p.add_argument("--runs", default="/tmp/rewardlab-bench-audit", help="run directories")
    p.add_argument("--n-prompts", type=int, default=1500)
    p.add_argument("--rows", help="comma-separated row names (default: all)")
    p.add_argument("--table", help="print the markdown tables of a results file and exit")
    p.add_argument("--reaudit", action="store_true",
                   help="rows already trained under --runs: evaluate and audit them again instead of retraining")
    args = p.parse_args(argv)
    if args.table:
        print(table(Path(args.table)))
        return
    out = Path(args.out)
    done = json.loads(out.read_text()) if out.exists() else []
    if not any(r["row"] == "gold utility (reference)" for r in done):
        done.insert(0, gold_row(args.n_prompts))
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(done, indent=2) + "\n")
    for name in [n for n in ROWS if not args.rows or n in args.rows.split(",")]:
        if any(r["row"] == name for r in done):
            continue
        print(f"== {name}", flush=True)
        done.append(run_row(name, ROWS[name], args.n_prompts, Path(args.runs), args.reaudit))
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(done, indent=2) + "\n")


if __name__ == "__main__":
    main()
