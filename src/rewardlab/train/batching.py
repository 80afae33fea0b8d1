"""Deterministic, length-bucketed batches with dynamic padding.

Sorting by length inside large shuffled windows makes every batch hold pairs of similar
length, so padding (wasted compute) drops sharply while the order stays random at the
batch level. The plan is a pure function of (lengths, seed, epoch), which is what makes a
resumed run replay exactly the batches an unbroken run would have seen.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

__all__ = ["epoch_batches"]

WINDOW_BATCHES = 64  # batches per sorting window: big enough to group lengths, small enough to stay random


def epoch_batches(
    lengths: Sequence[int],
    batch_size: int,
    *,
    seed: int,
    epoch: int,
    bucket: bool = True,
    world_size: int = 1,
) -> list[list[int]]:
    """The batches (lists of example indices) of one epoch.

    Args:
        lengths: padded cost of each example (for a pair: the longer of its two sequences).
        batch_size: examples per batch (the last batch of the epoch may be smaller).
        seed, epoch: the plan is a pure function of these.
        bucket: sort by length within windows of ``WINDOW_BATCHES`` batches.
        world_size: the number of batches is cut to a multiple of this so that every process
            runs the same number of steps (at most ``world_size - 1`` batches per epoch wait
            for the next epoch, where a new shuffle covers them).
    """
    rng = random.Random(seed * 1_000_003 + epoch)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    batches: list[list[int]] = []
    window = batch_size * WINDOW_BATCHES if bucket else batch_size
    for start in range(0, len(order), window):
        chunk = order[start : start + window]
        if bucket:
            chunk.sort(key=lambda i: lengths[i])
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    if bucket:
        rng.shuffle(batches)
    usable = len(batches) - len(batches) % world_size
    return batches[:usable]
