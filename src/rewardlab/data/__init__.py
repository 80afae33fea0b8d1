"""Preference data: records, format readers, validation and splits.

``load_comparisons`` reads pairwise preferences from any supported file or data set into
``Comparison`` records with a ``DataReport``; ``apply_length_policy`` and
``split_by_prompt`` prepare them for training. See docs/data.md.
"""

from rewardlab.data.formats import detect_format
from rewardlab.data.length import LengthPolicy, LengthReport, apply_length_policy
from rewardlab.data.load import DataReport, Format, LoadedData, OnInvalid, load_comparisons
from rewardlab.data.records import (
    Comparison,
    Label,
    Message,
    Prompt,
    Ranking,
    Rating,
    comparison_to_json,
    prompt_key,
    prompt_text,
)
from rewardlab.data.split import split_by_prompt
from rewardlab.data.validation import InvalidRecordError

__all__ = [
    "Comparison",
    "DataReport",
    "Format",
    "InvalidRecordError",
    "Label",
    "LengthPolicy",
    "LengthReport",
    "LoadedData",
    "Message",
    "OnInvalid",
    "Prompt",
    "Ranking",
    "Rating",
    "apply_length_policy",
    "comparison_to_json",
    "detect_format",
    "load_comparisons",
    "prompt_key",
    "prompt_text",
    "split_by_prompt",
]
