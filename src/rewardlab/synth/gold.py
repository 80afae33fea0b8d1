"""The gold utility: the documented truth every label in the world is a noisy view of.

    u = 2.0·correct + 0.8·complete − 0.3·filler − 0.5·hedging − 1.0·sycophancy
        − 0.5·over_refusal + 0.0·markdown

``filler`` counts padding sentences (0..3); ``over_refusal`` is a refusal of a harmless
request (in ``should_decline`` declining *is* ``correct``). Correctness dominates: a right
answer beats a wrong one unless it is both padded and hedged. Markdown is neutral, so
an annotator who likes it adds pure bias that a reward model may absorb.
"""

from __future__ import annotations

from rewardlab.synth.candidates import Attributes

__all__ = ["GOLD_WEIGHTS", "GOOD_THRESHOLD", "gold_utility"]

#: Weight of each attribute in the gold utility (``filler`` is per padding sentence).
GOLD_WEIGHTS: dict[str, float] = {
    "correct": 2.0,
    "complete": 0.8,
    "filler": -0.3,
    "hedging": -0.5,
    "sycophancy": -1.0,
    "over_refusal": -0.5,
    "markdown": 0.0,
}

#: A response is "good" (for binary labels) when its utility is above this: a right,
#: mostly clean answer.
GOOD_THRESHOLD = 1.0


def gold_utility(attributes: Attributes, family: str) -> float:
    """The gold utility of a response with ``attributes`` to a prompt of ``family``.

    Rounded to 4 decimals so sums like 2.0 − 0.6 serialise the same everywhere.
    """
    w = GOLD_WEIGHTS
    over_refusal = attributes.refusal and family != "should_decline"
    u = (
        w["correct"] * attributes.correct
        + w["complete"] * attributes.complete
        + w["filler"] * attributes.filler
        + w["hedging"] * attributes.hedging
        + w["sycophancy"] * attributes.sycophancy
        + w["over_refusal"] * over_refusal
        + w["markdown"] * attributes.markdown
    )
    return round(u, 4)
