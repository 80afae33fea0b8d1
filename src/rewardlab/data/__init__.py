"""Preference data: records, format readers, validation and splits.

``load_comparisons`` reads pairwise preferences from any supported file or data set into
``Comparison`` records with a ``DataReport``; ``load_rankings``, ``load_ratings`` and
``load_labels`` do the same for the other signal types, and ``records_to_eval_pairs``
turns any of them into pairs for one pairwise evaluation. ``apply_length_policy`` and
``split_by_prompt`` prepare records for training. See docs/data.md.
"""

from rewardlab.data.formats import detect_format
from rewardlab.data.length import LengthPolicy, LengthReport, apply_length_policy
from rewardlab.data.load import (
    DataReport,
    Format,
    LabelFormat,
    LoadedData,
    LoadedLabels,
    LoadedRankings,
    LoadedRatings,
    OnInvalid,
    RankingFormat,
    RatingFormat,
    load_comparisons,
    load_labels,
    load_rankings,
    load_ratings,
)
from rewardlab.data.pairs_from import AnyRecord, records_to_eval_pairs
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
    "AnyRecord",
    "Comparison",
    "DataReport",
    "Format",
    "InvalidRecordError",
    "Label",
    "LabelFormat",
    "LengthPolicy",
    "LengthReport",
    "LoadedData",
    "LoadedLabels",
    "LoadedRankings",
    "LoadedRatings",
    "Message",
    "OnInvalid",
    "Prompt",
    "Ranking",
    "RankingFormat",
    "Rating",
    "RatingFormat",
    "apply_length_policy",
    "comparison_to_json",
    "detect_format",
    "load_comparisons",
    "load_labels",
    "load_rankings",
    "load_ratings",
    "prompt_key",
    "prompt_text",
    "records_to_eval_pairs",
    "split_by_prompt",
]
