"""Agreement with humans on multi-vote data, next to the humans' agreement with each other.

With several votes per pair (``Comparison.votes``: +1 = chosen better, 0 = tie, -1 =
rejected better, position k = annotator k), a model's agreement with "the label" means
little without the ceiling the annotators themselves reach. The fair ceiling for the
model's agreement with a majority is each annotator's agreement with the majority of the
*other* annotators (leave-one-out); the model's comparable number is its agreement with
that same majority on the same pairs.

Tie rules (docs/agreement.md):

- The model's vote is the sign of ``chosen - rejected``; it ties only on exact equality, and
  such a tie counts as a disagreement (as in pairwise accuracy).
- *Decisive* agreement (the headline numbers) is over pairs where the reference is +1 or -1;
  a human's own tie vote leaves the pair out of that human's numbers. A majority is a strict
  majority of the votes, ties included; a tie majority or no majority leaves the pair out.
- *3-way* agreement treats a tie as a third answer, so a model (which never ties) is capped
  at one minus the annotator's tie rate.
- Kappa (Cohen 1960; Fleiss 1971) uses the three answers with a chance term that is symmetric
  in the two responses: votes are stored relative to ``chosen``, which the votes themselves
  decided, so the raw +1/-1 marginals describe the orientation rather than the raters. Each
  pair is counted with its mirror image (every vote negated), so by chance +1 and -1 are
  equally likely and only each rater's tie rate enters the chance agreement.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from rewardlab.errors import DataError
from rewardlab.eval.metrics import ScoredPair

__all__ = [
    "Agreement",
    "AgreementReport",
    "agreement_report",
    "cohen_kappa",
    "fleiss_kappa",
    "majority",
    "render_agreement",
]

_VOTES = (-1, 0, 1)


@dataclass(frozen=True)
class Agreement:
    """``agree`` of ``n`` compared pairs; ``left_out`` pairs had no decisive reference or vote."""

    agree: int
    n: int
    left_out: int

    @property
    def rate(self) -> float:
        return self.agree / self.n if self.n else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {"rate": _clean(self.rate), "agree": self.agree, "n": self.n, "left_out": self.left_out}


def _clean(x: float) -> float | None:
    return None if math.isnan(x) else x


def _mean(xs: Iterable[float]) -> float:
    finite = [x for x in xs if not math.isnan(x)]
    return statistics.fmean(finite) if finite else math.nan


def majority(votes: Sequence[int]) -> int | None:
    """The strict-majority vote (+1, 0 or -1), or ``None`` when no answer has more than half."""
    for v in _VOTES:
        if 2 * sum(1 for x in votes if x == v) > len(votes):
            return v
    return None


def _agree(rows: Iterable[tuple[int, int | None]], *, rater_is_model: bool, three_way: bool = False) -> Agreement:
    """Agreement of (rater vote, reference vote) rows under the module's tie rules."""
    agree = n = left_out = 0
    for vote, ref in rows:
        if ref is None or (not three_way and (ref == 0 or (vote == 0 and not rater_is_model))):
            left_out += 1
            continue
        n += 1
        agree += int(vote == ref)
    return Agreement(agree, n, left_out)


def cohen_kappa(x: Sequence[int], y: Sequence[int]) -> float:
    """Cohen's kappa of two raters' +1/0/-1 votes, with the orientation-symmetric chance term.

    ``p_e = t_x·t_y + (1 − t_x)(1 − t_y)/2`` where ``t`` is a rater's tie rate. NaN when
    there are no votes or chance agreement is 1 (both raters only ever tie).
    """
    if len(x) != len(y):
        raise DataError(f"cohen_kappa needs two equally long vote lists, got {len(x)} and {len(y)}")
    if not x:
        return math.nan
    p_o = sum(1 for a, b in zip(x, y) if a == b) / len(x)
    tx, ty = x.count(0) / len(x), y.count(0) / len(y)
    p_e = tx * ty + (1 - tx) * (1 - ty) / 2
    return (p_o - p_e) / (1 - p_e) if p_e < 1 else math.nan


def fleiss_kappa(votes: Sequence[Sequence[int]]) -> float:
    """Fleiss' kappa of K raters over pairs (``votes[i]`` = the K votes on pair i), symmetric chance term.

    ``P_i = (Σ_j n_ij² − K) / (K(K − 1))`` over the answers j; chance
    ``P_e = p_0² + (1 − p_0)²/2`` with ``p_0`` the share of tie votes.
    """
    if not votes:
        return math.nan
    k = len(votes[0])
    if k < 2 or any(len(v) != k for v in votes):
        raise DataError("fleiss_kappa needs the same number (>= 2) of votes on every pair")
    p_i = [(sum(sum(1 for x in v if x == j) ** 2 for j in _VOTES) - k) / (k * (k - 1)) for v in votes]
    p0 = sum(list(v).count(0) for v in votes) / (len(votes) * k)
    p_e = p0**2 + (1 - p0) ** 2 / 2
    return (statistics.fmean(p_i) - p_e) / (1 - p_e) if p_e < 1 else math.nan


@dataclass(frozen=True)
class AgreementReport:
    """The model's agreement with K annotators beside the annotators' agreement with each other.

    Per-annotator tuples are indexed by vote position (annotator 1 first); annotator pairs are
    keyed ``"1-2"``, ``"1-3"``, ... Means are plain means over annotators (or annotator pairs).
    """

    n_pairs: int
    n_without_votes: int
    n_annotators: int
    model_ties: int
    tie_votes: tuple[int, ...]
    model_vs_annotator: tuple[Agreement, ...]
    model_vs_annotator_3way: tuple[Agreement, ...]
    model_vs_majority: Agreement
    model_vs_majority_3way: Agreement
    model_loo: tuple[Agreement, ...]
    model_kappa: tuple[float, ...]
    human_pairwise: dict[str, Agreement]
    human_pairwise_3way: dict[str, Agreement]
    human_loo: tuple[Agreement, ...]
    human_kappa: dict[str, float]
    fleiss_kappa: float

    @property
    def model_vs_annotator_mean(self) -> float:
        return _mean(a.rate for a in self.model_vs_annotator)

    @property
    def human_pairwise_mean(self) -> float:
        return _mean(a.rate for a in self.human_pairwise.values())

    @property
    def model_loo_mean(self) -> float:
        return _mean(a.rate for a in self.model_loo)

    @property
    def human_loo_mean(self) -> float:
        return _mean(a.rate for a in self.human_loo)

    @property
    def model_kappa_mean(self) -> float:
        return _mean(self.model_kappa)

    @property
    def human_kappa_mean(self) -> float:
        return _mean(self.human_kappa.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; rates and kappas with nothing to compare are ``null``."""
        return {
            "n_pairs": self.n_pairs,
            "n_without_votes": self.n_without_votes,
            "n_annotators": self.n_annotators,
            "model_ties": self.model_ties,
            "tie_votes": list(self.tie_votes),
            "model": {
                "vs_annotator": [a.to_dict() for a in self.model_vs_annotator],
                "vs_annotator_mean": _clean(self.model_vs_annotator_mean),
                "vs_annotator_3way": [a.to_dict() for a in self.model_vs_annotator_3way],
                "vs_majority": self.model_vs_majority.to_dict(),
                "vs_majority_3way": self.model_vs_majority_3way.to_dict(),
                "loo": [a.to_dict() for a in self.model_loo],
                "loo_mean": _clean(self.model_loo_mean),
                "cohen_kappa": [_clean(k) for k in self.model_kappa],
                "cohen_kappa_mean": _clean(self.model_kappa_mean),
            },
            "humans": {
                "pairwise": {k: a.to_dict() for k, a in self.human_pairwise.items()},
                "pairwise_mean": _clean(self.human_pairwise_mean),
                "pairwise_3way": {k: a.to_dict() for k, a in self.human_pairwise_3way.items()},
                "loo": [a.to_dict() for a in self.human_loo],
                "loo_mean": _clean(self.human_loo_mean),
                "cohen_kappa": {k: _clean(v) for k, v in self.human_kappa.items()},
                "cohen_kappa_mean": _clean(self.human_kappa_mean),
                "fleiss_kappa": _clean(self.fleiss_kappa),
            },
        }


def _voted(pairs: Sequence[ScoredPair]) -> list[tuple[int, tuple[int, ...]]]:
    """(model vote, human votes) of every pair with votes, after checking the votes are usable."""
    rows = [(p, p.record.votes) for p in pairs if p.record.votes is not None]
    if not rows:
        raise DataError("no comparison has votes; agreement needs several annotator votes per pair "
                        "(Comparison.votes, e.g. PandaLM's annotator1..3)")
    k = len(rows[0][1])
    for p, votes in rows:
        if len(votes) != k or k < 2:
            raise DataError(f"every pair needs the same number (>= 2) of votes, one per annotator position; found "
                            f"{sorted({k, len(votes)})}; keep only pairs judged by the same annotators",
                            field="votes")
        if any(v not in _VOTES for v in votes):
            raise DataError(f"votes must be +1, 0 or -1, got {list(votes)}", field="votes")
        if math.isnan(p.diff):
            raise DataError("a model score is NaN; check the model before measuring agreement")
    return [((p.diff > 0) - (p.diff < 0), votes) for p, votes in rows]


def agreement_report(pairs: Sequence[ScoredPair]) -> AgreementReport:
    """Model-human and human-human agreement, leave-one-out ceilings and kappas (pairs without votes skipped)."""
    rows = _voted(pairs)
    k = len(rows[0][1])
    model = [m for m, _ in rows]
    cols = [[v[i] for _, v in rows] for i in range(k)]
    majorities = [majority(v) for _, v in rows]
    human_loo, model_loo = [], []
    for i in range(k):
        others = [majority(v[:i] + v[i + 1 :]) for _, v in rows]
        human_loo.append(_agree(zip(cols[i], others), rater_is_model=False))
        # the model on exactly the pairs annotator i is scored on: i's own tie votes leave them out too
        same = [ref if own != 0 else None for own, ref in zip(cols[i], others)]
        model_loo.append(_agree(zip(model, same), rater_is_model=True))
    pair_keys = [(f"{i + 1}-{j + 1}", i, j) for i, j in combinations(range(k), 2)]
    return AgreementReport(
        n_pairs=len(rows),
        n_without_votes=len(pairs) - len(rows),
        n_annotators=k,
        model_ties=model.count(0),
        tie_votes=tuple(c.count(0) for c in cols),
        model_vs_annotator=tuple(_agree(zip(model, c), rater_is_model=True) for c in cols),
        model_vs_annotator_3way=tuple(_agree(zip(model, c), rater_is_model=True, three_way=True) for c in cols),
        model_vs_majority=_agree(zip(model, majorities), rater_is_model=True),
        model_vs_majority_3way=_agree(zip(model, majorities), rater_is_model=True, three_way=True),
        model_loo=tuple(model_loo),
        model_kappa=tuple(cohen_kappa(model, c) for c in cols),
        human_pairwise={key: _agree(zip(cols[i], cols[j]), rater_is_model=False) for key, i, j in pair_keys},
        human_pairwise_3way={key: _agree(zip(cols[i], cols[j]), rater_is_model=False, three_way=True)
                             for key, i, j in pair_keys},
        human_loo=tuple(human_loo),
        human_kappa={key: cohen_kappa(cols[i], cols[j]) for key, i, j in pair_keys},
        fleiss_kappa=fleiss_kappa([v for _, v in rows]),
    )


def _pct(x: float) -> str:
    return "   -  " if math.isnan(x) else f"{100 * x:5.1f}%"


def _kappa(x: float) -> str:
    return "   -  " if math.isnan(x) else f"{x:6.3f}"


def render_agreement(report: AgreementReport) -> str:
    """One small table: the model's agreement next to the human ceiling, then the tie accounting."""
    r = report
    skipped = f"; {r.n_without_votes} pairs without votes left out" if r.n_without_votes else ""
    lines = [
        f"Agreement with human votes: {r.n_pairs} pairs, {r.n_annotators} votes each{skipped}",
        f"  {'':<34}{'model':>7}  {'humans':>7}",
        f"  {'with one annotator (mean)':<34}{_pct(r.model_vs_annotator_mean):>7}  "
        f"{_pct(r.human_pairwise_mean):>7}   humans: each pair of annotators",
        f"  {'with the majority of the others':<34}{_pct(r.model_loo_mean):>7}  "
        f"{_pct(r.human_loo_mean):>7}   leave-one-out on the same pairs: the fair ceiling",
        f"  {'with the majority of all':<34}{_pct(r.model_vs_majority.rate):>7}  {'-':>7}   "
        f"({r.model_vs_majority.n} pairs with a decisive majority)",
        f"  {'Cohen kappa (mean)':<34}{_kappa(r.model_kappa_mean):>7}  {_kappa(r.human_kappa_mean):>7}",
        f"  {'Fleiss kappa (annotators)':<34}{'-':>7}  {_kappa(r.fleiss_kappa):>7}",
    ]
    per = "  ".join(f"{i + 1}: {_pct(m.rate).strip()} | {_pct(h.rate).strip()}"
                    for i, (m, h) in enumerate(zip(r.model_loo, r.human_loo)))
    lines.append(f"  leave-one-out by annotator (model | annotator): {per}")
    ties = ", ".join(f"{100 * t / r.n_pairs:.0f}%" for t in r.tie_votes)
    three_way = _mean(a.rate for a in r.model_vs_annotator_3way)
    human_three_way = _mean(a.rate for a in r.human_pairwise_3way.values())
    lines += [
        f"Decisive votes only: a human tie vote, or a tie or split majority, leaves the pair out (tie votes by "
        f"annotator: {ties}); model ties (equal scores) count as disagreements: {r.model_ties}.",
        f"Counting a tie as a third answer: model {_pct(three_way).strip()}, humans {_pct(human_three_way).strip()} "
        "(with one annotator; the model never ties).",
    ]
    return "\n".join(lines)
