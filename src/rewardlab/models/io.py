"""Model directories: a standard Hugging Face export plus ``rewardlab.json`` and a model card.

The directory loads with ``AutoModelForSequenceClassification.from_pretrained(dir)`` and gives
the same rewards as rewardlab (invariant 3, docs/architecture.md). ``rewardlab.json`` holds what plain
transformers does not know: the input format, max length, reward statistics for
normalization, and whatever the training run recorded (data hash, metrics).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rewardlab.errors import ModelError
from rewardlab.models.metadata import check_metadata

__all__ = ["FORMAT_VERSION", "METADATA_FILE", "read_metadata"]

METADATA_FILE = "rewardlab.json"
FORMAT_VERSION = 1


def read_metadata(path: Path) -> dict[str, Any] | None:
    """The parsed ``rewardlab.json`` of a model directory, or ``None`` if it has none."""
    file = path / METADATA_FILE
    if not file.exists():
        return None
    if not file.is_file():
        raise ModelError(f"{file} is not a file; a model directory's {METADATA_FILE} is a JSON object")
    try:
        meta = json.loads(file.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ModelError(f"{file} is not UTF-8 text ({exc.reason}); re-export the model") from None
    except (ValueError, RecursionError) as exc:
        raise ModelError(f"{file} is not valid JSON: {exc}") from None
    except OSError as exc:
        raise ModelError(f"{file} cannot be read: {exc}") from None
    if not isinstance(meta, dict):
        raise ModelError(f"{file} must hold a JSON object, got {type(meta).__name__}; re-export the model")
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelError(f"{file} has format_version {version!r}; this rewardlab reads {FORMAT_VERSION}")
    return check_metadata(meta, file)
