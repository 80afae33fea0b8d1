"""Writing a world to disk: JSONL records plus the truth (annotators, config, counts).

Files are byte-identical for the same config: every row is built in prompt order with
insertion-ordered keys, and floats are rounded where they are made.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rewardlab.data.records import Label, Ranking, Rating, comparison_to_json, dumps_jsonl, prompt_to_json
from rewardlab.synth.ceiling import noise_ceiling
from rewardlab.synth.gold import GOLD_WEIGHTS, GOOD_THRESHOLD
from rewardlab.synth.world import World

__all__ = ["write_world"]


def _record_to_json(record: Ranking | Rating | Label) -> dict[str, Any]:
    """The native JSONL row of a ranking, rating or label, in the shape of ``comparison_to_json``."""
    row: dict[str, Any] = {}
    for name, value in asdict(record).items():
        if name == "prompt":
            row[name] = prompt_to_json(record.prompt)
        elif value is not None:
            row[name] = list(value) if isinstance(value, tuple) else value
    return row


def _response_rows(world: World) -> list[dict[str, Any]]:
    return [
        {
            "id": c.id,
            "prompt_id": p.id,
            "family": p.family,
            "prompt": p.prompt,
            "response": c.text,
            "gold": c.gold,
            "attributes": c.attributes.to_dict(),
        }
        for p in world.prompts
        for c in p.candidates
    ]


def _summary(world: World, n_pairs: int, ceiling: dict[str, float], counts: dict[str, int]) -> dict[str, Any]:
    families: dict[str, int] = {}
    for p in world.prompts:
        families[p.family] = families.get(p.family, 0) + 1
    config = asdict(world.config)
    config["families"] = list(world.config.families)
    return {
        "config": config,
        "gold_weights": GOLD_WEIGHTS,
        "good_threshold": GOOD_THRESHOLD,
        "counts": {
            "prompts": len(world.prompts),
            "responses": sum(len(p.candidates) for p in world.prompts),
            "pairs": n_pairs,
            **counts,
            "prompts_per_family": families,
        },
        "noise_ceiling": {k: round(v, 6) for k, v in ceiling.items()},
    }


def write_world(world: World, out_dir: str | Path) -> dict[str, Path]:
    """Write the world's records and truth under ``out_dir``; returns name -> path.

    ``pairs.jsonl`` (comparisons), ``rankings.jsonl``, ``ratings.jsonl``, ``labels.jsonl``,
    ``responses.jsonl`` (every candidate with gold and attributes), ``annotators.json``
    (each annotator's true temperature, tie threshold and biases) and ``world.json``
    (the config and summary counts, including the noise ceiling of the pairs).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    comparisons = world.comparisons()
    rows = {
        "pairs": [comparison_to_json(c) for c in comparisons],
        "rankings": [_record_to_json(r) for r in world.rankings()],
        "ratings": [_record_to_json(r) for r in world.ratings()],
        "labels": [_record_to_json(r) for r in world.labels()],
        "responses": _response_rows(world),
    }
    paths: dict[str, Path] = {}
    for name, data in rows.items():
        paths[name] = out / f"{name}.jsonl"
        paths[name].write_text(dumps_jsonl(data), encoding="utf-8")
    counts = {name: len(data) for name, data in rows.items() if name in ("rankings", "ratings", "labels")}
    documents = {
        "annotators": [a.to_dict() for a in world.annotators],
        "world": _summary(world, len(comparisons), noise_ceiling(comparisons), counts),
    }
    for name, doc in documents.items():
        paths[name] = out / f"{name}.json"
        paths[name].write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return paths
