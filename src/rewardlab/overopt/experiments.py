"""Two experiments on the synthetic world with the lab's own (frozen-embedding) proxies.

**Scaling** (:func:`scaling_study`): one proxy per (label budget, label noise); for each, the
best-of-n fit's α, β and peak d*, the observed peak n and the gold lost past it. Gao et al.
found that more data (and larger models) push the peak out and lose less gold.

**Iterated reward-model updates** (:func:`iterated_updates`; the seed texts' "retrain the
reward model on outputs from the current policy"): each round takes the best-of-``n_op``
policy's picks on a separate set of *labelling* prompts (indices from 200000, never the
study's), pairs each pick with a best-of-4 pick of the same prompt, has a simulated annotator
of ``pool`` label the pair, adds the labels to the proxy's training data, and retrains.
The study's prompts then measure, round by round, the gold at the largest n and where the
peak moves. New labels come from ``pool`` (default: the world's mixed pool, whose
majority is unbiased), while the first proxy learnt from the biased pool: the setting where
fresh labels on the policy's own outputs can correct what the policy found to exploit.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from rewardlab.data.records import Comparison
from rewardlab.errors import ConfigError
from rewardlab.overopt.analysis import Findings, analyse
from rewardlab.overopt.bon import bon_pick
from rewardlab.overopt.candidates import CandidateSet, synth_candidates
from rewardlab.overopt.proxies import ProxyTrainConfig, train_proxies
from rewardlab.overopt.scoring import open_scorers, score_candidates

__all__ = ["IterateConfig", "ScalingConfig", "iterated_updates", "scaling_study"]


@dataclass(frozen=True)
class ScalingConfig:
    """Label budgets × label-noise levels, one proxy each (``scaling.*``; empty budgets: skipped)."""

    budgets: tuple[int, ...] = (250, 1000, 4000)
    noises: tuple[float, ...] = (1.0,)

    def __post_init__(self) -> None:
        if any(b < 20 for b in self.budgets):
            raise ConfigError(f"scaling.budgets must be >= 20 pairs each, got {list(self.budgets)}")
        if any(not 0.05 <= x <= 20 for x in self.noises):
            raise ConfigError(f"scaling.noises must be in [0.05, 20], got {list(self.noises)}")


@dataclass(frozen=True)
class IterateConfig:
    """Rounds of labelling the best-of-n policy's outputs and retraining (``iterate.*``; 0 rounds: skipped)."""

    rounds: int = 3
    prompts: int = 100  # labelling prompts (separate from the study's)
    n: int = 300  # samples per labelling prompt
    n_op: int = 128  # the best-of-n policy whose picks are labelled
    pairs_per_prompt: int = 2  # new labels per labelling prompt and round
    pool: Literal["default", "biased"] = "default"  # the annotators who label the picks

    def __post_init__(self) -> None:
        if self.rounds < 0 or self.prompts < 1 or self.pairs_per_prompt < 1:
            raise ConfigError("iterate.rounds must be >= 0, iterate.prompts and iterate.pairs_per_prompt >= 1")
        if not 2 <= self.n_op <= self.n:
            raise ConfigError(f"iterate.n_op must be in 2..iterate.n ({self.n}), got {self.n_op}")


@dataclass(frozen=True)
class Context:
    """What every proxy of an experiment is measured on."""

    cands: CandidateSet
    gold: list[np.ndarray]
    ns: list[int]
    precision: str
    batch_size: int
    cache_dir: Path | None
    bootstrap: int
    seed: int


def _proxy(train: ProxyTrainConfig, out: Path, ctx: Context, name: str,
           extra: list[Comparison] | None = None) -> tuple[Findings, Any]:
    (path,) = train_proxies(replace(train, members=1), out, extra=extra, log=lambda _: None)
    (scorer,) = open_scorers(path, precision=ctx.precision, batch_size=ctx.batch_size)
    scores, _ = score_candidates(scorer, ctx.cands, ctx.cache_dir)
    return analyse(name, scores, ctx.gold, ctx.ns, bootstrap=ctx.bootstrap, seed=ctx.seed), scorer


def _row(f: Findings) -> dict[str, Any]:
    fit = f.bon_fit
    return {"alpha": fit.alpha, "beta": fit.beta, "fit_r2": fit.r2, "fit_d_peak": fit.d_peak,
            "fit_reason": fit.reason, "peak_n": f.peak_n, "peak_kl": f.peak_kl, "peak_d": math.sqrt(f.peak_kl),
            "gold_at_peak": f.gold_at_peak, "gold_at_max_n": f.gold_at_max, "gold_lost": f.gold_lost,
            "turns_down": f.turns_down}


def scaling_study(train: ProxyTrainConfig, scaling: ScalingConfig, ctx: Context, out: Path,
                  log: Callable[[str], Any]) -> list[dict[str, Any]]:
    """One row per (budget, noise): the fits and the observed peak of a proxy trained on that many labels."""
    rows = []
    for budget in scaling.budgets:
        for noise in scaling.noises:
            prompts = max(train.n_prompts, math.ceil(budget / 2.5) + 50)  # ~2.8 non-tie pairs per prompt
            cell = replace(train, pairs=budget, noise=noise, n_prompts=prompts)
            f, _ = _proxy(cell, out / f"scaling-{budget}-noise{noise:g}", ctx, f"{budget} pairs, noise {noise:g}")
            row = {"budget": budget, "noise": noise, **_row(f)}
            d_star = "none" if f.bon_fit.d_peak is None else f"{f.bon_fit.d_peak:.2f}"
            log(f"scaling: {budget} pairs, noise {noise:g}: peak n {f.peak_n}, gold at peak {f.gold_at_peak:.3f}, "
                f"lost {f.gold_lost:.3f}, fitted d* {d_star}")
            rows.append(row)
    return rows


def _label_round(label_set: CandidateSet, proxy: Sequence[np.ndarray], it: IterateConfig, annotators: Sequence[Any],
                 seed: int) -> list[Comparison]:
    from rewardlab.synth.annotators import judge_pair
    from rewardlab.synth.candidates import Candidate

    rng = np.random.default_rng(seed)
    judge_rng = random.Random(f"rewardlab.overopt/iterate/{seed}")
    out = []
    for pc, scores in zip(label_set.prompts, proxy):
        assert pc.attributes is not None and pc.gold is not None
        for _ in range(it.pairs_per_prompt):
            a, b = bon_pick(scores, it.n_op, rng), bon_pick(scores, min(4, pc.n), rng)
            if pc.responses[a] == pc.responses[b]:
                continue
            ca = Candidate(f"{pc.prompt_id}-{a}", pc.responses[a], pc.attributes[a], pc.gold[a])
            cb = Candidate(f"{pc.prompt_id}-{b}", pc.responses[b], pc.attributes[b], pc.gold[b])
            ann = judge_rng.choice(list(annotators))
            judged = judge_pair(ann, ca, cb, judge_rng)
            if judged.tie:
                continue
            win, lose = (ca, cb) if judged.first_wins else (cb, ca)
            out.append(Comparison(prompt=str(pc.prompt), chosen=win.text, rejected=lose.text, annotator=ann.id,
                                  gold_chosen=win.gold, gold_rejected=lose.gold, prompt_id=pc.prompt_id,
                                  subset=pc.family))
    return out


def iterated_updates(train: ProxyTrainConfig, it: IterateConfig, ctx: Context, out: Path, *,
                     policy: Any, log: Callable[[str], Any]) -> list[dict[str, Any]]:
    """Round 0 is the proxy as trained; each later round adds labels of the previous round's picks and retrains."""
    from rewardlab.synth import SynthConfig, generate_world

    label_set = synth_candidates(n_prompts=it.prompts, n=it.n, seed=ctx.seed, policy=policy, first_prompt=200_000)
    annotators = generate_world(SynthConfig(n_prompts=1, pool=it.pool, seed=ctx.seed, noise=train.noise)).annotators
    extra: list[Comparison] = []
    rows = []
    for r in range(it.rounds + 1):
        f, scorer = _proxy(train, out / f"round-{r}", ctx, f"round {r}", extra)
        row = {"round": r, "policy_labels": len(extra), **_row(f)}
        log(f"iterate: round {r} ({len(extra)} labels of policy outputs in training): gold at n = {ctx.ns[-1]} "
            f"{f.gold_at_max:.3f}, peak n {f.peak_n}, lost {f.gold_lost:.3f}")
        rows.append(row)
        if r < it.rounds:
            scores, _ = score_candidates(scorer, label_set, ctx.cache_dir)
            extra = extra + _label_round(label_set, scores, it, annotators, ctx.seed * 1000 + r)
    return rows
