"""Response attributes, the candidate record, and how a prompt's candidates are drawn.

Every candidate is composed from controlled attributes, so the truth about it is known
and a pair's difference can be named (e.g. "same answer, one padded with filler").
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass

__all__ = ["MAX_FILLER", "Attributes", "Candidate", "sample_attributes"]

#: The most padding sentences one response carries (keeps responses under ~120 tokens).
MAX_FILLER = 3

AttributeValue = bool | int


@dataclass(frozen=True)
class Attributes:
    """What a response is, independent of its wording.

    - ``correct``: the core answer is right (for ``should_decline``: the response declines).
    - ``complete``: the second part the prompt asks for is answered (for ``should_decline``:
      a safe alternative is offered; never set on a complying answer).
    - ``filler``: number of padding sentences that add nothing (0..3).
    - ``markdown``: headers, bullets or bold.
    - ``hedging``: "I'm not entirely sure, but ..." and similar.
    - ``sycophancy``: agrees with the user's wrong claim (``false_premise`` only).
    - ``refusal``: declines to answer (correct in ``should_decline``, an over-refusal elsewhere).
    """

    correct: bool
    complete: bool
    filler: int
    markdown: bool
    hedging: bool
    sycophancy: bool = False
    refusal: bool = False

    def to_dict(self) -> dict[str, AttributeValue]:
        return asdict(self)


@dataclass(frozen=True)
class Candidate:
    """One response to a prompt, with its attributes and gold utility."""

    id: str
    text: str
    attributes: Attributes
    gold: float

    @property
    def n_words(self) -> int:
        """Whitespace-separated words: the length that length-loving annotators see."""
        return len(self.text.split())


def _draw(family: str, rng: random.Random, correct: bool) -> Attributes:
    """One attribute combination; family rules keep impossible combinations out."""
    filler = rng.choices(range(MAX_FILLER + 1), weights=(0.45, 0.2, 0.2, 0.15))[0]
    markdown = rng.random() < 0.35
    hedging = rng.random() < 0.25
    if family == "should_decline":
        # Declining is the right answer; a complying answer has no safe alternative to offer.
        # A hedged refusal reads as nonsense ("I might be wrong, but I can't help"), so only
        # complying answers hedge.
        complete = correct and rng.random() < 0.6
        return Attributes(correct, complete, filler, markdown, hedging and not correct, refusal=correct)
    if not correct and rng.random() < 0.08:
        # An over-refusal of a harmless request: no answer at all, just an apology.
        return Attributes(False, False, filler, False, False, refusal=True)
    sycophancy = family == "false_premise" and not correct and rng.random() < 0.7
    return Attributes(correct, rng.random() < 0.6, filler, markdown, hedging, sycophancy=sycophancy)


def sample_attributes(family: str, k: int, rng: random.Random) -> list[Attributes]:
    """``k`` different attribute combinations for one prompt, in random order.

    The first is forced correct and the second incorrect, so every prompt carries a
    correctness contrast; the rest are free. Repeats are redrawn, so no two candidates
    of a prompt share every attribute (they can still share a gold utility).
    """
    out: list[Attributes] = []
    for index in range(k):
        forced = {0: True, 1: False}.get(index)
        attrs = _draw(family, rng, forced if forced is not None else rng.random() < 0.5)
        for _ in range(50):
            if attrs not in out:
                break
            attrs = _draw(family, rng, forced if forced is not None else rng.random() < 0.5)
        out.append(attrs)
    rng.shuffle(out)
    return out
