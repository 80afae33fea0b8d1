"""Cutting one batch into forwards so that short inputs are not padded to the longest one.

A forward costs about ``overhead + longest_input x count`` token-steps: padding is computed
like real tokens, and every forward has a fixed cost. On a CPU (compute-bound) a batch of
mixed lengths is cheaper as a few forwards of similar lengths; on a GPU the fixed cost
dominates and one forward is best. :func:`plan_forwards` finds the cheapest cut of the
length-sorted batch exactly, by dynamic programming over the cut points (O(n^2), n <= a few
hundred). Scores do not depend on the cut (invariant 2, docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["plan_forwards"]


def plan_forwards(lengths: Sequence[int], *, overhead_tokens: int, max_size: int) -> list[list[int]]:
    """Indices into ``lengths`` grouped into forwards, longest first, minimising padded tokens + overhead.

    Each group holds at most ``max_size`` inputs; ``overhead_tokens`` is the fixed cost of one
    forward in token-steps (large: never split; 0: split wherever padding would be computed).
    """
    if max_size < 1:
        raise ValueError(f"max_size must be >= 1, got {max_size}")
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    sizes = [lengths[i] for i in order]
    n = len(sizes)
    best = [0] + [float("inf")] * n  # best[j]: cheapest cost of the first j inputs (longest first)
    start = [0] * (n + 1)
    for j in range(1, n + 1):
        for i in range(max(0, j - max_size), j):  # the last forward holds inputs i..j-1, padded to sizes[i]
            cost = best[i] + overhead_tokens + sizes[i] * (j - i)
            if cost < best[j]:
                best[j], start[j] = cost, i
    groups: list[list[int]] = []
    j = n
    while j > 0:
        groups.append(order[start[j] : j])
        j = start[j]
    return groups[::-1]
