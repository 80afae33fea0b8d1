"""Score each distinct (prompt, response) once: the one place evaluation, audit, suites and RewardBench dedupe.

Held-out pairs share responses, probes re-use originals, suites repeat a response across
checks. ``DistinctInputs`` collects inputs in first-seen order, hands each an index, and
scores them all in one ``score`` call with the checks every caller needs (one reward per
input, all finite).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol

from rewardlab.data.records import Prompt
from rewardlab.errors import ModelError

__all__ = ["DistinctInputs", "SupportsScore"]


class SupportsScore(Protocol):
    """Anything with rewardlab's ``score`` call: every rewardlab model, a ``BoundScorer``, a plain object."""

    def score(self, prompts: Sequence[Prompt], responses: Sequence[str], *, batch_size: int = ...) -> list[float]: ...


class DistinctInputs:
    """Distinct (prompt, response) inputs in first-seen order; ``add`` returns an input's index."""

    def __init__(self) -> None:
        self.index: dict[tuple[Prompt, str], int] = {}
        self.prompts: list[Prompt] = []
        self.responses: list[str] = []

    def __len__(self) -> int:
        return len(self.responses)

    def add(self, prompt: Prompt, response: str) -> int:
        key = (prompt, response)  # the prompt itself, not its text: a message list and a string never collide
        if key not in self.index:
            self.index[key] = len(self.responses)
            self.prompts.append(prompt)
            self.responses.append(response)
        return self.index[key]

    def score(self, scorer: SupportsScore, *, batch_size: int = 32, **options: Any) -> list[float]:
        """One finite reward per input, in index order (``options`` go to ``scorer.score``)."""
        rewards = [float(r) for r in scorer.score(self.prompts, self.responses, batch_size=batch_size, **options)]
        if len(rewards) != len(self.responses):
            raise ModelError(f"the scorer returned {len(rewards)} rewards for {len(self.responses)} inputs; it must "
                             "return one reward per (prompt, response)")
        if not all(math.isfinite(r) for r in rewards):
            raise ModelError("the scorer returned a NaN or infinite reward; check the model and its inputs")
        return rewards
