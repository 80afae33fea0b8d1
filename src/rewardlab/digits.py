"""How many decimals to print, so that numbers on one scale read alike (terminal tables and the report)."""

from __future__ import annotations

import math

__all__ = ["decimals_for"]


def decimals_for(scale: float | None, significant: int = 3) -> int:
    """Decimals that give ``scale`` ``significant`` digits (``1.34`` → 2, ``0.0207`` → 4); 3 without one.

    A table formats every number on one scale (a reward's standard deviation, say) with the same
    decimals, so its columns line up and read alike whatever the model's reward scale.
    """
    if scale is None or not math.isfinite(scale) or scale == 0:
        return 3
    return max(0, min(8, significant - 1 - math.floor(math.log10(abs(scale)))))
