"""``rewardlab <verb>``: runs each verb, prints for humans and exits (the flags: ``cli_parser.py``).

Every verb is a few lines over ``rewardlab.pipeline`` or the library; errors from the rewardlab
tree are printed as one clear line (exit status 2) instead of a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rewardlab import rundir
from rewardlab.cli_parser import build_parser
from rewardlab.errors import ConfigError, RewardLabError

__all__ = ["main"]


def _stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def _cmd_synth(args: argparse.Namespace) -> int:
    from rewardlab.config import config_from_dict
    from rewardlab.synth import SynthConfig, generate_world, noise_ceiling, write_world

    values = {k: getattr(args, k) for k in ("n_prompts", "candidates_per_prompt", "pairs_per_prompt",
                                            "n_annotators", "seed") if getattr(args, k) is not None}
    if args.families:
        values["families"] = args.families.split(",")
    cfg = config_from_dict(SynthConfig, values, "synth.")
    world = generate_world(cfg)
    paths = write_world(world, args.out)
    ceiling = noise_ceiling(world.comparisons())
    print(f"wrote the synthetic world (seed {cfg.seed}, {len(world.prompts)} prompts) to {args.out}:")
    for name, path in sorted(paths.items()):
        print(f"  {name:<12} {path}")
    print(f"labels agree with gold {100 * ceiling['label_gold_agreement']:.1f}%; "
          f"best expected accuracy against the labels {100 * ceiling['bayes_accuracy']:.1f}%")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from rewardlab.pipeline.training import load_run_config, train_and_evaluate

    if args.resume and not args.out:
        raise ConfigError("--resume continues the run in --out: give --out RUN_DIR")
    overrides = [*(args.set or []), *([f"ensemble.members={args.ensemble}"] if args.ensemble else [])]
    cfg = load_run_config(args.config, overrides, resume_dir=args.out if args.resume else None)
    out = Path(args.out or f"runs/train-{_stamp()}")
    outcome = train_and_evaluate(cfg, out, resume=args.resume, overwrite=args.overwrite)
    if outcome.report is not None or not outcome.train.data.heldout:
        print(f"\nmodel: {outcome.train.model_dir}\nrun:   {out} (config.yaml, metrics.json, tensorboard/)")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from rewardlab.pipeline.demo import demo_defaults, render_verdict, run_demo
    from rewardlab.pipeline.training import load_run_config

    cfg = load_run_config(args.config, args.set or [], base=demo_defaults())
    out = Path(args.out or f"runs/demo-{_stamp()}")
    print(render_verdict(run_demo(cfg, out, overwrite=args.overwrite, overopt_prompts=args.overopt_prompts)))
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from rewardlab.pipeline.inputs import DataOptions
    from rewardlab.pipeline.sources import run_eval

    payload = run_eval(args.model, args.data, DataOptions.of(args), suite=args.suite, precision=args.precision,
                       batch_size=args.batch_size)
    _write_json(args.json, payload)
    return 0


def _cmd_audit(args: argparse.Namespace) -> int:
    from rewardlab.pipeline.inputs import DataOptions
    from rewardlab.pipeline.sources import run_audit

    out = run_audit(args.model, args.data, DataOptions.of(args), probes=args.probes, precision=args.precision,
                    batch_size=args.batch_size, max_pairs=args.max_pairs, seed=args.seed)
    _write_json(args.json, out)
    return 0


def _write_json(path: str | None, payload: dict[str, Any]) -> None:
    if path:
        Path(path).write_text(json.dumps(payload, indent=2, default=str) + "\n")


def _cmd_overopt(args: argparse.Namespace) -> int:
    from rewardlab.config import load_config
    from rewardlab.overopt.config import OverOptConfig
    from rewardlab.pipeline.study import study_run

    overrides = [*(args.set or []), *([f"proxy={args.proxy}"] if args.proxy else [])]
    out = Path(args.out or f"runs/overopt-{_stamp()}")
    _, page = study_run(load_config(OverOptConfig, args.config, overrides), out, overwrite=args.overwrite)
    print(f"\nstudy: {out / rundir.OVEROPT}\nreport: {page}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from rewardlab.report import write_report

    page = write_report(args.run_dir, args.out, extra_evals=args.eval or ())
    print(f"wrote {page}")
    return 0


def _cmd_score(args: argparse.Namespace) -> int:
    from rewardlab.pipeline.inputs import DataOptions
    from rewardlab.pipeline.score_file import score_rows, scorer_for

    model, data = scorer_for(args.model, args.data, server=args.server, precision=args.precision)
    t0 = time.perf_counter()
    rows, n = score_rows(model, data, batch_size=args.batch_size, precision=args.precision,
                         normalize=args.normalize, options=DataOptions.of(args))
    Path(args.out).write_text("".join(json.dumps(r) + "\n" for r in rows))
    seconds = time.perf_counter() - t0
    print(f"scored {n} responses in {seconds:.1f}s ({n / max(seconds, 1e-9):.1f}/s) -> {args.out}")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from rewardlab.config import load_config
    from rewardlab.serve import ServeConfig, serve

    flags = {"host": args.host, "port": args.port, "precision": args.precision}
    overrides = [*(args.set or []), *(f"{k}={v}" for k, v in flags.items() if v is not None)]
    serve(args.model, load_config(ServeConfig, args.config, overrides), log_level=args.log_level)
    return 0


#: What runs each verb (its flags: cli_parser.build_parser).
VERBS = {"demo": _cmd_demo, "train": _cmd_train, "synth": _cmd_synth, "eval": _cmd_eval, "audit": _cmd_audit,
         "report": _cmd_report, "score": _cmd_score, "overopt": _cmd_overopt, "serve": _cmd_serve}

#: How a library option is spelt on each verb's command line (train and demo take --set).
_FLAGS = {"on_invalid": "--on-invalid", "format": "--format", "split": "--split", "columns": "--columns"}
_CONFIG_KEYS = {"on_invalid": "data.on_invalid", "format": "data.format", "split": "data.split",
                "columns": "data.columns"}


def _spell(verb: str) -> Any:
    """The hint of an error spelt as this verb's flag: ``--on-invalid skip`` or ``--set data.on_invalid=skip``."""
    from rewardlab.errors import Hint

    def spell(hint: Hint) -> str | None:
        value = "VALUE" if hint.value is None else hint.value
        if verb in ("train", "demo"):
            key = _CONFIG_KEYS.get(hint.option)
            return f"{hint.why}, pass --set {key}={value}" if key else None
        flag = _FLAGS.get(hint.option)
        return f"{hint.why}, pass {flag} {value}" if flag else None

    return spell


def _unknown_verb(parser: argparse.ArgumentParser, argv: Sequence[str]) -> str | None:
    """``unknown verb 'trian'; did you mean 'train'?`` when the first argument is not a verb."""
    import difflib

    verbs = next(a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    first = next((a for a in argv if not a.startswith("-")), None)
    if first is None or first in verbs or argv.index(first) != 0:
        return None
    close = difflib.get_close_matches(first, list(verbs), n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else f"; the verbs are {', '.join(verbs)}"
    return f"unknown verb '{first}'{hint}"


def main(argv: Sequence[str] | None = None) -> int:
    # transformers' own "Loading weights" / "Writing model shards" bars flash by for every load and
    # save (several per run); rewardlab shows its own bars for the slow parts. HF_HUB_DISABLE_PROGRESS_BARS=0
    # brings them back.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    argv = list(sys.argv[1:] if argv is None else argv)
    helped = argv[0] if argv and argv[0] in ("train", "demo") and {"-h", "--help"} & set(argv) else None
    parser = build_parser(helped)
    unknown = _unknown_verb(parser, argv)
    if unknown:
        print(f"rewardlab: error: {unknown}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    try:
        return int(VERBS[args.verb](args))
    except RewardLabError as exc:
        print(f"rewardlab {args.verb}: error: {exc.render(_spell(args.verb))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rewardlab {args.verb}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
