"""Simulated annotators: each one a Bradley-Terry judge with its own noise and biases.

Annotator A perceives a response's utility as ``u + b(A)``, where ``b`` is the annotator's
bias (some like length, some like markdown, some like being agreed with). Judging a pair,
A feels a difference ``d = Δ + T_A·ε`` with ``Δ`` the perceived-utility difference and
``ε`` standard logistic noise, so ``P(i ≻ j) = σ(Δ/T_A)`` (Bradley & Terry, 1952). A small
felt difference, ``|d| < τ_A``, is reported as a tie, which makes the labels follow
Rao & Kupper (1967): ``P(i ≻ j) = σ((Δ − τ)/T)``, ``P(tie) = 1 − σ((Δ − τ)/T) − σ((−Δ − τ)/T)``.
Rankings use the same scores with Gumbel noise, i.e. Plackett-Luce (Luce, 1959).
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass

from rewardlab.synth.candidates import Candidate
from rewardlab.synth.gold import GOOD_THRESHOLD

__all__ = ["ASPECTS", "Annotator", "PairJudgment", "judge_pair", "label", "make_pool", "rank", "rate"]

#: Keys of a multi-attribute rating; ``overall`` is always present, the rest may be missing.
ASPECTS = ("overall", "helpfulness", "correctness", "coherence", "verbosity")

#: Strength 2 from this felt margin beyond the tie threshold, strength 3 from twice it.
STRENGTH_STEP = 1.0

#: Length bias is measured from this many words, so a length lover rates a typical
#: response like anyone else and only longer (shorter) ones up (down).
REFERENCE_WORDS = 30

#: Likert cut points on perceived utility for the ``overall`` rating (1..5).
OVERALL_CUTS = (-0.75, 0.25, 1.25, 2.25)


@dataclass(frozen=True)
class Annotator:
    """One simulated annotator: noise ``temperature``, ``tie_threshold`` and biases.

    ``length_bias`` is per 10 words beyond :data:`REFERENCE_WORDS`; the other biases are
    added when a response has the attribute (``markdown``, ``hedging``, ``sycophancy``).
    """

    id: str
    style: str
    temperature: float
    tie_threshold: float
    length_bias: float = 0.0
    markdown_bias: float = 0.0
    hedging_bias: float = 0.0
    sycophancy_bias: float = 0.0

    def bias(self, c: Candidate) -> float:
        a = c.attributes
        return (
            self.length_bias * (c.n_words - REFERENCE_WORDS) / 10
            + self.markdown_bias * a.markdown
            + self.hedging_bias * a.hedging
            + self.sycophancy_bias * a.sycophancy
        )

    def perceived(self, c: Candidate) -> float:
        """The utility this annotator sees: gold plus own bias."""
        return c.gold + self.bias(c)

    def to_dict(self) -> dict[str, str | float]:
        return asdict(self)


# (style, temperature, tie threshold, biases): the default pool, cycled when n_annotators > 8.
_ARCHETYPES: tuple[tuple[str, float, float, dict[str, float]], ...] = (
    ("careful", 0.35, 0.15, {}),
    ("steady", 0.7, 0.25, {}),
    ("steady", 0.8, 0.2, {}),
    ("hurried", 1.6, 0.3, {}),
    ("length_lover", 0.7, 0.2, {"length_bias": 0.5}),
    ("markdown_lover", 0.7, 0.2, {"markdown_bias": 1.0}),
    ("agreeable", 0.7, 0.2, {"sycophancy_bias": 1.5}),
    ("skimmer", 1.0, 0.2, {"length_bias": 0.3, "markdown_bias": 0.5}),
)


# The ``biased`` pool (``SynthConfig.pool``): the same noise levels, but every annotator likes length
# and markdown to some degree, so their labels reward padding and formatting overall (gold does not).
# Mean length bias 0.55 per 10 words (gold's filler penalty is about 0.25 per 10 words), mean markdown
# bias 0.8. The world for auditing and length-debiasing benchmarks.
_BIASED_ARCHETYPES: tuple[tuple[str, float, float, dict[str, float]], ...] = (
    ("careful", 0.35, 0.15, {"length_bias": 0.4, "markdown_bias": 0.5}),
    ("steady", 0.7, 0.25, {"length_bias": 0.5, "markdown_bias": 0.8}),
    ("steady", 0.8, 0.2, {"length_bias": 0.4, "markdown_bias": 1.0}),
    ("hurried", 1.6, 0.3, {"length_bias": 0.6, "markdown_bias": 0.5}),
    ("length_lover", 0.7, 0.2, {"length_bias": 1.0, "markdown_bias": 0.3}),
    ("markdown_lover", 0.7, 0.2, {"length_bias": 0.3, "markdown_bias": 1.5}),
    ("agreeable", 0.7, 0.2, {"length_bias": 0.5, "markdown_bias": 0.5, "sycophancy_bias": 1.5}),
    ("skimmer", 1.0, 0.2, {"length_bias": 0.7, "markdown_bias": 0.8}),
)

POOLS = {"default": _ARCHETYPES, "biased": _BIASED_ARCHETYPES}


def make_pool(n: int, rng: random.Random, pool: str = "default", noise: float = 1.0) -> tuple[Annotator, ...]:
    """``n`` annotators cycling through the ``pool``'s archetypes, temperatures jittered by ±15% and scaled by
    ``noise``."""
    archetypes = POOLS[pool]
    out = []
    for i in range(n):
        style, temperature, tie, biases = archetypes[i % len(archetypes)]
        jitter = rng.uniform(0.85, 1.15)
        out.append(Annotator(f"ann-{i}", style, round(temperature * jitter * noise, 3), tie, **biases))
    return tuple(out)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def _logistic(rng: random.Random) -> float:
    u = min(max(rng.random(), 1e-12), 1 - 1e-12)
    return math.log(u / (1 - u))


@dataclass(frozen=True)
class PairJudgment:
    """One pairwise label: who won, tie, strength 1..3, and the model's probabilities.

    ``p_label`` is P(winner ≻ loser | no tie) under this annotator's true model, so
    ``max(p_label, 1 − p_label)`` is the best any predictor can agree with the label.
    """

    first_wins: bool
    tie: bool
    strength: int | None
    p_label: float
    p_tie: float


def judge_pair(ann: Annotator, first: Candidate, second: Candidate, rng: random.Random) -> PairJudgment:
    """Annotator ``ann`` compares ``first`` with ``second`` (Rao-Kupper with logistic noise)."""
    delta = ann.perceived(first) - ann.perceived(second)
    t, tau = ann.temperature, ann.tie_threshold
    felt = delta + t * _logistic(rng)
    p_first, p_second = _sigmoid((delta - tau) / t), _sigmoid((-delta - tau) / t)
    p_first_given = p_first / (p_first + p_second)
    first_wins = felt >= 0
    tie = abs(felt) < tau
    margin = abs(felt) - tau
    strength = None if tie else 1 + int(margin >= STRENGTH_STEP) + int(margin >= 2 * STRENGTH_STEP)
    return PairJudgment(
        first_wins=first_wins,
        tie=tie,
        strength=strength,
        p_label=p_first_given if first_wins else 1 - p_first_given,
        p_tie=max(0.0, 1 - p_first - p_second),
    )


def rank(ann: Annotator, candidates: tuple[Candidate, ...], rng: random.Random) -> list[int]:
    """Indices of ``candidates`` best first: Plackett-Luce via the Gumbel-max trick."""
    keys = [
        ann.perceived(c) / ann.temperature - math.log(-math.log(min(max(rng.random(), 1e-12), 1 - 1e-12)))
        for c in candidates
    ]
    return sorted(range(len(candidates)), key=lambda i: -keys[i])


def _likert(x: float) -> float:
    return float(min(5, max(1, round(x))))


def rate(ann: Annotator, c: Candidate, rng: random.Random) -> dict[str, float]:
    """Likert 1..5 ratings of every aspect in :data:`ASPECTS` (the caller drops some).

    ``overall`` is the perceived utility cut into five bins; the other aspects are noisy
    views of one attribute each: correctness of ``correct``, helpfulness of ``correct``
    and ``complete``, coherence of filler and hedging, verbosity of word count.
    """
    a, sd = c.attributes, 0.5 * ann.temperature
    overall = ann.perceived(c) + rng.gauss(0.0, sd)
    return {
        "overall": float(1 + sum(overall > cut for cut in OVERALL_CUTS)),
        "helpfulness": _likert(1 + 2.5 * a.correct + 1.5 * a.complete + rng.gauss(0.0, sd)),
        "correctness": _likert((5 if a.correct else 1) + rng.gauss(0.0, sd)),
        "coherence": _likert(5 - 0.7 * a.filler - 0.5 * a.hedging + rng.gauss(0.0, sd)),
        "verbosity": _likert(1 + 4 * min(1.0, max(0.0, (c.n_words - 8) / 72)) + rng.gauss(0.0, sd)),
    }


def label(ann: Annotator, c: Candidate, rng: random.Random) -> bool:
    """A good/bad judgment: perceived utility plus logistic noise above ``GOOD_THRESHOLD``."""
    return ann.perceived(c) + ann.temperature * _logistic(rng) > GOOD_THRESHOLD
