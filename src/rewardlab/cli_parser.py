"""The ``rewardlab`` command line's flags and their help: one sub-parser per verb.

``cli.py`` runs the verbs; this module only declares what each accepts. The choices (formats,
precisions) and the config keys in ``train --help`` come from where they are defined.
"""

from __future__ import annotations

import argparse
from typing import Any

from rewardlab import __version__
from rewardlab.precisions import PRECISIONS

__all__ = ["build_parser"]


def _config_keys() -> str:
    """Every run-config key with its default and help, for ``train --help`` and ``demo --help``."""
    from rewardlab.config_reference import cli_help
    from rewardlab.train.config import RunConfig

    return ("config keys (set in a --config YAML section or with --set section.key=value; docs/training.md):\n\n"
            + cli_help(RunConfig))


def build_parser(keys_for: str | None = None) -> argparse.ArgumentParser:
    """The CLI; ``keys_for`` (``train`` or ``demo``) adds the config keys to that verb's help, which
    imports the training stack, so only when that help is asked for."""
    p = argparse.ArgumentParser(prog="rewardlab", description="Train, evaluate and serve reward models.")
    p.add_argument("--version", action="version", version=f"rewardlab {__version__}")
    sub = p.add_subparsers(dest="verb", required=True)  # cli.VERBS runs each

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

    t = sub.add_parser("train", help="train a reward model", **keys("train"))
    run_opts(t)
    t.add_argument("--resume", action="store_true", help="continue the run in --out from its latest checkpoint "
                   "(without --config: with the run's saved config.yaml, --set applied on top)")
    t.add_argument("--overwrite", action="store_true", help="replace what an earlier run wrote into --out (a "
                   "non-empty --out is refused otherwise)")
    t.add_argument("--ensemble", type=int, metavar="K",
                   help="train K members with different seeds into one ensemble directory (= ensemble.members=K)")

    s = sub.add_parser("synth", help="write a synthetic preference data set as JSONL")
    s.add_argument("--out", required=True, help="output directory")
    s.add_argument("--n-prompts", type=int)
    s.add_argument("--candidates-per-prompt", type=int)
    s.add_argument("--pairs-per-prompt", type=int)
    s.add_argument("--n-annotators", type=int)
    s.add_argument("--seed", type=int)
    s.add_argument("--families", help="comma-separated task families (default: all)")
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

    a = sub.add_parser("audit", help="bias probes: padding, markdown, hedging, sycophancy, repetition, length")
    data_opts(a, "+")
    a.add_argument("--split", help="split of a Hugging Face data set")
    a.add_argument("--limit", type=int, help="read at most this many rows")
    a.add_argument("--max-pairs", type=int, default=300, help="audit a seeded sample of this many non-tie pairs")
    a.add_argument("--probes", help="comma-separated probe names (default: all)")
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--json", help="also write the audit as JSON here (the report's audit.json)")

    r = sub.add_parser("report", help="write a run directory's self-contained HTML report")
    r.add_argument("run_dir", help="a run directory (from train or demo)")
    r.add_argument("--out", help="output file (default RUN_DIR/report.html)")
    r.add_argument("--eval", action="append", metavar="EVAL_JSON",
                   help="include a `rewardlab eval --json` file (e.g. PandaLM, LLMBar results); repeatable")

    sc = sub.add_parser("score", help="score responses (or both sides of pairs) to JSONL, in input order")
    data_opts(sc, "?")
    sc.add_argument("--out", required=True, help="output JSONL")
    sc.add_argument("--normalize", action="store_true", help="apply the model's saved reward statistics")
    sc.add_argument("--server", metavar="URL", help="score through a running `rewardlab serve` and give only "
                    "DATA (the API key from REWARDLAB_API_KEY)")

    o = sub.add_parser("overopt", help="over-optimization study: best-of-n and KL-regularized policies, proxy vs "
                       "gold, conservative ensembles (docs/overopt.md)")
    o.add_argument("proxy", nargs="?", help="the reward model under study: a model directory or a server URL")
    o.add_argument("--config", help="YAML study config (docs/overopt.md)")
    o.add_argument("--set", action="append", metavar="KEY=VALUE", help="override, e.g. n=2000 or gold=file")
    o.add_argument("--out", help="run directory for overopt.json (default runs/overopt-STAMP)")
    o.add_argument("--overwrite", action="store_true", help="replace what an earlier study wrote into --out")

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
    return p
