"""Agreement with multi-vote human data: hand-worked vote tables, kappas, and PandaLM's three annotators."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest

from rewardlab.data.records import Comparison
from rewardlab.errors import DataError
from rewardlab.eval.agreement import (
    Agreement,
    agreement_report,
    cohen_kappa,
    fleiss_kappa,
    majority,
    render_agreement,
)
from rewardlab.eval.metrics import ScoredPair

ROOT = Path(os.environ.get("REWARDLAB_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
PANDALM = ROOT / "pandalm" / "testset-v1.json"


def pair(votes: tuple[int, ...] | None, diff: float, i: int = 0) -> ScoredPair:
    record = Comparison(prompt=f"q{i}", chosen="a", rejected="b", votes=votes)
    return ScoredPair(record, diff, 0.0)


# Six pairs, three annotators; the model's vote is the sign of its score difference.
#   pair  votes (1, 2, 3)  majority  model
#   1     +1 +1 +1         +1        +1
#   2     +1 +1 -1         +1        -1
#   3     +1  0 +1         +1        +1
#   4     +1 -1  0         none      +1
#   5      0  0 +1          0        -1
#   6     -1 -1 +1         -1         0 (exact tie)
TABLE = [((1, 1, 1), 0.7), ((1, 1, -1), -0.2), ((1, 0, 1), 1.5), ((1, -1, 0), 0.1), ((0, 0, 1), -1.0),
         ((-1, -1, 1), 0.0)]


def table_pairs() -> list[ScoredPair]:
    return [pair(v, d, i) for i, (v, d) in enumerate(TABLE)]


def test_majority_is_strict_and_counts_ties_as_an_answer() -> None:
    assert [majority(v) for v, _ in TABLE] == [1, 1, 1, None, 0, -1]
    assert majority((1, -1)) is None and majority((1, 1)) == 1


def test_model_agreement_on_the_hand_worked_table() -> None:
    r = agreement_report(table_pairs())
    assert (r.n_pairs, r.n_annotators, r.model_ties, r.tie_votes) == (6, 3, 1, (1, 2, 1))
    # decisive: an annotator's tie leaves the pair out; the model's exact tie (pair 6) is a miss
    assert r.model_vs_annotator == (Agreement(3, 5, 1), Agreement(1, 4, 2), Agreement(3, 5, 1))
    assert r.model_vs_annotator_3way == (Agreement(3, 6, 0), Agreement(1, 6, 0), Agreement(3, 6, 0))
    assert r.model_vs_majority == Agreement(2, 4, 2)  # pairs 4 (no majority) and 5 (tie majority) left out
    assert r.model_vs_majority_3way == Agreement(2, 5, 1)  # only pair 4 left out
    assert math.isclose(r.model_vs_annotator_mean, (3 / 5 + 1 / 4 + 3 / 5) / 3)


def test_human_agreement_on_the_hand_worked_table() -> None:
    r = agreement_report(table_pairs())
    assert r.human_pairwise == {"1-2": Agreement(3, 4, 2), "1-3": Agreement(2, 4, 2), "2-3": Agreement(1, 3, 3)}
    assert r.human_pairwise_3way == {"1-2": Agreement(4, 6, 0), "1-3": Agreement(2, 6, 0),
                                     "2-3": Agreement(1, 6, 0)}
    assert math.isclose(r.human_pairwise_mean, (3 / 4 + 2 / 4 + 1 / 3) / 3)


def test_leave_one_out_compares_model_and_annotator_on_the_same_pairs() -> None:
    r = agreement_report(table_pairs())
    # annotator 1 vs majority of (2, 3): only pair 1 has one; annotator 2 vs (1, 3): pairs 1 and 3,
    # but annotator 2 tied on 3, so the model is scored on pair 1 only too; annotator 3 vs (1, 2):
    # pairs 1, 2, 6 (pair 5's majority is a tie).
    assert r.human_loo == (Agreement(1, 1, 5), Agreement(1, 1, 5), Agreement(1, 3, 3))
    assert r.model_loo == (Agreement(1, 1, 5), Agreement(1, 1, 5), Agreement(1, 3, 3))
    assert [a.n for a in r.model_loo] == [a.n for a in r.human_loo]
    assert math.isclose(r.human_loo_mean, 7 / 9) and math.isclose(r.model_loo_mean, 7 / 9)


def test_cohen_kappa_hand_worked() -> None:
    a1, a2 = [v[0] for v, _ in TABLE], [v[1] for v, _ in TABLE]
    # p_o = 4/6; tie rates 1/6 and 2/6: p_e = 1/6·2/6 + 5/6·4/6/2 = 1/3; kappa = (2/3 - 1/3)/(2/3)
    assert math.isclose(cohen_kappa(a1, a2), 0.5)
    r = agreement_report(table_pairs())
    assert math.isclose(r.human_kappa["1-2"], 0.5)
    # model vs annotator 1: p_o = 1/2, both tie 1/6: p_e = 1/36 + 25/72 = 0.375; kappa = 0.125/0.625
    assert math.isclose(r.model_kappa[0], 0.2)
    assert cohen_kappa([1, 1, -1, 1], [1, -1, -1, 1]) == pytest.approx(0.5)  # no ties: kappa = 2·p_o - 1
    assert math.isnan(cohen_kappa([0, 0], [0, 0])) and math.isnan(cohen_kappa([], []))


def test_fleiss_kappa_hand_worked() -> None:
    # P_i = 1, 1/3, 1/3, 0, 1/3, 1/3 -> mean 7/18; tie share 4/18: P_e = (2/9)² + (7/9)²/2 = 57/162
    assert math.isclose(fleiss_kappa([v for v, _ in TABLE]), (7 / 18 - 57 / 162) / (1 - 57 / 162))
    assert math.isclose(fleiss_kappa([(1, 1, 1), (-1, -1, -1), (0, 0, 0)]), 1.0)
    with pytest.raises(DataError, match="same number"):
        fleiss_kappa([(1, 1), (1, 1, 1)])


def test_kappas_do_not_depend_on_which_response_is_called_chosen() -> None:
    """Mirroring a pair (negating its votes and the model's difference) changes no number."""
    flipped = [pair(tuple(-x for x in v), -d, i) if i % 2 else pair(v, d, i) for i, (v, d) in enumerate(TABLE)]
    assert agreement_report(flipped).to_dict() == agreement_report(table_pairs()).to_dict()


def test_pairs_without_votes_are_counted_and_bad_votes_rejected() -> None:
    r = agreement_report([*table_pairs(), pair(None, 1.0, 9)])
    assert (r.n_pairs, r.n_without_votes) == (6, 1)
    with pytest.raises(DataError, match="no comparison has votes"):
        agreement_report([pair(None, 1.0)])
    with pytest.raises(DataError, match="same number"):
        agreement_report([pair((1, 1, 1), 1.0), pair((1, 1), 1.0, 1)])
    with pytest.raises(DataError, match="same number"):
        agreement_report([pair((1,), 1.0)])
    with pytest.raises(DataError, match=r"\+1, 0 or -1"):
        agreement_report([pair((1, 2, 1), 1.0)])


def test_to_dict_is_json_ready_with_nulls_for_empty_rates() -> None:
    import json

    d = agreement_report([pair((0, 0), 1.0), pair((0, 0), -1.0, 1)]).to_dict()
    json.dumps(d, allow_nan=False)
    assert d["model"]["vs_majority"] == {"rate": None, "agree": 0, "n": 0, "left_out": 2}
    assert d["humans"]["cohen_kappa"] == {"1-2": None}
    assert set(d) == {"n_pairs", "n_without_votes", "n_annotators", "model_ties", "tie_votes", "model", "humans"}


def test_render_puts_the_model_next_to_the_human_ceiling() -> None:
    text = render_agreement(agreement_report([*table_pairs(), pair(None, 1.0, 9)]))
    loo = next(line for line in text.splitlines() if "majority of the others" in line)
    assert loo.count("77.8%") == 2
    one = next(line for line in text.splitlines() if "one annotator" in line)
    assert "48.3%" in one and "52.8%" in one
    assert "1 pairs without votes left out" in text.splitlines()[0]
    assert "count as disagreements: 1" in text


def test_real_pandalm_votes() -> None:
    if not PANDALM.exists():
        pytest.skip(f"{PANDALM} is not on this machine")
    from rewardlab.data import load_comparisons

    records = load_comparisons(PANDALM, on_invalid="skip").records
    # A "model" that votes exactly like annotator 1 must reproduce annotator 1's numbers.
    votes_like_1 = [ScoredPair(r, float((r.votes or (0,))[0]), 0.0) for r in records]
    r = agreement_report(votes_like_1)
    assert (r.n_pairs, r.n_annotators, r.tie_votes) == (939, 3, (95, 114, 107))
    assert r.model_vs_annotator[0] == Agreement(844, 844, 95)
    assert r.model_loo[0] == r.human_loo[0]
    assert r.model_kappa[1] == pytest.approx(r.human_kappa["1-2"])
    assert r.human_pairwise["1-2"] == Agreement(766, 817, 122)
    assert 0.5 < r.human_pairwise_mean < 0.98
    assert r.human_pairwise_mean < r.human_loo_mean < 1.0  # a majority of two is a cleaner reference
    assert 0.5 < r.fleiss_kappa < 0.95
    assert abs(r.fleiss_kappa - r.human_kappa_mean) < 0.02
    # chosen is the majority's pick, so always preferring it agrees with every decisive majority
    always_chosen = agreement_report([ScoredPair(rec, 1.0, 0.0) for rec in records])
    assert always_chosen.model_vs_majority == Agreement(836, 836, 103)
