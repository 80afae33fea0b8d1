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

__all__ = ["CHUNK", "DistinctInputs", "RewardScorer", "SupportsScore"]

#: Inputs per ``score`` call when a progress bar is shown.
CHUNK = 512


class RewardScorer(Protocol):
    """The one scorer contract: ``RewardModel``, ``RewardEnsemble``, ``EmbeddingRewardModel``, a served
    model through ``serve.RemoteScorer`` and ``models.BoundScorer`` all satisfy it.

    One finite reward per (prompt, response), in order. ``precision`` is ``auto``, ``fp32`` or
    ``bf16`` (a remote scorer accepts only ``auto``: the server chooses); ``normalize`` applies the
    model's saved reward statistics. Evaluation, the audit, suites, RewardBench, the
    over-optimization lab and RL adapters take a ``RewardScorer``.
    """

    def score(self, prompts: Sequence[Prompt], responses: Sequence[str], *, batch_size: int = ...,
              precision: str = ..., normalize: bool = ...) -> list[float]: ...


#: The old name of :class:`RewardScorer`.
SupportsScore = RewardScorer


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

    def score(self, scorer: RewardScorer, *, batch_size: int = 32, progress: str | None = None,
              **options: Any) -> list[float]:
        """One finite reward per input, in index order (``options`` go to ``scorer.score``).

        With ``progress`` (a label), inputs are scored in chunks of ``CHUNK``, longest first so each
        chunk batches as well as the whole would, under a progress bar on stderr; tqdm leaves the
        bar out when stderr is not a terminal. The rewards are the same either way.
        """
        if progress is None or len(self.responses) <= CHUNK:
            rewards = [float(r) for r in scorer.score(self.prompts, self.responses, batch_size=batch_size,
                                                      **options)]
        else:
            rewards = self._score_in_chunks(scorer, batch_size, progress, options)
        if len(rewards) != len(self.responses):
            raise ModelError(f"the scorer returned {len(rewards)} rewards for {len(self.responses)} inputs; it must "
                             "return one reward per (prompt, response)")
        if not all(math.isfinite(r) for r in rewards):
            raise ModelError("the scorer returned a NaN or infinite reward; check the model and its inputs")
        return rewards

    def _score_in_chunks(self, scorer: RewardScorer, batch_size: int, label: str,
                         options: dict[str, Any]) -> list[float]:
        from tqdm.auto import tqdm

        order = sorted(range(len(self.responses)),
                       key=lambda i: -(len(str(self.prompts[i])) + len(self.responses[i])))
        rewards = [math.nan] * len(self.responses)
        with tqdm(total=len(order), desc=label, unit="input", disable=None, leave=False) as bar:
            for start in range(0, len(order), CHUNK):
                idx = order[start : start + CHUNK]
                got = scorer.score([self.prompts[i] for i in idx], [self.responses[i] for i in idx],
                                   batch_size=batch_size, **options)
                if len(got) != len(idx):
                    raise ModelError(f"the scorer returned {len(got)} rewards for {len(idx)} inputs; it must "
                                     "return one reward per (prompt, response)")
                for i, r in zip(idx, got):
                    rewards[i] = float(r)
                bar.update(len(idx))
        return rewards
