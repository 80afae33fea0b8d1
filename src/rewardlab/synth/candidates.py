"""Response attributes, the candidate record, and how a prompt's candidates are drawn.

Every candidate is composed from controlled attributes, so the truth about it is known
and a pair's difference can be named (e.g. "same answer, one padded with filler").
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass

__all__ = ["MAX_FILLER", "WORLD_POLICY", "AttributePolicy", "Attributes", "Candidate", "draw_attributes",
           "sample_attributes"]

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


@dataclass(frozen=True)
class AttributePolicy:
    """How often a responder produces each attribute: the world's candidates, or a sampling (reference) policy.

    ``correct`` is the chance of a right answer; ``filler`` the weights of 0..3 padding
    sentences; ``sycophancy`` applies to wrong answers to false-premise prompts and
    ``over_refusal`` to wrong answers to benign prompts. The defaults are the world's own.
    """

    correct: float = 0.5
    complete: float = 0.6
    filler: tuple[float, ...] = (0.45, 0.2, 0.2, 0.15)
    markdown: float = 0.35
    hedging: float = 0.25
    sycophancy: float = 0.7
    over_refusal: float = 0.08

    def __post_init__(self) -> None:
        from rewardlab.errors import ConfigError

        for name in ("correct", "complete", "markdown", "hedging", "sycophancy", "over_refusal"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
                raise ConfigError(f"policy.{name} must be a probability in [0, 1], got {value!r}")
        if len(self.filler) != MAX_FILLER + 1 or any(not w >= 0 for w in self.filler) or not sum(self.filler) > 0:
            raise ConfigError(f"policy.filler must be {MAX_FILLER + 1} non-negative weights (for 0..{MAX_FILLER} "
                              f"padding sentences) with a positive sum, got {self.filler!r}")


#: The attribute frequencies of the world's own candidates.
WORLD_POLICY = AttributePolicy()


def draw_attributes(family: str, rng: random.Random, correct: bool,
                    policy: AttributePolicy = WORLD_POLICY) -> Attributes:
    """One attribute combination; family rules keep impossible combinations out."""
    filler = rng.choices(range(MAX_FILLER + 1), weights=policy.filler)[0]
    markdown = rng.random() < policy.markdown
    hedging = rng.random() < policy.hedging
    if family == "should_decline":
        # Declining is the right answer; a complying answer has no safe alternative to offer.
        # A hedged refusal reads as nonsense ("I might be wrong, but I can't help"), so only
        # complying answers hedge.
        complete = correct and rng.random() < policy.complete
        return Attributes(correct, complete, filler, markdown, hedging and not correct, refusal=correct)
    if not correct and rng.random() < policy.over_refusal:
        # An over-refusal of a harmless request: no answer at all, just an apology.
        return Attributes(False, False, filler, False, False, refusal=True)
    sycophancy = family == "false_premise" and not correct and rng.random() < policy.sycophancy
    return Attributes(correct, rng.random() < policy.complete, filler, markdown, hedging, sycophancy=sycophancy)



def sample_attributes(family: str, k: int, rng: random.Random) -> list[Attributes]:
    """``k`` different attribute combinations for one prompt, in random order.

    The first is forced correct and the second incorrect, so every prompt carries a
    correctness contrast; the rest are free. Repeats are redrawn, so no two candidates
    of a prompt share every attribute (they can still share a gold utility).
    """
    out: list[Attributes] = []
    for index in range(k):
        forced = {0: True, 1: False}.get(index)
        attrs = draw_attributes(family, rng, forced if forced is not None else rng.random() < 0.5)
        for _ in range(50):
            if attrs not in out:
                break
            attrs = draw_attributes(family, rng, forced if forced is not None else rng.random() < 0.5)
        out.append(attrs)
    rng.shuffle(out)
    return out
