"""Training examples of every signal, tokenized once: groups of sequences plus numeric targets.

An example is the sequences of one judgment and the numbers its objective needs:

- a pair: ``[chosen, rejected]`` with ``(margin, tie, annotator index)``;
- a ranking: its K responses best to worst, no numbers;
- a rating: ``[response]`` with ``(target_1..target_A, observed_1..observed_A)``;
- a label: ``[response]`` with ``(1.0 | 0.0,)``.

Every sequence of a batch goes through the model in one forward pass; ``slots`` maps each
example's sequences to rows of that pass, so a K-way ranking is scored in one batch. Identical
sequences of a batch share one row: a response that appears in several pairs of a prompt is
scored once, and its gradient is the sum over the pairs, exactly as if it were scored for each.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from rewardlab.data.records import Comparison, Label, Ranking, Rating
from rewardlab.errors import DataError
from rewardlab.models.reward_model import RewardModel, pad_batch
from rewardlab.objectives import strength_margin
from rewardlab.train.config import LossConfig

__all__ = ["Batch", "Examples", "TargetScale", "build_examples"]


@dataclass(frozen=True)
class Examples:
    """Tokenized examples: ``seqs[e]`` are example ``e``'s sequences, ``values[e]`` its numbers.

    ``groups[e]`` numbers example ``e``'s prompt (examples of one prompt share a number), so
    batching can keep a prompt's examples together; ``None`` when unknown.
    """

    seqs: list[list[list[int]]]
    values: list[list[float]]
    groups: list[int] | None = None

    def __len__(self) -> int:
        return len(self.seqs)

    def lengths(self) -> list[int]:
        """Padded cost of each example for length bucketing: its longest sequence."""
        return [max(len(s) for s in group) for group in self.seqs]

    def subset(self, indices: Sequence[int]) -> Examples:
        groups = None if self.groups is None else [self.groups[i] for i in indices]
        return Examples([self.seqs[i] for i in indices], [self.values[i] for i in indices], groups)


@dataclass(frozen=True)
class Batch:
    """One forward pass worth of examples.

    ``input_ids``/``attention_mask``: ``[N, T]`` every sequence of the batch; ``slots``:
    ``[E, K]`` row of each example's k-th sequence (``-1`` where an example has fewer; examples
    with the same sequence point at the same row); ``values``: ``[E, V]`` the examples' numbers.
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    slots: torch.Tensor
    values: torch.Tensor

    @property
    def size(self) -> int:
        return int(self.slots.shape[0])

    @classmethod
    def collate(cls, examples: Examples, indices: Sequence[int], pad_id: int) -> Batch:
        flat: list[list[int]] = []
        rows: dict[tuple[int, ...], int] = {}
        width = max(len(examples.seqs[i]) for i in indices)
        slots = torch.full((len(indices), width), -1, dtype=torch.long)
        for row, i in enumerate(indices):
            for k, seq in enumerate(examples.seqs[i]):
                key = tuple(seq)
                if key not in rows:
                    rows[key] = len(flat)
                    flat.append(seq)
                slots[row, k] = rows[key]
        ids, mask = pad_batch(flat, pad_id)
        values = torch.tensor([examples.values[i] for i in indices], dtype=torch.float32)
        return cls(ids, mask, slots, values.reshape(len(indices), -1))


@dataclass(frozen=True)
class TargetScale:
    """Per-attribute mean and std used to standardize rating targets (kept with the model)."""

    mean: tuple[float, ...]
    std: tuple[float, ...]


def _pair_values(r: Comparison, cfg: LossConfig, annotators: dict[str, int]) -> list[float]:
    if cfg.margin == "field":
        margin = float(r.margin or 0.0)
    elif cfg.margin == "strength":
        margin = strength_margin(r.strength, cfg.strength_margins)
    else:
        margin = 0.0
    ann = annotators.get(r.annotator, -1) if r.annotator is not None else -1
    return [margin, 1.0 if r.tie else 0.0, float(ann)]


def rating_scale(records: Sequence[Rating], attributes: Sequence[str], standardize: bool) -> TargetScale:
    """Mean/std of each attribute over the records that have it (identity when not standardizing)."""
    means, stds = [], []
    for name in attributes:
        xs = [r.ratings[name] for r in records if name in r.ratings]
        if not xs:
            raise DataError(f"no training rating has the attribute {name!r}; check loss.attributes")
        mean = sum(xs) / len(xs)
        std = math.sqrt(sum((x - mean) ** 2 for x in xs) / len(xs)) or 1.0
        means.append(mean if standardize else 0.0)
        stds.append(std if standardize else 1.0)
    return TargetScale(tuple(means), tuple(stds))


def _rating_values(r: Rating, attributes: Sequence[str], scale: TargetScale) -> list[float]:
    targets = [(r.ratings[a] - m) / s if a in r.ratings else 0.0 for a, m, s in zip(attributes, scale.mean, scale.std)]
    return targets + [1.0 if a in r.ratings else 0.0 for a in attributes]


def build_examples(
    model: RewardModel,
    records: Sequence[Comparison | Ranking | Rating | Label],
    cfg: LossConfig,
    *,
    annotators: dict[str, int] | None = None,
    scale: TargetScale | None = None,
) -> Examples:
    """Tokenize ``records`` (all of the type ``cfg.records`` names) into training examples."""
    annotators = annotators or {}
    kind = cfg.records
    expected = {"pairs": Comparison, "rankings": Ranking, "ratings": Rating, "labels": Label}[kind]
    wrong = next((r for r in records if not isinstance(r, expected)), None)
    if wrong is not None:
        raise DataError(f"loss.name={cfg.name} trains on {kind} but got a {type(wrong).__name__} record")
    prompts: list = []
    responses: list[str] = []
    owners: list[int] = []
    values: list[list[float]] = []
    group_ids: dict[str, int] = {}
    groups = [group_ids.setdefault(r.group, len(group_ids)) for r in records]
    for e, r in enumerate(records):
        if isinstance(r, Comparison):
            texts = [r.chosen, r.rejected]
            values.append(_pair_values(r, cfg, annotators))
        elif isinstance(r, Ranking):
            texts = list(r.responses)
            values.append([])
        elif isinstance(r, Rating):
            texts = [r.response]
            values.append(_rating_values(r, cfg.attributes, scale or TargetScale((0.0,) * len(cfg.attributes),
                                                                              (1.0,) * len(cfg.attributes))))
        else:
            texts = [r.response]
            values.append([1.0 if r.good else 0.0])
        prompts.extend([r.prompt] * len(texts))
        responses.extend(texts)
        owners.extend([e] * len(texts))
    ids = model.encode(prompts, responses)
    seqs: list[list[list[int]]] = [[] for _ in records]
    for owner, seq in zip(owners, ids):
        seqs[owner].append(seq)
    return Examples(seqs, values, groups)
