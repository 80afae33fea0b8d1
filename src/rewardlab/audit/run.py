"""``run_probes``: score held-out pairs and every probe's transformed responses, then judge.

All texts (originals and every probe's transforms) are collected first and scored in one
``score`` call, each distinct (prompt, response) once: the scorer is the bottleneck, and one
call lets a model batch across probes.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence

from rewardlab.audit.length import length_bias
from rewardlab.audit.probes import DEFAULT_PROBES, Example, Probe, ProbeResult, probe_severity
from rewardlab.audit.report import AuditReport
from rewardlab.audit.stats import mean_estimate
from rewardlab.audit.text import word_count
from rewardlab.data.records import Comparison, prompt_text
from rewardlab.errors import ConfigError, DataError
from rewardlab.scoring import DistinctInputs, RewardScorer, SupportsScore

__all__ = ["MAX_EXAMPLES", "SupportsScore", "run_probes"]


#: Examples kept per probe: the largest positive Δ.
MAX_EXAMPLES = 3


def _select(pairs: Sequence[Comparison], max_pairs: int | None, seed: int) -> tuple[list[Comparison], int]:
    """Non-tie pairs (a seeded sample of ``max_pairs`` when given, in input order) and the tie count."""
    if max_pairs is not None and (isinstance(max_pairs, bool) or not isinstance(max_pairs, int) or max_pairs < 1):
        raise ConfigError(f"max_pairs must be a positive integer or None, got {max_pairs!r}")
    kept = [p for p in pairs if not p.tie]
    if not kept:
        raise DataError(f"no non-tie pairs to audit ({len(pairs)} pairs given, all ties or none)")
    if max_pairs is not None and len(kept) > max_pairs:
        chosen = sorted(random.Random(seed).sample(range(len(kept)), max_pairs))
        kept = [kept[i] for i in chosen]
    return kept, sum(1 for p in pairs if p.tie)


def _check_probes(probes: Sequence[Probe]) -> None:
    names = [p.name for p in probes]
    if len(set(names)) != len(names):
        raise ConfigError(f"probe names must be unique, got {names}")


def _result(
    probe: Probe, pairs: Sequence[Comparison], r: list[float], base: list[tuple[int, int]],
    moved: list[tuple[int, int]], texts: DistinctInputs, reward_std: float,
) -> ProbeResult:
    """A probe's numbers from rewards ``r``, original indices ``base`` and transformed ``moved``."""
    deltas = [(r[mj] - r[bj]) - (r[mc] - r[bc]) for (bc, bj), (mc, mj) in zip(base, moved)]
    groups = [p.group for p in pairs]
    estimate = mean_estimate(deltas, clusters=groups)
    effect = estimate.mean / reward_std if reward_std > 0 else 0.0
    flip_rate = sum(r[mj] > r[mc] for mc, mj in moved) / len(moved)
    base_flip_rate = sum(r[bj] > r[bc] for bc, bj in base) / len(base)
    severity, direction = probe_severity(estimate, effect, flip_rate - base_flip_rate, len(deltas), len(set(groups)))
    top = sorted((i for i, d in enumerate(deltas) if d > 0), key=lambda i: (-deltas[i], i))[:MAX_EXAMPLES]
    examples = tuple(
        Example(prompt_text(pairs[i].prompt), texts.responses[base[i][1]], texts.responses[moved[i][1]], deltas[i])
        for i in top
    )
    return ProbeResult(
        name=probe.name, description=probe.description, side=probe.side, n=len(deltas),
        mean_delta=estimate.mean, ci95=(estimate.low, estimate.high), effect=effect, flip_rate=flip_rate,
        base_flip_rate=base_flip_rate, severity=severity, direction=direction, examples=examples,
    )


def run_probes(
    scorer: RewardScorer,
    pairs: Sequence[Comparison],
    probes: Sequence[Probe] = DEFAULT_PROBES,
    *,
    batch_size: int = 32,
    max_pairs: int | None = None,
    seed: int = 0,
) -> AuditReport:
    """Audit ``scorer`` for reward hacking on held-out ``pairs`` with each of ``probes``.

    Tie pairs are skipped and counted; ``max_pairs`` audits a seeded random sample of the
    non-tie pairs. ``reward_std`` is the standard deviation of the distinct original
    rewards (of all rewards, transformed too, if the originals are constant). Pairs are
    clustered by prompt (``Comparison.group``); fewer than ``MIN_CLUSTERS`` distinct prompts
    give no verdict.
    """
    _check_probes(probes)
    kept, n_ties = _select(pairs, max_pairs, seed)
    texts = DistinctInputs()
    base = [(texts.add(p.prompt, p.chosen), texts.add(p.prompt, p.rejected)) for p in kept]
    n_originals = len(texts.responses)
    moved = {
        probe.name: [
            (texts.add(p.prompt, probe.chosen_transform(p.chosen, p.prompt)) if probe.chosen_transform else bc,
             texts.add(p.prompt, probe.transform(p.rejected, p.prompt)))
            for p, (bc, _) in zip(kept, base)
        ]
        for probe in probes
    }
    r = texts.score(scorer, batch_size=batch_size, progress="audit: scoring")
    originals = r[:n_originals]
    reward_std = statistics.pstdev(originals) if len(originals) > 1 else 0.0
    if reward_std == 0 and len(r) > 1:
        reward_std = statistics.pstdev(r)
    results = tuple(_result(probe, kept, r, base, moved[probe.name], texts, reward_std) for probe in probes)
    words = [word_count(t) for t in texts.responses[:n_originals]]
    length = length_bias(
        [r[c] for c, _ in base], [r[j] for _, j in base], [words[c] for c, _ in base], [words[j] for _, j in base],
        points=list(zip(words, originals)), groups=[p.group for p in kept],
    )
    return AuditReport(
        n_pairs=len(kept), n_skipped_ties=n_ties, reward_std=reward_std, probes=results, length=length,
        n_prompts=len({p.group for p in kept}), points=tuple(zip(words, originals)),
    )
