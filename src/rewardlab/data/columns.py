"""Column mapping: read files whose columns have other names (``question``, ``response_a``, ...).

``columns={"prompt": "question", "chosen": "response_a", "rejected": "response_b"}`` renames
each row's ``question`` to ``prompt`` and so on before the format is detected, so every
reader and check then works as for a file with rewardlab's own names. A mapped column
missing from a row is reported under its own name (``question``, mapped to ``prompt``).
Pairwise-with-winner files (arena exports) map onto ``response_a``, ``response_b`` and
``winner`` (``model_a``/``model_b``/``tie``). From the command line:
``--columns prompt=question,chosen=good,rejected=bad`` or
``--columns prompt=question,response_a=answer_1,response_b=answer_2,winner=verdict``; in a run
config: ``data.columns: {prompt: question, ...}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rewardlab.errors import ConfigError

__all__ = ["FIELDS", "apply_columns", "check_columns", "parse_columns"]

#: rewardlab field names a file's columns can be mapped onto.
FIELDS = ("prompt", "chosen", "rejected", "response", "responses", "ranks", "tie", "margin", "strength", "subset",
          "annotator", "votes", "prompt_id", "gold", "gold_chosen", "gold_rejected", "rating", "ratings", "score",
          "good", "completion", "label", "id", "meta", "response_a", "response_b", "winner")


def check_columns(columns: Mapping[str, Any], where: str = "columns") -> None:
    """Each key a rewardlab field, each value a distinct, non-empty column name."""
    if not isinstance(columns, Mapping):
        raise ConfigError(f"{where} must map rewardlab fields to column names, got {columns!r}")
    for key, value in columns.items():
        if key not in FIELDS:
            raise ConfigError(f"{where}: {key!r} is not a field rewardlab reads; map onto one of {', '.join(FIELDS)}")
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where}.{key} must be a column name, got {value!r}")
    sources = list(columns.values())
    if len(set(sources)) != len(sources):
        raise ConfigError(f"{where} maps one column onto two fields: {dict(columns)}")


def parse_columns(text: str | None) -> dict[str, str]:
    """``prompt=question,chosen=response_a`` as a mapping (the ``--columns`` flag)."""
    if not text:
        return {}
    out: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        field, sep, column = part.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise ConfigError(f"--columns: {part!r} must look like FIELD=COLUMN, e.g. prompt=question")
        out[field.strip()] = column.strip()
    check_columns(out, "--columns")
    return out


def apply_columns(row: Mapping[str, Any], columns: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """``(renamed row, mapped columns missing from it)``; a field the row already has is replaced."""
    out = {k: v for k, v in row.items() if k not in columns.values()}
    missing = []
    for field, column in columns.items():
        if column in row:
            out[field] = row[column]
        else:
            missing.append(column)
            out.pop(field, None)
    return out, missing
