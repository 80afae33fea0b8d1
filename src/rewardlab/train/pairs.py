"""Pairs tokenized once, ready for batching: the training loop never touches text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from rewardlab.data.records import Comparison
from rewardlab.models.reward_model import RewardModel, pad_batch

__all__ = ["PairBatch", "TokenizedPairs", "tokenize_pairs"]


@dataclass(frozen=True)
class TokenizedPairs:
    """Token ids of each pair's chosen and rejected input, plus optional margins."""

    chosen: list[list[int]]
    rejected: list[list[int]]
    margins: list[float]

    def __len__(self) -> int:
        return len(self.chosen)

    def lengths(self) -> list[int]:
        """Cost of each pair in a batch: both sequences are padded to the longer one."""
        return [max(len(c), len(r)) for c, r in zip(self.chosen, self.rejected)]

    def subset(self, indices: Sequence[int]) -> TokenizedPairs:
        return TokenizedPairs(
            [self.chosen[i] for i in indices], [self.rejected[i] for i in indices], [self.margins[i] for i in indices]
        )


@dataclass(frozen=True)
class PairBatch:
    """Chosen rows ``[0, B)`` then rejected rows ``[B, 2B)`` of one padded batch, for one forward."""

    input_ids: torch.Tensor  # [2B, T]
    attention_mask: torch.Tensor  # [2B, T]
    margins: torch.Tensor  # [B]

    @property
    def size(self) -> int:
        return int(self.margins.shape[0])

    @classmethod
    def collate(cls, pairs: TokenizedPairs, indices: Sequence[int], pad_id: int) -> PairBatch:
        seqs = [pairs.chosen[i] for i in indices] + [pairs.rejected[i] for i in indices]
        ids, mask = pad_batch(seqs, pad_id)
        margins = torch.tensor([pairs.margins[i] for i in indices], dtype=torch.float32)
        return cls(ids, mask, margins)


def tokenize_pairs(model: RewardModel, records: Sequence[Comparison]) -> TokenizedPairs:
    """Tokenize (prompt, chosen) and (prompt, rejected) for every record, truncating from the left."""
    prompts = [r.prompt for r in records]
    chosen = model.encode(prompts, [r.chosen for r in records])
    rejected = model.encode(prompts, [r.rejected for r in records])
    margins = [float(r.margin) if r.margin is not None else 0.0 for r in records]
    return TokenizedPairs(chosen, rejected, margins)
