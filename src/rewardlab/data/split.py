"""Train/test splits that never let a prompt straddle the two sides.

If the same prompt appeared on both sides, test accuracy would partly measure memorised
prompts (invariant 4, docs/architecture.md). Records of any type (comparisons, rankings, ratings, labels)
are grouped by their ``group`` (``prompt_id`` when set, else a hash of the prompt) and
whole groups are assigned to one side.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

from rewardlab.data.records import _PromptGrouped
from rewardlab.errors import ConfigError, DataError

__all__ = ["split_by_prompt"]

R = TypeVar("R", bound=_PromptGrouped)


def split_by_prompt(records: Sequence[R], test_fraction: float, seed: int) -> tuple[list[R], list[R]]:
    """Split into ``(train, test)`` with every record of a prompt on the same side.

    Groups are sorted, shuffled with ``seed`` and moved into test until it holds about
    ``test_fraction`` of the *records*; the result depends on the seed and the set of
    records, not on their order. With two or more prompts both sides are non-empty.
    Each side keeps the input order.
    """
    if isinstance(test_fraction, bool) or not 0.0 < test_fraction < 1.0:
        raise ConfigError(f"test_fraction must be strictly between 0 and 1, got {test_fraction!r}")
    keys = [record.group for record in records]  # computed once: group hashes the prompt
    sizes: dict[str, int] = {}
    for key in keys:
        sizes[key] = sizes.get(key, 0) + 1
    if len(sizes) < 2:
        raise DataError(
            f"cannot split {len(records)} records by prompt: they hold {len(sizes)} distinct prompt(s), "
            "and a split by prompt needs at least 2"
        )
    groups = sorted(sizes)
    random.Random(seed).shuffle(groups)
    target = test_fraction * len(records)
    test_groups: set[str] = set()
    test_count = 0
    for group in groups[:-1]:  # the last group always stays in train
        if test_groups and test_count + sizes[group] / 2 > target:
            continue  # adding this group would overshoot more than it helps; try smaller ones
        test_groups.add(group)
        test_count += sizes[group]
        if test_count >= target:
            break
    train = [r for r, key in zip(records, keys, strict=True) if key not in test_groups]
    test = [r for r, key in zip(records, keys, strict=True) if key in test_groups]
    return train, test
