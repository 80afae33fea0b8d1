"""The study: candidates → scores (proxy, ensemble members, gold) → curves, fits, rules → ``overopt.json``.

:func:`run_study` is what ``rewardlab overopt`` runs. It reads or generates the candidates,
scores them with every scorer of the proxy (an ensemble's members one by one, through the
score cache), takes the gold from the synthetic world, the candidates file or a gold model,
and analyses the proxy (for an ensemble: its saved aggregate) and each conservative rule.
``overopt.json`` (documented in docs/overopt.md) is the one machine-readable result.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rewardlab import rundir
from rewardlab.errors import ConfigError, DataError
from rewardlab.overopt.analysis import Findings, aggregate_members, analyse, verdict
from rewardlab.overopt.bon import log_spaced_ns
from rewardlab.overopt.candidates import CandidateSet, load_candidates, synth_candidates
from rewardlab.overopt.config import OverOptConfig
from rewardlab.overopt.early_stop import early_stop
from rewardlab.overopt.experiments import Context, iterated_updates, scaling_study
from rewardlab.overopt.laplace import fit_laplace, pair_embeddings
from rewardlab.overopt.proxies import member_pairs, train_proxies, training_pairs
from rewardlab.overopt.scoring import CachedScorer, open_scorers, score_candidates
from rewardlab.overopt.tilted import default_betas

__all__ = ["OVEROPT_FILE", "StudyResult", "run_study"]

OVEROPT_FILE = rundir.OVEROPT
FORMAT_VERSION = 1


@dataclass
class StudyResult:
    """What the study found: findings per scorer, the verdict, and how the scoring went."""

    candidates: dict[str, Any]
    findings: dict[str, Findings]
    primary: str
    verdict: dict[str, Any]
    early_stopping: dict[str, Any] = field(default_factory=dict)
    scaling: list[dict[str, Any]] = field(default_factory=list)
    iterate: list[dict[str, Any]] = field(default_factory=list)
    scoring: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"format_version": FORMAT_VERSION, "candidates": self.candidates, "primary": self.primary,
                "verdict": self.verdict, "early_stopping": self.early_stopping, "scaling": self.scaling,
                "iterate": self.iterate,
                "scorers": {k: f.to_dict() for k, f in self.findings.items()},
                "rows": self.rows(), "scoring": self.scoring, "config": self.config}

    def rows(self) -> list[dict[str, Any]]:
        """The side-by-side table: gold at the largest n, peak n*, gold lost past the peak, per scorer."""
        return [{"scorer": k, "gold_at_max_n": f.gold_at_max, "peak_n": f.peak_n, "peak_kl": f.peak_kl,
                 "gold_at_peak": f.gold_at_peak, "gold_lost": f.gold_lost, "turns_down": f.turns_down,
                 "fit_d_peak": f.bon_fit.d_peak, "fit_r2": f.bon_fit.r2}
                for k, f in self.findings.items()]


def _candidates(cfg: OverOptConfig) -> CandidateSet:
    if cfg.candidates == "synth":
        return synth_candidates(n_prompts=cfg.n_prompts, n=cfg.n, seed=cfg.seed, policy=cfg.policy,
                                wordings=cfg.wordings)
    return load_candidates(cfg.candidates)


def _gold(cfg: OverOptConfig, cands: CandidateSet, log: Callable[[str], Any],
          score: Callable[[CachedScorer, str], list[np.ndarray]]) -> list[np.ndarray]:
    if cfg.gold in ("synth", "file"):
        if not cands.has_gold:
            where = "the synthetic world" if cfg.candidates == "synth" else f"{cands.source} (a 'gold' on every row)"
            raise DataError(f"gold={cfg.gold} needs gold scores from {where}; or set gold to a model directory")
        return [np.asarray(p.gold, dtype=np.float64) for p in cands.prompts]
    scorers = open_scorers(cfg.gold, precision=cfg.precision, batch_size=cfg.batch_size)
    if len(scorers) > 1:
        log(f"gold {cfg.gold} is an ensemble: its members' mean (standardised) is the gold")
        members = [score(s, f"gold {s.name}") for s in scorers]
        return aggregate_members(members, "mean")
    return score(scorers[0], "gold")


def _proxy_scorers(cfg: OverOptConfig, out: Path | None, log: Callable[[str], Any]) -> list[CachedScorer]:
    if cfg.proxy is not None:
        return open_scorers(cfg.proxy, precision=cfg.precision, batch_size=cfg.batch_size)
    assert out is not None
    dirs = train_proxies(cfg.train, out / rundir.PROXY, log=log)
    scorers = []
    for k, d in enumerate(dirs):
        (scorer,) = open_scorers(d, precision=cfg.precision, batch_size=cfg.batch_size)
        scorer.name = f"member-{k}"
        scorers.append(scorer)
    return scorers


def _experiments(cfg: OverOptConfig, out: Path | None, cands: CandidateSet, gold: list[np.ndarray], ns: list[int],
                 log: Callable[[str], Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    auto = cfg.proxy is None and cfg.candidates == "synth" and cfg.gold == "synth"
    if cfg.experiments is False or (cfg.experiments is None and not auto) or out is None:
        return [], []
    ctx = Context(cands, gold, ns, cfg.precision, cfg.batch_size, Path(cfg.cache_dir) if cfg.cache_dir else None,
                  cfg.bootstrap, cfg.seed)
    root = out / rundir.PROXY
    scaling = scaling_study(cfg.train, cfg.scaling, ctx, root, log) if cfg.scaling.budgets else []
    iterate = iterated_updates(cfg.train, cfg.iterate, ctx, root, policy=cfg.policy, log=log) \
        if cfg.iterate.rounds else []
    return scaling, iterate


def _laplace_scores(cfg: OverOptConfig, out: Path | None, cands: CandidateSet,
                    log: Callable[[str], Any]) -> list[np.ndarray] | None:
    """r − κ·std under a last-layer Laplace posterior of the default proxy's first member (None: not applicable)."""
    if cfg.laplace_kappa is None or cfg.proxy is not None or out is None:
        return None
    from rewardlab.models.embedding_model import EmbeddingRewardModel
    from rewardlab.models.precision import resolve_precision

    model = EmbeddingRewardModel.from_pretrained(out / rundir.PROXY / "member-0")
    precision = resolve_precision(cfg.precision, model.embedder.device)
    pairs = member_pairs(cfg.train, training_pairs(cfg.train), 0)
    chosen, rejected = pair_embeddings(model, pairs)  # the candidates below: at the scoring precision
    posterior = fit_laplace(model.head, chosen, rejected, prior_precision=cfg.laplace_prior)
    out_scores = []
    for pc in cands.prompts:
        unique = list(dict.fromkeys(pc.responses))
        emb = model.embed([pc.prompt] * len(unique), unique, precision=precision)
        value = dict(zip(unique, posterior.conservative(emb, cfg.laplace_kappa)))
        out_scores.append(np.array([value[r] for r in pc.responses]))
    log(f"laplace: last-layer posterior of member-0 from {len(pairs)} pairs; scores r - {cfg.laplace_kappa:g}*std")
    return out_scores


def run_study(cfg: OverOptConfig, out: Path | None = None, *, log: Callable[[str], Any] = print,
              progress: bool = True) -> StudyResult:
    """Run the whole study ``cfg`` describes; write ``overopt.json`` into ``out`` when given."""
    from tqdm.auto import tqdm

    if cfg.proxy is None and out is None:
        raise ConfigError("the default proxy is trained into the study's directory: give out (--out), or set "
                          "proxy to a model directory or server URL")
    t0 = time.perf_counter()
    cands = _candidates(cfg)
    for note in cands.notes:
        log(note)
    n_max = min(cands.min_n, cfg.n_max or cands.min_n)
    ns = log_spaced_ns(n_max, cfg.points)
    cache_dir = Path(cfg.cache_dir) if cfg.cache_dir else None
    scoring: dict[str, Any] = {"per_scorer": {}}

    def score(scorer: CachedScorer, label: str) -> list[np.ndarray]:
        started = time.perf_counter()
        with tqdm(total=cands.distinct(), desc=f"score {label}", unit="input", disable=not progress,
                  leave=False) as bar:
            arrays, counts = score_candidates(scorer, cands, cache_dir, progress=bar.update)
        seconds = time.perf_counter() - started
        scoring["per_scorer"][label] = {**counts, "seconds": seconds, "id": scorer.id, **scorer.info}
        log(f"{label}: {counts['distinct']} distinct inputs, {counts['cached']} from the cache, {counts['scored']} "
            f"scored in {seconds:.1f} s")
        return arrays

    gold = _gold(cfg, cands, log, score)
    scorers = _proxy_scorers(cfg, out, log)
    members = [score(s, f"proxy {s.name}") for s in scorers]
    sources: dict[str, list[np.ndarray]] = {}
    if len(members) == 1:
        sources["proxy"] = members[0]
    else:
        for rule in cfg.rules:
            sources[f"ensemble:{rule}"] = aggregate_members(members, rule, cfg.lam)
        for k, m in enumerate(members[: cfg.show_members]):
            sources[f"member-{k}"] = m
    laplace = _laplace_scores(cfg, out, cands, log)
    if laplace is not None:
        sources[f"laplace:kappa={cfg.laplace_kappa:g}"] = laplace
    primary = "proxy" if "proxy" in sources else f"ensemble:{cfg.rules[0]}"
    betas = default_betas([s.tolist() for s in sources[primary]], cfg.points)
    findings = {name: analyse(name, scores, gold, ns, bootstrap=cfg.bootstrap, seed=cfg.seed, betas=betas)
                for name, scores in sources.items()}
    stops = {str(b): early_stop(sources[primary], gold, b, seed=cfg.seed) for b in cfg.spot_checks}
    early = {"scorer": primary, "oracle_peak_n": findings[primary].peak_n,
             "budgets": {b: {**s.to_dict(), "line": s.line()} for b, s in stops.items()}}
    scaling, iterate = _experiments(cfg, out, cands, gold, ns, log)
    scoring["seconds"] = time.perf_counter() - t0
    samples = sum(p.n for p in cands.prompts)
    scoring["samples_per_second"] = samples * len(members) / max(scoring["seconds"], 1e-9)
    from rewardlab.config import config_to_dict

    result = StudyResult(candidates=cands.summary(), findings=findings, primary=primary,
                         verdict=verdict(findings[primary]), early_stopping=early, scaling=scaling,
                         iterate=iterate, scoring=scoring,
                         config=config_to_dict(cfg))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        rundir.write_json(out / OVEROPT_FILE, result.to_dict())
    return result


def render_study(result: StudyResult) -> str:
    """The console summary: one row per scorer, then the verdict."""
    lines = ["Over-optimization (best-of-n against the proxy; gold = the true quality)",
             f"  {'scorer':<24} {'gold@n=1':>9} {'peak n':>7} {'gold@peak':>10} {'gold@max n':>11} {'lost':>7}"]
    for name, f in result.findings.items():
        lines.append(f"  {name:<24} {f.bon.gold[0]:9.3f} {f.peak_n:7d} {f.gold_at_peak:10.3f} {f.gold_at_max:11.3f} "
                     f"{f.gold_lost:7.3f}{'  *' if f.turns_down else ''}")
    lines.append("  (* the gold falls significantly past its peak; 95% paired prompt bootstrap)")
    lines.append(f"verdict: {result.verdict['line']}")
    if result.verdict.get("kl_budget"):
        lines.append(f"  RL with a KL penalty: {result.verdict['kl_budget']['line']}")
    for stop in result.early_stopping.get("budgets", {}).values():
        lines.append(f"  early stopping {stop['line']}")
    if result.scaling:
        lines.append("Scaling (one proxy per label budget and noise): " + "; ".join(
            f"{r['budget']} pairs/noise {r['noise']:g}: peak n {r['peak_n']}, lost {r['gold_lost']:.3f}"
            for r in result.scaling))
    if result.iterate:
        lines.append("Iterated updates: " + "; ".join(
            f"round {r['round']}: gold at max n {r['gold_at_max_n']:.3f}, peak n {r['peak_n']}"
            for r in result.iterate))
    return "\n".join(lines)
