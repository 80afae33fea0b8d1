"""OpenRLHF's remote reward-model conventions: full model-input texts, decoded with their pads.

OpenRLHF (``--remote_rm_url``) posts ``{"query": [text, ...]}`` where each text is the whole model
input (prompt and response, already formatted), built with ``batch_decode(...,
skip_special_tokens=False)`` of padded sequences, and reads back ``rewards`` (newer versions
``scores``). The pads are decoding residue, never content: they are stripped before scoring.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["openrlhf_texts", "strip_pad"]


def strip_pad(text: str, pad: str | None) -> str:
    """``text`` without leading or trailing copies of the pad token's text."""
    if not pad:
        return text
    while text.startswith(pad):
        text = text[len(pad):]
    while text.endswith(pad):
        text = text[: -len(pad)]
    return text


def openrlhf_texts(queries: Sequence[str], pad: str | None) -> list[str]:
    """The texts to score for an OpenRLHF ``query`` list: each with its pads stripped."""
    return [strip_pad(q, pad) for q in queries]
