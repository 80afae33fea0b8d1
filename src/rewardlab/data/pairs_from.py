"""Any record type → pairwise comparisons, so every model is judged on one pairwise yardstick.

A model trained on rankings, ratings or good/bad labels is evaluated on the pairs its
held-out records imply: a ranking of K responses gives all C(K, 2) ordered pairs; ratings
of one prompt give a pair for every two responses whose rating differs; labels of one
prompt give every good-vs-bad pair. Comparisons pass through unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import combinations

from rewardlab.data.records import Comparison, Label, Ranking, Rating
from rewardlab.errors import ConfigError, DataError

__all__ = ["AnyRecord", "records_to_eval_pairs"]

AnyRecord = Comparison | Ranking | Rating | Label
Scorer = Callable[[Rating], float | None]

# Keys of the count dict, in the order they are reported.
_COUNT_KEYS = (
    "pairs",
    "from_comparisons",
    "from_rankings",
    "from_ratings",
    "from_labels",
    "equal_ratings_skipped",
    "missing_attribute_skipped",
    "identical_responses_skipped",
)


def records_to_eval_pairs(
    records: Iterable[AnyRecord], *, attribute: str | Mapping[str, float] = "overall"
) -> tuple[list[Comparison], dict[str, int]]:
    """The pairwise comparisons implied by ``records`` (of any mix of types), and counts.

    Records are grouped by ``record.group`` (the prompt id); groups come out in first-seen
    order and, within a group, comparisons and ranking pairs in input order, then rating
    pairs, then label pairs, so the result is deterministic.

    - ``Comparison``: passed through as is.
    - ``Ranking``: every pair (i < j) of its responses, the better-ranked one chosen, gold
      from ``Ranking.gold``.
    - ``Rating``: every two ratings of a prompt, scored by ``attribute`` (one attribute, or
      a weighted sum ``{"helpfulness": 0.65, ...}``); the higher one is chosen. Equal scores
      are skipped and counted, as are ratings that lack a scored attribute.
    - ``Label``: every good response against every bad one of the same prompt.

    Pairs of identical responses (the same response rated or labelled twice) are skipped
    and counted. Subset and annotator are kept where both sides agree, and ``meta["from"]``
    names the record type. Counts: ``pairs`` made in all, ``from_<type>`` per type, and
    the ``*_skipped`` tallies.
    """
    score = _scorer(attribute)
    groups: dict[str, list[AnyRecord]] = {}
    for record in records:
        if not isinstance(record, (Comparison, Ranking, Rating, Label)):
            raise DataError(
                f"cannot make pairs from a {type(record).__name__}; expected Comparison, Ranking, Rating or Label"
            )
        groups.setdefault(record.group, []).append(record)
    counts = dict.fromkeys(_COUNT_KEYS, 0)
    pairs: list[Comparison] = []
    for members in groups.values():
        pairs.extend(_group_pairs(members, score, counts))
    ratings = [r for members in groups.values() for r in members if isinstance(r, Rating)]
    if ratings and counts["missing_attribute_skipped"] == len(ratings):
        seen = sorted({name for r in ratings for name in r.ratings})
        raise ConfigError(f"no rating has every attribute of {attribute!r}; attributes seen: {', '.join(seen)}")
    counts["pairs"] = len(pairs)
    return pairs, counts


def _scorer(attribute: str | Mapping[str, float]) -> Scorer:
    """A rating's score under ``attribute``, or ``None`` when it lacks a needed attribute."""
    if isinstance(attribute, str):
        return lambda r: r.ratings.get(attribute)
    weights = dict(attribute)
    if not weights or any(
        not isinstance(w, (int, float)) or isinstance(w, bool) or not math.isfinite(w) for w in weights.values()
    ):
        raise ConfigError(f"attribute weights must be a non-empty mapping of attribute: finite number, got {weights!r}")

    def weighted(r: Rating) -> float | None:
        if any(name not in r.ratings for name in weights):
            return None
        return sum(w * r.ratings[name] for name, w in weights.items())

    return weighted


def _group_pairs(members: list[AnyRecord], score: Scorer, counts: dict[str, int]) -> list[Comparison]:
    """The pairs of one prompt's records, counted into ``counts``."""
    out: list[Comparison] = []
    for record in members:
        if isinstance(record, Comparison):
            out.append(record)
            counts["from_comparisons"] += 1
        elif isinstance(record, Ranking):
            made = _ranking_pairs(record)
            out.extend(made)
            counts["from_rankings"] += len(made)
    made = _rating_pairs([r for r in members if isinstance(r, Rating)], score, counts)
    counts["from_ratings"] += len(made)
    out.extend(made)
    made = _label_pairs([r for r in members if isinstance(r, Label)], counts)
    counts["from_labels"] += len(made)
    out.extend(made)
    return out


def _ranking_pairs(r: Ranking) -> list[Comparison]:
    return [
        Comparison(
            prompt=r.prompt,
            chosen=r.responses[i],
            rejected=r.responses[j],
            subset=r.subset,
            annotator=r.annotator,
            gold_chosen=None if r.gold is None else r.gold[i],
            gold_rejected=None if r.gold is None else r.gold[j],
            prompt_id=r.prompt_id,
            meta={"from": "ranking", "chosen_rank": i + 1, "rejected_rank": j + 1},
        )
        for i, j in combinations(range(len(r.responses)), 2)
    ]


def _rating_pairs(ratings: Sequence[Rating], score: Scorer, counts: dict[str, int]) -> list[Comparison]:
    scored = []
    for r in ratings:
        value = score(r)
        if value is None:
            counts["missing_attribute_skipped"] += 1
        else:
            scored.append((r, value))
    out = []
    for (a, score_a), (b, score_b) in combinations(scored, 2):
        if _same_response(a, b, counts):
            continue
        if score_a == score_b:
            counts["equal_ratings_skipped"] += 1
            continue
        (win, high), (lose, low) = ((a, score_a), (b, score_b)) if score_a > score_b else ((b, score_b), (a, score_a))
        out.append(_pair(win, lose, {"from": "rating", "chosen_rating": high, "rejected_rating": low}))
    return out


def _label_pairs(labels: Sequence[Label], counts: dict[str, int]) -> list[Comparison]:
    good = [r for r in labels if r.good]
    bad = [r for r in labels if not r.good]
    return [_pair(g, b, {"from": "label"}) for g in good for b in bad if not _same_response(g, b, counts)]


def _same_response(a: Rating | Label, b: Rating | Label, counts: dict[str, int]) -> bool:
    """Whether two records judge the same response (no pair can be made); counted when so."""
    same = a.response.strip() == b.response.strip()
    if same:
        counts["identical_responses_skipped"] += 1
    return same


def _pair(win: Rating | Label, lose: Rating | Label, meta: dict[str, object]) -> Comparison:
    """``win`` chosen over ``lose``; subset and annotator kept only where both agree."""
    return Comparison(
        prompt=win.prompt,
        chosen=win.response,
        rejected=lose.response,
        subset=win.subset if win.subset == lose.subset else None,
        annotator=win.annotator if win.annotator == lose.annotator else None,
        gold_chosen=win.gold,
        gold_rejected=lose.gold,
        prompt_id=win.prompt_id,
        meta=meta,
    )
