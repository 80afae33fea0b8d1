"""How good can a reward model get on these labels? The noise ceiling of a label set.

Because the world knows each label's true probability, it can say what real data
cannot: how often the labels agree with the gold order, and the best accuracy any
predictor can expect against the labels themselves.
"""

from __future__ import annotations

from rewardlab.data.records import Comparison
from rewardlab.errors import DataError

__all__ = ["noise_ceiling"]


def noise_ceiling(comparisons: list[Comparison]) -> dict[str, float]:
    """Agreement of labels with gold, and the Bayes accuracy against the labels.

    - ``label_gold_agreement``: fraction of non-tie labels whose chosen response has the
      higher gold utility (pairs with equal gold left out).
    - ``bayes_accuracy``: mean over non-tie labels of ``max(p_label, 1 − p_label)``, with
      ``p_label = meta["p_label"]``: what a predictor that knew every annotator's true
      model would score against these labels.
    - ``tie_rate``, ``n_labels``, ``n_ties``, ``n_gold_pairs`` (non-tie pairs with unequal gold).

    Needs ``gold_chosen``/``gold_rejected`` and ``meta["p_label"]``, as the synthetic world writes.
    """
    non_tie = [c for c in comparisons if not c.tie]
    gold_pairs = [
        (c.gold_chosen, c.gold_rejected)
        for c in non_tie
        if c.gold_chosen is not None and c.gold_rejected is not None and c.gold_chosen != c.gold_rejected
    ]
    probs = [float(c.meta["p_label"]) for c in non_tie if "p_label" in c.meta]
    if not gold_pairs or not probs:
        raise DataError(
            "noise_ceiling needs non-tie comparisons with gold_chosen/gold_rejected and meta['p_label'], "
            "as rewardlab.synth writes them; these comparisons have none"
        )
    agree = sum(chosen > rejected for chosen, rejected in gold_pairs)
    return {
        "n_labels": float(len(comparisons)),
        "n_ties": float(len(comparisons) - len(non_tie)),
        "tie_rate": (len(comparisons) - len(non_tie)) / len(comparisons),
        "n_gold_pairs": float(len(gold_pairs)),
        "label_gold_agreement": agree / len(gold_pairs),
        "bayes_accuracy": sum(max(p, 1 - p) for p in probs) / len(probs),
    }
