"""Turn a run's data config into train and held-out comparisons, with every decision reported."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from rewardlab.data import Comparison, comparison_to_json, load_comparisons, split_by_prompt
from rewardlab.errors import DataError
from rewardlab.synth import World, generate_world
from rewardlab.train.config import RunConfig

__all__ = ["RunData", "data_hash", "load_run_data"]


@dataclass
class RunData:
    """Train and held-out comparisons plus what happened to the rest."""

    train: list[Comparison]
    heldout: list[Comparison]
    notes: list[str] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)
    world: World | None = None


def data_hash(records: list[Comparison]) -> str:
    """A content hash of the records (order-sensitive), saved with the model for provenance."""
    h = hashlib.sha256()
    for r in records:
        h.update(json.dumps(comparison_to_json(r), sort_keys=True, ensure_ascii=False).encode())
    return h.hexdigest()


def _drop_ties(records: list[Comparison], policy: str, where: str, notes: list[str]) -> list[Comparison]:
    ties = [r for r in records if r.tie]
    if not ties:
        return records
    if policy == "error":
        first = ties[0].meta
        raise DataError(
            f"{len(ties)} tied pairs but the Bradley-Terry loss has no tie term; set data.ties=drop",
            source=first.get("source"), line=first.get("line"), field="tie",
        )
    notes.append(f"{where}: dropped {len(ties)} tied pairs of {len(records)} (data.ties=drop)")
    return [r for r in records if not r.tie]


def load_run_data(cfg: RunConfig) -> RunData:
    """Load or generate the run's comparisons and split them by prompt when no eval set is given."""
    d = cfg.data
    notes: list[str] = []
    world = None
    if d.train == "synth":
        world = generate_world(cfg.synth)
        records = world.comparisons()
        notes.append(f"synthetic world: {len(world.prompts)} prompts, {len(records)} labelled pairs "
                     f"(seed {cfg.synth.seed})")
    else:
        loaded = load_comparisons(d.train, format=d.format, split=d.split, on_invalid=d.on_invalid, limit=d.limit)
        records = loaded.records
        notes.append(loaded.report.summary())
    if d.eval is not None:
        ev = load_comparisons(d.eval, format=d.format, on_invalid=d.on_invalid)
        notes.append(ev.report.summary())
        train, heldout = records, ev.records
        overlap = {r.group for r in train} & {r.group for r in heldout}
        if overlap:
            notes.append(f"warning: {len(overlap)} prompts appear in both train and eval data")
    else:
        train, heldout = split_by_prompt(records, d.test_fraction, d.split_seed)
        notes.append(f"split by prompt (seed {d.split_seed}): {len(train)} train / {len(heldout)} held-out pairs")
    train = _drop_ties(train, d.ties, "train", notes)
    if not train:
        raise DataError("no training pairs left after splitting and tie handling", source=d.train)
    counts = {"train_pairs": len(train), "heldout_pairs": len(heldout)}
    return RunData(train=train, heldout=heldout, notes=notes, counts=counts, world=world)
