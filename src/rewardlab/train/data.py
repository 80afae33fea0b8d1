"""Turn a run's data config into training records and held-out pairs, with every decision reported.

Training records are of the type the objective needs (pairs, rankings, ratings or labels);
the held-out set is always pairs, so every objective is judged on one pairwise yardstick
(rankings, ratings and labels become pairs through ``records_to_eval_pairs``). On the
synthetic world every signal type comes from the same train prompts, so objectives compare
at the same annotation budget per prompt.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rewardlab.data import (
    Comparison,
    Label,
    Ranking,
    Rating,
    comparison_to_json,
    load_comparisons,
    load_labels,
    load_rankings,
    load_ratings,
    records_to_eval_pairs,
    split_by_prompt,
)
from rewardlab.errors import ConfigError, DataError
from rewardlab.synth import World, generate_world
from rewardlab.train.config import RunConfig

__all__ = ["Record", "RunData", "data_hash", "load_run_data"]

Record = Comparison | Ranking | Rating | Label


@dataclass
class RunData:
    """Training records, held-out pairs, and what happened to the rest."""

    train: list[Any]  # records of the objective's type (list[Record])
    heldout: list[Comparison]
    notes: list[str] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)
    world: World | None = None


def _record_json(r: Record) -> Any:
    if isinstance(r, Comparison):
        return comparison_to_json(r)
    return [type(r).__name__, repr(r)]  # frozen dataclasses: repr covers every field deterministically


def data_hash(records: list[Any]) -> str:
    """A content hash of the records (order-sensitive), saved with the model for provenance."""
    h = hashlib.sha256()
    for r in records:
        h.update(json.dumps(_record_json(r), sort_keys=True, ensure_ascii=False).encode())
    return h.hexdigest()


def _drop_ties(records: list[Comparison], policy: str, where: str, notes: list[str]) -> list[Comparison]:
    ties = [r for r in records if r.tie]
    if not ties:
        return records
    if policy == "error":
        first = ties[0].meta
        raise DataError(
            f"{len(ties)} tied pairs but this loss has no tie term; set data.ties=drop, "
            "or loss.name=tie_bt to train on ties",
            source=first.get("source"), line=first.get("line"), field="tie",
        )
    notes.append(f"{where}: dropped {len(ties)} tied pairs of {len(records)} (data.ties=drop)")
    return [r for r in records if not r.tie]


_LOADERS: dict[str, Callable[..., Any]] = {
    "pairs": load_comparisons, "rankings": load_rankings, "ratings": load_ratings, "labels": load_labels,
}


def _world_records(world: World, kind: str) -> list[Any]:
    if kind == "pairs":
        return list(world.comparisons())
    if kind == "rankings":
        return list(world.rankings())
    return list(world.ratings()) if kind == "ratings" else list(world.labels())


def _as_pairs(records: list[Any], kind: str, notes: list[str], where: str) -> list[Comparison]:
    if kind == "pairs":
        return records
    pairs, counts = records_to_eval_pairs(records)
    notes.append(f"{where}: {len(records)} {kind} become {len(pairs)} pairs for evaluation ({counts})")
    return pairs


def check_data_paths(cfg: RunConfig) -> None:
    """A ConfigError naming the key when ``data.train`` or ``data.eval`` is a local path that does not exist."""
    from rewardlab.data.sources import SUFFIXES, looks_local

    for key, value in (("data.train", cfg.data.train), ("data.eval", cfg.data.eval)):
        if value is None or value == "synth":
            continue
        path = Path(value).expanduser()
        if not path.exists() and (looks_local(path) or value.lower().endswith(SUFFIXES)):
            raise ConfigError(f"{key}: {value} does not exist (a relative path in a config file is read from the "
                              "file's folder, one given with --set from the current directory)")


def load_run_data(cfg: RunConfig) -> RunData:
    """Load or generate the run's records and split them by prompt when no eval set is given."""
    d = cfg.data
    kind = cfg.loss.records
    check_data_paths(cfg)
    notes: list[str] = []
    world = None
    if d.train == "synth":
        world = generate_world(cfg.synth)
        pairs = world.comparisons()
        notes.append(f"synthetic world: {len(world.prompts)} prompts, {len(pairs)} labelled pairs "
                     f"(seed {cfg.synth.seed})")
        train_pairs, heldout = split_by_prompt(pairs, d.test_fraction, d.split_seed)
        notes.append(f"split by prompt (seed {d.split_seed}): {len(train_pairs)} train / {len(heldout)} held-out pairs")
        if kind == "pairs":
            train: list[Any] = train_pairs
        else:
            held_groups = {r.group for r in heldout}
            train = [r for r in _world_records(world, kind) if r.group not in held_groups]
            notes.append(f"training on the world's {kind} of the same train prompts: {len(train)} records")
    else:
        # data.format names pairwise formats; rankings, ratings and labels detect their own
        fmt = d.format if kind == "pairs" or d.format == "rewardlab" else "auto"
        columns = dict(d.columns) or None
        loaded = _LOADERS[kind](d.train, format=fmt, split=d.split, on_invalid=d.on_invalid, limit=d.limit,
                                columns=columns)
        records = list(loaded.records)
        notes.append(loaded.report.summary())
        if d.eval is not None:
            ev = _LOADERS[kind](d.eval, format=fmt, on_invalid=d.on_invalid, columns=columns)
            notes.append(ev.report.summary())
            train, held = records, list(ev.records)
            overlap = {r.group for r in train} & {r.group for r in held}
            if overlap:
                notes.append(f"warning: {len(overlap)} prompts appear in both train and eval data")
        else:
            train, held = split_by_prompt(records, d.test_fraction, d.split_seed)
            notes.append(f"split by prompt (seed {d.split_seed}): {len(train)} train / {len(held)} held-out {kind}")
        heldout = _as_pairs(held, kind, notes, "held-out")
    if kind == "pairs" and cfg.loss.name != "tie_bt":
        train = _drop_ties(train, d.ties, "train", notes)
    if not train:
        raise DataError(f"no training {kind} left after splitting and tie handling", source=d.train)
    counts = {f"train_{kind}": len(train), "heldout_pairs": len(heldout)}
    if kind == "pairs":
        counts["train_pairs"] = len(train)
    return RunData(train=train, heldout=heldout, notes=notes, counts=counts, world=world)
