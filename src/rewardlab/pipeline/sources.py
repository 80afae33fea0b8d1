"""``rewardlab eval`` and ``rewardlab audit``: a model on data sources, one or several at once.

Both verbs accept files, globs and folders; these functions return what the commands print and
write: one result per source and, with several, the total over all their pairs at the top level of
the JSON with each source under ``files``. :func:`run_eval` and :func:`run_audit` are the verbs
whole; the others are their parts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rewardlab.audit import DEFAULT_PROBES, Probe, render_audit, run_probes
from rewardlab.data.expand import expand_sources
from rewardlab.data.records import Comparison
from rewardlab.errors import ConfigError
from rewardlab.eval import ScoredPair, evaluate_scores, render_report
from rewardlab.eval.render import render_sources
from rewardlab.models.loading import BoundScorer
from rewardlab.pipeline.after_training import evaluate_suite
from rewardlab.pipeline.evaluation import evaluate_dataset, evaluate_rewardbench2, render_rewardbench
from rewardlab.pipeline.inputs import DataOptions, load_for_scoring, load_source
from rewardlab.scoring import RewardScorer

__all__ = ["audit_sources", "evaluate_sources", "pick_probes", "run_audit", "run_eval"]

#: (source name, its pairs) for each source.
Loaded = Sequence[tuple[str, Sequence[Comparison]]]


def run_eval(model_dir: str, data: Sequence[str], options: DataOptions, *, suite: str | None = None,
             precision: str = "auto", batch_size: int = 64, log: Callable[[str], Any] = print) -> dict[str, Any]:
    """Evaluate the model in ``model_dir`` on the ``data`` sources and/or a ``suite``; the eval JSON.

    ``options.format == "rewardbench2"`` reads one RewardBench 2 data set and scores it best-of-n.
    """
    from rewardlab.eval.suite_run import render_suite

    if not data and not suite:
        raise ConfigError("give a data file to evaluate on, --suite FILE (or builtin:synth), or both")
    sources = expand_sources(data) if data else []
    if options.format == "rewardbench2" and len(sources) > 1:
        raise ConfigError(f"--format rewardbench2 reads one data set at a time; got {len(sources)}: {sources}")
    model = load_for_scoring(model_dir, precision)
    payload: dict[str, Any] = {"model": str(model_dir)}
    if sources:
        payload["data"] = sources[0] if len(sources) == 1 else sources
    if sources and options.format == "rewardbench2":
        payload["rewardbench2"] = evaluate_rewardbench2(BoundScorer(model, precision=precision), sources[0],
                                                        split=options.split, limit=options.limit,
                                                        batch_size=batch_size)
        log(render_rewardbench(payload["rewardbench2"], f"RewardBench 2 (best-of-n) on {sources[0]}"))
    elif sources:
        payload.update(evaluate_sources(model, sources, options, model_dir=model_dir, batch_size=batch_size,
                                        precision=precision, log=log))
    if suite:
        result = evaluate_suite(model, suite, precision=precision, batch_size=batch_size)
        log("\n" + render_suite(result))
        payload["suite"] = result.to_dict()
    return payload


def run_audit(model_dir: str, data: Sequence[str], options: DataOptions, *, probes: str | None = None,
              precision: str = "auto", batch_size: int = 64, max_pairs: int = 300, seed: int = 0,
              log: Callable[[str], Any] = print) -> dict[str, Any]:
    """Audit the model in ``model_dir`` with the named ``probes`` (all by default) on the ``data`` sources."""
    chosen = pick_probes(probes)  # an unknown probe fails before the model loads
    sources = expand_sources(data)
    model = load_for_scoring(model_dir, precision)
    loaded = [(source, load_source(source, options, model_dir)[0].records) for source in sources]
    return audit_sources(BoundScorer(model, precision=precision), loaded, chosen,
                         title=f"Reward-hacking audit of {model_dir}", batch_size=batch_size, max_pairs=max_pairs,
                         seed=seed, log=log)


def pick_probes(names: str | None) -> list[Probe]:
    """The probes named in a comma-separated list (all by default); ConfigError naming the unknown ones."""
    if not names:
        return list(DEFAULT_PROBES)
    wanted = [p.strip() for p in names.split(",") if p.strip()]
    known = {p.name: p for p in DEFAULT_PROBES}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise ConfigError(f"unknown probe(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    return [known[w] for w in wanted]


def audit_sources(scorer: RewardScorer, sources: Loaded, probes: Sequence[Probe], *, title: str, batch_size: int,
                  max_pairs: int, seed: int, log: Callable[[str], Any] = print) -> dict[str, Any]:
    """Audit each source (printing its table), then the total over all of them when there are several."""
    files, everything = [], []
    for name, records in sources:
        report = run_probes(scorer, records, probes, batch_size=batch_size, max_pairs=max_pairs, seed=seed)
        log(render_audit(report, title=f"{title} on {name}") + "\n")
        files.append({"data": name, **report.to_dict()})
        everything += list(records)
    if len(files) == 1:
        return files[0]
    total = run_probes(scorer, everything, probes, batch_size=batch_size, max_pairs=max_pairs, seed=seed)
    log(render_audit(total, title=f"{title}: total over {len(files)} sources"))
    return {**total.to_dict(), "files": files}


def evaluate_sources(scorer: RewardScorer, sources: Sequence[str], options: DataOptions, *, model_dir: str,
                     batch_size: int, precision: str, log: Callable[[str], Any] = print) -> dict[str, Any]:
    """Evaluate each source as training does (:func:`evaluate_dataset`), printing its report; the eval JSON.

    One source: its report. Several: each one's under ``files``, then the total over all their
    pairs at the top level.
    """
    files, everything = [], []
    for source in sources:
        out, pairs = _evaluate_source(scorer, source, options, model_dir=model_dir, batch_size=batch_size,
                                      precision=precision, log=log)
        if len(sources) == 1:
            return out
        files.append({"data": source, **out})
        everything += pairs
        log("")
    total = evaluate_scores(everything)
    log(render_sources(files, total))
    log("\n" + render_report(total, title=f"Total over {len(sources)} sources ({len(everything)} pairs)"))
    return {**total.to_dict(), "files": files}


def _evaluate_source(scorer: RewardScorer, source: str, options: DataOptions, *, model_dir: str, batch_size: int,
                     precision: str, log: Callable[[str], Any]) -> tuple[dict[str, Any], list[ScoredPair]]:
    loaded, trained_on = load_source(source, options, model_dir)
    done = evaluate_dataset(scorer, loaded.records, batch_size=batch_size, precision=precision,
                            rewardbench=options.format == "rewardbench")
    log(done.render(f"Evaluation of {model_dir} on {source}", skipped=loaded.report.skipped))
    return {"data_report": loaded.report.summary(), **done.to_dict(), "training_prompt_overlap": trained_on}, \
        done.pairs
