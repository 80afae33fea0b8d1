"""Pure tensor helpers that locate the scored token from the attention mask (invariant 2, docs/architecture.md).

Padding side must never change a score, so every batch is first brought to one canonical
layout: real tokens packed to the left, padding on the right. Positions are then plain
``0..n-1`` for every sequence and the scored token is found from the mask alone (never by
searching for a pad id, which fails when pad == eos).
"""

from __future__ import annotations

import torch

__all__ = ["last_token_index", "right_align"]


def right_align(
    input_ids: torch.Tensor, attention_mask: torch.Tensor, pad_id: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Move each row's real tokens to the front, keeping their order.

    Args:
        input_ids: ``[B, T]`` token ids, padded on either side.
        attention_mask: ``[B, T]`` with 1 for real tokens (contiguous per row) and 0 for padding.
        pad_id: the id written into padded positions of the result.

    Returns:
        ``(ids, mask)`` of the same shape with every row right-padded.
    """
    mask = attention_mask.to(torch.long)
    if mask.shape[1] == 0 or bool((mask[:, 0] == 1).all()):
        return input_ids, attention_mask  # already right-padded: the common, free case
    # Stable sort puts real tokens (key 0) before padding (key 1) and keeps their order.
    order = torch.sort(1 - mask, dim=1, stable=True).indices
    ids = torch.gather(input_ids, 1, order)
    new_mask = torch.gather(mask, 1, order)
    ids = ids.masked_fill(new_mask == 0, pad_id)
    return ids, new_mask.to(attention_mask.dtype)


def last_token_index(attention_mask: torch.Tensor) -> torch.Tensor:
    """Index of the last real token of each right-aligned row: ``[B, T] -> [B]``."""
    return attention_mask.to(torch.long).sum(dim=1).clamp(min=1) - 1
