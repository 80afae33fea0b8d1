"""``rewardlab <verb>``: the only module that parses argv, prints for humans and exits.

Every verb is a thin layer over the library; errors from the rewardlab tree are printed
as one clear line (exit status 2) instead of a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rewardlab import __version__, rundir
from rewardlab.data.columns import parse_columns
from rewardlab.errors import ConfigError, RewardLabError
from rewardlab.precisions import PRECISIONS

if TYPE_CHECKING:
    from rewardlab.models.loading import Scorer

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


def _load_run_config(args: argparse.Namespace, base: dict[str, Any] | None = None) -> Any:
    from rewardlab.config import load_config
    from rewardlab.train import RunConfig

    config = getattr(args, "config", None)
    if config is None and getattr(args, "resume", False) and args.out:
        saved = Path(args.out) / rundir.CONFIG
        if not saved.is_file():
            raise ConfigError(f"--resume without --config reuses {saved}, which does not exist; is --out {args.out} "
                              "a run directory?")
        config, base = saved, None  # the run's resolved config; --set still applies on top
    return load_config(RunConfig, config, list(args.set or []), base=base)


def _cmd_train(args: argparse.Namespace) -> int:
    from rewardlab.workflows import train_and_evaluate

    if args.resume and not args.out:
        raise ConfigError("--resume continues the run in --out: give --out RUN_DIR")
    if args.ensemble:
        args.set = [*(args.set or []), f"ensemble.members={args.ensemble}"]
    cfg = _load_run_config(args)
    out = Path(args.out or f"runs/train-{_stamp()}")
    outcome = train_and_evaluate(cfg, out, resume=args.resume, overwrite=args.overwrite)
    if outcome.report is not None or not outcome.train.data.heldout:
        print(f"\nmodel: {outcome.train.model_dir}\nrun:   {out} (config.yaml, metrics.json, tensorboard/)")
    return 0


def demo_defaults() -> dict[str, Any]:
    """The demo's embedded run config (``rewardlab/configs/demo.yaml``)."""
    import yaml

    text = resources.files("rewardlab").joinpath("configs/demo.yaml").read_text()
    return dict(yaml.safe_load(text))


def _cmd_demo(args: argparse.Namespace) -> int:
    from rewardlab.pipeline.demo import render_verdict, run_demo
    from rewardlab.runaudit import check_suite

    cfg = _load_run_config(args, demo_defaults())
    out = Path(args.out or f"runs/demo-{_stamp()}")
    rundir.prepare_run_dir(out, resume=False, overwrite=args.overwrite)
    check_suite(cfg)
    demo = run_demo(cfg, out, overwrite=args.overwrite, overopt_prompts=args.overopt_prompts)
    print(render_verdict(demo))
    return 0


def _warn_training_overlap(model_dir: str, records: Sequence[Any]) -> dict[str, int] | None:
    """Warn (stderr) when evaluation prompts were in the model's training data; the counts, or None if unknown."""
    from rewardlab.models.train_prompts import overlap

    counts = overlap(model_dir, (r.prompt for r in records))
    if counts is None:
        return None
    seen, total = counts
    if seen:
        print(f"warning: {seen} of the {total} distinct prompts here ({100 * seen / total:.0f}%) were in this "
              "model's training data; numbers on them overstate held-out quality (evaluate on held-out data)",
              file=sys.stderr)
    return {"trained_prompts": seen, "prompts": total}


def _load_for_scoring(path: str, precision: str) -> Scorer:
    """A model loaded only to be scored: at bf16 its linear weights are stored in bf16 once (same scores)."""
    from rewardlab.models import load_model
    from rewardlab.models.precision import resolve_precision, scoring_device, store_bf16_weights

    model = load_model(path)
    if resolve_precision(precision, scoring_device(model)) == "bf16":
        store_bf16_weights(model)
    return model


def _cmd_eval(args: argparse.Namespace) -> int:
    from rewardlab.data.expand import expand_sources
    from rewardlab.errors import ConfigError

    if not args.data and not args.suite:
        raise ConfigError("give a data file to evaluate on, --suite FILE (or builtin:synth), or both")
    sources = expand_sources(args.data) if args.data else []
    if args.format == "rewardbench2" and len(sources) > 1:
        raise ConfigError(f"--format rewardbench2 reads one data set at a time; got {len(sources)}: {sources}")
    model = _load_for_scoring(args.model, args.precision)
    payload: dict[str, Any] = {"model": str(args.model)}
    if sources:
        payload["data"] = sources[0] if len(sources) == 1 else sources
        if args.format == "rewardbench2":
            payload["rewardbench2"] = _eval_rewardbench2(model, args, sources[0])
        else:
            payload.update(_eval_sources(model, args, sources))
    if args.suite:
        payload["suite"] = _eval_suite(model, args)
    if args.json:
        Path(args.json).write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return 0


def _eval_sources(model: Scorer, args: argparse.Namespace, sources: list[str]) -> dict[str, Any]:
    """One source: its report. Several: each one's, then the total over all their pairs (top level)."""
    from rewardlab.eval import evaluate_scores, render_report
    from rewardlab.eval.render import render_sources

    if len(sources) == 1:
        return _eval_pairs(model, args, sources[0])[0]
    files, everything = [], []
    for source in sources:
        out, pairs = _eval_pairs(model, args, source)
        files.append({"data": source, **out})
        everything += pairs
        print()
    total = evaluate_scores(everything)
    print(render_sources(files, total))
    print("\n" + render_report(total, title=f"Total over {len(sources)} sources ({len(everything)} pairs)"))
    return {**total.to_dict(), "files": files}


def _eval_pairs(model: Scorer, args: argparse.Namespace, source: str) -> tuple[dict[str, Any], list[Any]]:
    """Load one source and evaluate it as training does (pipeline.evaluate_dataset); print and return it."""
    from rewardlab.data import load_comparisons
    from rewardlab.pipeline import evaluate_dataset

    loaded = load_comparisons(source, format=args.format, split=args.split, on_invalid=args.on_invalid,
                              limit=args.limit, columns=parse_columns(args.columns))
    print(loaded.report.summary(), file=sys.stderr)
    trained_on = _warn_training_overlap(args.model, loaded.records)
    done = evaluate_dataset(model, loaded.records, batch_size=args.batch_size, precision=args.precision,
                            rewardbench=args.format == "rewardbench")
    print(done.render(f"Evaluation of {args.model} on {source}", skipped=loaded.report.skipped))
    return {"data_report": loaded.report.summary(), **done.to_dict(), "training_prompt_overlap": trained_on}, \
        done.pairs


def _eval_rewardbench2(model: Scorer, args: argparse.Namespace, source: str) -> dict[str, Any]:
    from rewardlab.eval.rewardbench2 import load_rewardbench2, rewardbench2_scores, score_rewardbench2
    from rewardlab.models.loading import BoundScorer

    records = load_rewardbench2(source, split=args.split)
    if args.limit:
        records = records[: args.limit]
    items = score_rewardbench2(BoundScorer(model, precision=args.precision), records, batch_size=args.batch_size)
    result = rewardbench2_scores(items).to_dict()
    from rewardlab.pipeline import render_rewardbench

    print(render_rewardbench(result, f"RewardBench 2 (best-of-n) on {source}"))
    return result


def _eval_suite(model: Scorer, args: argparse.Namespace) -> dict[str, Any]:
    from rewardlab.eval.suite_run import render_suite, run_suite
    from rewardlab.eval.suites import resolve_suite
    from rewardlab.models.loading import BoundScorer

    options = {"normalize": True} if model.metadata.get("normalization") else {}
    result = run_suite(BoundScorer(model, precision=args.precision), resolve_suite(args.suite),
                       batch_size=args.batch_size, score_options=options)
    print("\n" + render_suite(result))
    return result.to_dict()


def _cmd_audit(args: argparse.Namespace) -> int:
    from rewardlab.data.expand import expand_sources
    from rewardlab.models.loading import BoundScorer
    from rewardlab.pipeline.sources import audit_sources, pick_probes

    probes = pick_probes(args.probes)
    sources = expand_sources(args.data)
    model = _load_for_scoring(args.model, args.precision)
    loaded = [(source, _load_pairs(source, args)) for source in sources]
    out = audit_sources(BoundScorer(model, precision=args.precision), loaded, probes,
                        title=f"Reward-hacking audit of {args.model}", batch_size=args.batch_size,
                        max_pairs=args.max_pairs, seed=args.seed)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2, default=str) + "\n")
    return 0


def _load_pairs(source: str, args: argparse.Namespace) -> list[Any]:
    """One source's pairs as the data flags say, its data report on stderr, the training-overlap warning."""
    from rewardlab.data import load_comparisons

    loaded = load_comparisons(source, format=args.format, split=args.split, on_invalid=args.on_invalid,
                              limit=args.limit, columns=parse_columns(args.columns))
    print(loaded.report.summary(), file=sys.stderr)
    _warn_training_overlap(args.model, loaded.records)
    return loaded.records


def _cmd_overopt(args: argparse.Namespace) -> int:
    from rewardlab.config import load_config
    from rewardlab.overopt.config import OverOptConfig
    from rewardlab.overopt.study import render_study, run_study

    overrides = [*(args.set or []), *([f"proxy={args.proxy}"] if args.proxy else [])]
    cfg = load_config(OverOptConfig, args.config, overrides)
    out = Path(args.out or f"runs/overopt-{_stamp()}")
    rundir.prepare_run_dir(out, resume=False, overwrite=args.overwrite)
    result = run_study(cfg, out)
    print(render_study(result))
    from rewardlab.report.page import render_study_page

    study = json.loads((out / rundir.OVEROPT).read_text(encoding="utf-8"))
    rundir.write_text_atomic(out / rundir.REPORT, render_study_page(out, study))
    print(f"\nstudy: {out / rundir.OVEROPT}\nreport: {out / rundir.REPORT}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from rewardlab.report import write_report

    page = write_report(args.run_dir, args.out, extra_evals=args.eval or ())
    print(f"wrote {page}")
    return 0


def _cmd_score(args: argparse.Namespace) -> int:
    from rewardlab.pipeline.score_file import score_rows

    model = _scorer_for(args)
    t0 = time.perf_counter()
    rows, n = score_rows(model, args.data, batch_size=args.batch_size, precision=args.precision,
                         normalize=args.normalize, format=args.format, on_invalid=args.on_invalid,
                         columns=parse_columns(args.columns))
    Path(args.out).write_text("".join(json.dumps(r) + "\n" for r in rows))
    seconds = time.perf_counter() - t0
    print(f"scored {n} responses in {seconds:.1f}s ({n / max(seconds, 1e-9):.1f}/s) -> {args.out}")
    return 0


def _scorer_for(args: argparse.Namespace) -> Scorer:
    """The model to score with: a running server (``--server``; then DATA is the one positional) or a directory."""
    from rewardlab.data.sources import check_exists

    if args.server:
        from rewardlab.serve import RemoteScorer, ServeClient

        if args.data is not None:
            raise ConfigError("with --server give only DATA: the server holds the model")
        args.data = args.model
        return RemoteScorer(ServeClient(args.server, api_key=os.environ.get("REWARDLAB_API_KEY")))
    if args.data is None:
        raise ConfigError("give MODEL and DATA, or --server URL and DATA")
    check_exists(args.data)  # before the model loads
    return _load_for_scoring(args.model, args.precision)


def _cmd_serve(args: argparse.Namespace) -> int:
    from rewardlab.config import load_config
    from rewardlab.serve import ServeConfig, serve

    overrides = list(args.set or [])
    overrides += [f"host={args.host}"] if args.host is not None else []
    overrides += [f"port={args.port}"] if args.port is not None else []
    overrides += [f"precision={args.precision}"] if args.precision is not None else []
    serve(args.model, load_config(ServeConfig, args.config, overrides), log_level=args.log_level)
    return 0


def _config_keys() -> str:
    """Every run-config key with its default and help, for ``train --help`` and ``demo --help``."""
    from rewardlab.config_reference import cli_help
    from rewardlab.train.config import RunConfig

    return ("config keys (set in a --config YAML section or with --set section.key=value; docs/training.md):\n\n"
            + cli_help(RunConfig))


def _parser(keys_for: str | None = None) -> argparse.ArgumentParser:
    """The CLI; ``keys_for`` (``train`` or ``demo``) adds the config keys to that verb's help, which
    imports the training stack, so only when that help is asked for."""
    p = argparse.ArgumentParser(prog="rewardlab", description="Train, evaluate and serve reward models.")
    p.add_argument("--version", action="version", version=f"rewardlab {__version__}")
    sub = p.add_subparsers(dest="verb", required=True)

    def run_opts(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--config", help="YAML run config (sections: model, data, synth, loss, train, eval, "
                        "lora, embedding, ensemble)")
        sp.add_argument("--set", action="append", metavar="KEY=VALUE", help="dotted override, e.g. train.lr=1e-4")
        sp.add_argument("--out", help="run directory")

    def keys(verb: str) -> dict[str, Any]:
        if keys_for != verb:
            return {}
        return {"epilog": _config_keys(), "formatter_class": argparse.RawDescriptionHelpFormatter}

    d = sub.add_parser("demo", help="synthetic world -> train -> evaluate -> verdict (the embedded defaults)",
                       **keys("demo"))
    run_opts(d)
    d.add_argument("--overwrite", action="store_true", help="replace what an earlier run wrote into --out")
    d.add_argument("--overopt-prompts", type=int, default=30, metavar="N",
                   help="prompts of the small over-optimization study of the trained model (0: skip it)")
    d.set_defaults(func=_cmd_demo)

    t = sub.add_parser("train", help="train a reward model", **keys("train"))
    run_opts(t)
    t.add_argument("--resume", action="store_true", help="continue the run in --out from its latest checkpoint "
                   "(without --config: with the run's saved config.yaml, --set applied on top)")
    t.add_argument("--overwrite", action="store_true", help="replace what an earlier run wrote into --out (a "
                   "non-empty --out is refused otherwise)")
    t.add_argument("--ensemble", type=int, metavar="K",
                   help="train K members with different seeds into one ensemble directory (= ensemble.members=K)")
    t.set_defaults(func=_cmd_train)

    s = sub.add_parser("synth", help="write a synthetic preference data set as JSONL")
    s.add_argument("--out", required=True, help="output directory")
    s.add_argument("--n-prompts", type=int)
    s.add_argument("--candidates-per-prompt", type=int)
    s.add_argument("--pairs-per-prompt", type=int)
    s.add_argument("--n-annotators", type=int)
    s.add_argument("--seed", type=int)
    s.add_argument("--families", help="comma-separated task families (default: all)")
    s.set_defaults(func=_cmd_synth)

    from rewardlab.data.formats import FORMATS

    formats = ["auto", *FORMATS]

    many = ("data files, globs ('llmbar/**/dataset.json'), folders of data files, save_to_disk folders or hub "
            "ids; several are reported each and in total")

    def data_opts(sp: argparse.ArgumentParser, nargs: str | None = None, extra_formats: tuple[str, ...] = ()) -> None:
        sp.add_argument("model", help="model directory")
        sp.add_argument("data", nargs=nargs,
                        help=many if nargs in ("*", "+") else "data file, save_to_disk folder or hub id")
        sp.add_argument("--format", default="auto", choices=[*formats, *extra_formats])
        sp.add_argument("--on-invalid", default="error", choices=["error", "skip"])
        sp.add_argument("--columns", metavar="FIELD=COLUMN,...",
                        help="read columns under other names, e.g. prompt=question,chosen=good,rejected=bad or "
                             "prompt=q,response_a=a,response_b=b,winner=winner (docs/data.md)")
        sp.add_argument("--batch-size", type=int, default=64)
        sp.add_argument("--precision", default="auto", choices=PRECISIONS)

    e = sub.add_parser("eval", help="evaluate a reward model on pairwise data and/or a suite of expectations")
    data_opts(e, "*", extra_formats=("rewardbench2",))
    e.add_argument("--split", help="split of a Hugging Face data set")
    e.add_argument("--limit", type=int, help="read at most this many rows")
    e.add_argument("--suite", help="known-good/known-bad checks: a YAML or JSONL file, or builtin:synth")
    e.add_argument("--json", help="also write the full report as JSON here")
    e.set_defaults(func=_cmd_eval)

    a = sub.add_parser("audit", help="bias probes: padding, markdown, hedging, sycophancy, repetition, length")
    data_opts(a, "+")
    a.add_argument("--split", help="split of a Hugging Face data set")
    a.add_argument("--limit", type=int, help="read at most this many rows")
    a.add_argument("--max-pairs", type=int, default=300, help="audit a seeded sample of this many non-tie pairs")
    a.add_argument("--probes", help="comma-separated probe names (default: all)")
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--json", help="also write the audit as JSON here (the report's audit.json)")
    a.set_defaults(func=_cmd_audit)

    r = sub.add_parser("report", help="write a run directory's self-contained HTML report")
    r.add_argument("run_dir", help="a run directory (from train or demo)")
    r.add_argument("--out", help="output file (default RUN_DIR/report.html)")
    r.add_argument("--eval", action="append", metavar="EVAL_JSON",
                   help="include a `rewardlab eval --json` file (e.g. PandaLM, LLMBar results); repeatable")
    r.set_defaults(func=_cmd_report)

    sc = sub.add_parser("score", help="score responses (or both sides of pairs) to JSONL, in input order")
    data_opts(sc, "?")
    sc.add_argument("--out", required=True, help="output JSONL")
    sc.add_argument("--normalize", action="store_true", help="apply the model's saved reward statistics")
    sc.add_argument("--server", metavar="URL", help="score through a running `rewardlab serve` and give only "
                    "DATA (the API key from REWARDLAB_API_KEY)")
    sc.set_defaults(func=_cmd_score)

    o = sub.add_parser("overopt", help="over-optimization study: best-of-n and KL-regularized policies, proxy vs "
                       "gold, conservative ensembles (docs/overopt.md)")
    o.add_argument("proxy", nargs="?", help="the reward model under study: a model directory or a server URL")
    o.add_argument("--config", help="YAML study config (docs/overopt.md)")
    o.add_argument("--set", action="append", metavar="KEY=VALUE", help="override, e.g. n=2000 or gold=file")
    o.add_argument("--out", help="run directory for overopt.json (default runs/overopt-STAMP)")
    o.add_argument("--overwrite", action="store_true", help="replace what an earlier study wrote into --out")
    o.set_defaults(func=_cmd_overopt)

    sv = sub.add_parser("serve", help="serve a reward model over HTTP with dynamic batching (docs/serve.md)")
    sv.add_argument("model", help="model directory")
    sv.add_argument("--host", help="bind address (default 127.0.0.1; API keys from REWARDLAB_API_KEYS)")
    sv.add_argument("--port", type=int, help="port (default 8000)")
    sv.add_argument("--precision", choices=PRECISIONS,
                    help="default auto: bf16 where the hardware runs it natively (as `score`), else fp32")
    sv.add_argument("--config", help="YAML file of ServeConfig fields")
    sv.add_argument("--set", action="append", metavar="KEY=VALUE",
                    help="ServeConfig override, e.g. on_overlong=truncate or max_wait_ms=2")
    sv.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    sv.set_defaults(func=_cmd_serve)
    return p


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
    parser = _parser(helped)
    unknown = _unknown_verb(parser, argv)
    if unknown:
        print(f"rewardlab: error: {unknown}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except RewardLabError as exc:
        print(f"rewardlab {args.verb}: error: {exc.render(_spell(args.verb))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rewardlab {args.verb}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
