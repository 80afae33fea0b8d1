"""Deterministic, length-bucketed batches with dynamic padding, optionally one prompt's examples together.

Sorting by length inside large shuffled windows makes every batch hold pairs of similar
length, so padding (wasted compute) drops sharply while the order stays random at the
batch level. With ``groups`` (the prompt of each example), a prompt's examples travel as one
unit and land in the same batch, so a response that appears in several of its pairs is
scored once per step (``Batch.collate`` shares identical sequences). The plan is a pure
function of (lengths, groups, seed, epoch), which is what makes a resumed run replay exactly
the batches an unbroken run would have seen.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

__all__ = ["epoch_batches", "units_of"]

WINDOW_BATCHES = 64  # batches per sorting window: big enough to group lengths, small enough to stay random


def units_of(n: int, groups: Sequence[int] | None) -> list[list[int]]:
    """Example indices ``0..n-1`` as units: one per group in first-seen order, or one per example."""
    if groups is None:
        return [[i] for i in range(n)]
    if len(groups) != n:
        raise ValueError(f"groups has {len(groups)} entries for {n} examples")
    by_group: dict[int, list[int]] = {}
    for i, g in enumerate(groups):
        by_group.setdefault(g, []).append(i)
    return list(by_group.values())


def epoch_batches(
    lengths: Sequence[int],
    batch_size: int,
    *,
    seed: int,
    epoch: int,
    bucket: bool = True,
    world_size: int = 1,
    groups: Sequence[int] | None = None,
) -> list[list[int]]:
    """The batches (lists of example indices) of one epoch.

    Args:
        lengths: padded cost of each example (for a pair: the longer of its two sequences).
        batch_size: at most this many examples per batch (the last batch of the epoch may be
            smaller; with ``groups``, a batch closes before a unit that would overflow it).
        seed, epoch: the plan is a pure function of these.
        bucket: sort by length within windows of ``WINDOW_BATCHES`` batches.
        world_size: the number of batches is cut to a multiple of this so that every process
            runs the same number of steps (at most ``world_size - 1`` batches per epoch wait
            for the next epoch, where a new shuffle covers them).
        groups: a group id per example (e.g. its prompt); a group's examples stay in one batch
            (a group larger than ``batch_size`` is split). ``None``: every example on its own,
            which gives exactly the plan of earlier versions.
    """
    rng = random.Random(seed * 1_000_003 + epoch)
    units = units_of(len(lengths), groups)
    rng.shuffle(units)
    batches: list[list[int]] = []
    window = batch_size * WINDOW_BATCHES if bucket else batch_size
    start = 0
    while start < len(units):
        end, size = start, 0
        while end < len(units) and size < window:
            size += len(units[end])
            end += 1
        chunk = units[start:end]
        if bucket:
            chunk.sort(key=lambda u: max(lengths[i] for i in u))
        batches.extend(_pack(chunk, batch_size))
        start = end
    if bucket:
        rng.shuffle(batches)
    usable = len(batches) - len(batches) % world_size
    return batches[:usable]


def _pack(units: list[list[int]], batch_size: int) -> list[list[int]]:
    """Consecutive units into batches of at most ``batch_size`` examples, never splitting a unit that fits."""
    batches: list[list[int]] = []
    current: list[int] = []
    for unit in units:
        for k in range(0, len(unit), batch_size):  # a unit bigger than a batch is split
            piece = unit[k : k + batch_size]
            if len(current) + len(piece) > batch_size:
                batches.append(current)
                current = []
            current.extend(piece)
    if current:
        batches.append(current)
    return batches
