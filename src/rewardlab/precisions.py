"""The numeric precision choices, defined once (no torch import): configs, the CLI and the docs use them.

What each means on a device, and the casting, is in :mod:`rewardlab.models.precision`.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["PRECISIONS", "Precision"]

#: ``auto``: bf16 where the hardware runs it fast (AMX / AVX512-BF16 CPUs, bf16 GPUs), else fp32.
Precision = Literal["auto", "fp32", "bf16"]
PRECISIONS: tuple[str, ...] = get_args(Precision)
