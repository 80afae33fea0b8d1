"""What a model was trained on, kept in its directory so evaluation can warn about training data.

A trained model directory holds ``train_prompts.txt``: one 16-hex-digit SHA-256 prefix per
distinct training prompt (the prompt text, or its chat messages as canonical JSON), sorted.
It reveals no text, and lets ``rewardlab eval`` and ``rewardlab audit`` count how many of their
prompts the model was trained on: accuracy on training prompts overstates held-out accuracy.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["TRAIN_PROMPTS_FILE", "overlap", "prompt_key", "read_train_prompts", "write_train_prompts"]

TRAIN_PROMPTS_FILE = "train_prompts.txt"


def prompt_key(prompt: Any) -> str:
    """A short, stable fingerprint of one prompt (a string or chat messages)."""
    if isinstance(prompt, str):
        text = prompt
    else:
        text = json.dumps([[getattr(m, "role", None), getattr(m, "content", None)] for m in prompt])
    return hashlib.sha256(text.strip().encode("utf-8", "surrogatepass")).hexdigest()[:16]


def write_train_prompts(model_dir: Path, records: Iterable[Any]) -> None:
    """Write the fingerprints of ``records``' prompts into ``model_dir`` (every record kind has ``.prompt``)."""
    keys = sorted({prompt_key(r.prompt) for r in records})
    (model_dir / TRAIN_PROMPTS_FILE).write_text("".join(k + "\n" for k in keys), encoding="ascii")


def read_train_prompts(model_dir: Path) -> set[str] | None:
    """The fingerprints saved with a model, or ``None`` when it has none (or they cannot be read)."""
    try:
        text = (model_dir / TRAIN_PROMPTS_FILE).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return None
    return {line.strip() for line in text.splitlines() if len(line.strip()) == 16}


def overlap(model_dir: str | Path, prompts: Iterable[Any]) -> tuple[int, int] | None:
    """``(distinct evaluation prompts the model trained on, distinct evaluation prompts)``, or ``None``."""
    trained = read_train_prompts(Path(model_dir))
    if trained is None:
        return None
    keys = {prompt_key(p) for p in prompts}
    return len(keys & trained), len(keys)
