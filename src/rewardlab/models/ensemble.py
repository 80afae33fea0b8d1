"""Reward-model ensembles: K members in one directory, scored with mean, min or mean − λ·std.

Coste et al. (2023), "Reward Model Ensembles Help Mitigate Overoptimization": optimizing
against the worst case (``min``) or an uncertainty-penalized mean (``mean - λ·std``) of
several reward models trained with different seeds resists reward hacking better than one
model. The spread across members is also a useful uncertainty signal for serving.

Directory layout::

    model/
      rewardlab.json      {"model_type": "ensemble", "members": ["member-0", ...], "aggregate": ..., "lam": ...}
      README.md
      member-0/           a complete rewardlab model directory (standard HF export)
      member-1/ ...
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import torch

from rewardlab import __version__
from rewardlab.data.records import Prompt
from rewardlab.errors import ModelError
from rewardlab.models.formatting import coerce_pairs
from rewardlab.models.io import FORMAT_VERSION, METADATA_FILE, read_metadata
from rewardlab.models.metadata import typed_load
from rewardlab.models.normalization import normalize_rewards
from rewardlab.models.reward_model import RewardModel

__all__ = ["Aggregate", "RewardEnsemble", "aggregate_rewards"]

Aggregate = Literal["mean", "min", "mean_minus_std"]


def aggregate_rewards(member_rewards: torch.Tensor, how: Aggregate, lam: float = 1.0) -> torch.Tensor:
    """Combine ``[M, N]`` member rewards into ``[N]``: ``mean``, ``min`` or ``mean - lam * std``.

    ``std`` is the population standard deviation across members (0 for a single member).
    """
    if how == "mean":
        return member_rewards.mean(0)
    if how == "min":
        return member_rewards.min(0).values
    if how == "mean_minus_std":
        return member_rewards.mean(0) - lam * member_rewards.std(0, unbiased=False)
    raise ModelError(f"unknown ensemble aggregate {how!r}; choose mean, min or mean_minus_std")


class RewardEnsemble:
    """K reward models scored together; the same ``score`` API as :class:`RewardModel`."""

    def __init__(self, members: Sequence[RewardModel], *, aggregate: Aggregate = "mean", lam: float = 1.0,
                 metadata: dict[str, Any] | None = None) -> None:
        if not members:
            raise ModelError("an ensemble needs at least one member")
        self.members = list(members)
        self.aggregate: Aggregate = aggregate
        self.lam = float(lam)
        self.metadata: dict[str, Any] = dict(metadata or {})
        first = self.members[0]
        self.input_format, self.max_length, self.tokenizer = first.input_format, first.max_length, first.tokenizer
        # Members of one backbone share a tokenizer and format: tokenize once for all of them (public: the
        # server serves only such ensembles).
        self.shares_inputs = all(m.input_format == first.input_format and m.max_length == first.max_length
                                  and type(m.tokenizer) is type(first.tokenizer)
                                  and m.tokenizer.get_vocab() == first.tokenizer.get_vocab() for m in self.members)

    def format(self, prompt: Prompt, response: str) -> str:
        return self.members[0].format(prompt, response)

    def member_scores(self, prompts: Sequence[Prompt], responses: Sequence[str], *, batch_size: int = 32,
                      precision: str = "auto") -> torch.Tensor:
        """``[M, N]`` raw rewards of every member."""
        if self.shares_inputs:
            ids = self.members[0].encode(prompts, responses)
            rows = [m.score_ids(ids, batch_size=batch_size, precision=precision) for m in self.members]
        else:
            rows = [m.score(prompts, responses, batch_size=batch_size, precision=precision) for m in self.members]
        return torch.tensor(rows, dtype=torch.float64)

    def score(self, prompts: Sequence[Prompt], responses: Sequence[str], *, batch_size: int = 32,
              precision: str = "auto", normalize: bool = False, aggregate: Aggregate | None = None,
              lam: float | None = None) -> list[float]:
        """One reward per (prompt, response) by the saved (or the given) aggregate (shapes as ``RewardModel.score``)."""
        prompts, responses = coerce_pairs(prompts, responses)
        rewards = self.member_scores(prompts, responses, batch_size=batch_size, precision=precision)
        out = [float(x) for x in aggregate_rewards(rewards, aggregate or self.aggregate,
                                                   self.lam if lam is None else lam).tolist()]
        return self.normalize(out) if normalize else out

    def score_with_uncertainty(self, prompts: Sequence[Prompt], responses: Sequence[str], *, batch_size: int = 32,
                               precision: str = "auto") -> tuple[list[float], list[float]]:
        """``(aggregated reward, spread)`` per item; the spread is the std across members."""
        rewards = self.member_scores(prompts, responses, batch_size=batch_size, precision=precision)
        agg = aggregate_rewards(rewards, self.aggregate, self.lam)
        return [float(x) for x in agg.tolist()], [float(x) for x in rewards.std(0, unbiased=False).tolist()]

    def normalize(self, rewards: Sequence[float]) -> list[float]:
        """``(r - mean) / std`` with the saved reward statistics (``models/normalization.py``)."""
        return normalize_rewards(rewards, self.metadata)

    # ------------------------------------------------------------------ save / load
    def save_pretrained(self, path: str | os.PathLike[str]) -> Path:
        """Write every member into ``path/member-k`` and the ensemble's ``rewardlab.json``."""
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        names = []
        for k, member in enumerate(self.members):
            names.append(f"member-{k}")
            member.save_pretrained(out / names[-1])
        self.write_metadata(out, names)
        return out

    def write_metadata(self, out: Path, names: list[str] | None = None) -> None:
        names = names or [f"member-{k}" for k in range(len(self.members))]
        meta = {**self.metadata, "format_version": FORMAT_VERSION, "rewardlab_version": __version__,
                "model_type": "ensemble", "members": names, "aggregate": self.aggregate, "lam": self.lam,
                "input_format": self.input_format.to_dict(), "max_length": self.max_length}
        (out / METADATA_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        (out / "README.md").write_text(_card(meta))

    @classmethod
    @typed_load
    def from_pretrained(cls, path: str | os.PathLike[str]) -> RewardEnsemble:
        root = Path(path)
        meta = read_metadata(root)
        if meta is None or meta.get("model_type") != "ensemble":
            raise ModelError(f"{root} is not a rewardlab ensemble directory (rewardlab.json model_type != ensemble)")
        members = meta.get("members") or []  # plain names: checked by models/metadata.py
        missing = [m for m in members if not (root / m).is_dir()]
        if not members or missing:
            raise ModelError(f"{root}: ensemble members missing on disk: {missing or 'none listed'}")
        inside = root.resolve()
        escaped = [m for m in members if not (root / m).resolve().is_relative_to(inside)]
        if escaped:
            raise ModelError(f"{root}: ensemble members {escaped} link outside the ensemble directory; members must "
                             "live inside it")
        return cls([RewardModel.from_pretrained(root / m) for m in members], aggregate=meta.get("aggregate", "mean"),
                   lam=float(meta.get("lam", 1.0)), metadata=meta)

    @classmethod
    def assemble(cls, member_dirs: Sequence[Path], out: Path, *, aggregate: Aggregate, lam: float,
                 metadata: dict[str, Any] | None = None) -> RewardEnsemble:
        """Move trained member directories into one ensemble directory and load it."""
        out.mkdir(parents=True, exist_ok=True)
        names = []
        for k, src in enumerate(member_dirs):
            names.append(f"member-{k}")
            dest = out / names[-1]
            if dest.exists():
                shutil.rmtree(dest)
            shutil.move(str(src), dest)
        ensemble = cls([RewardModel.from_pretrained(out / n) for n in names], aggregate=aggregate, lam=lam,
                       metadata=metadata)
        ensemble.write_metadata(out, names)
        return ensemble


def _card(meta: dict[str, Any]) -> str:
    members = meta["members"]
    return f"""---
library_name: transformers
tags: [reward-model, rewardlab, ensemble]
---

# Reward-model ensemble ({len(members)} members)

Trained with rewardlab {__version__}. Each `member-k/` directory is a complete reward model that loads
with `AutoModelForSequenceClassification.from_pretrained("PATH/member-k")` (see its README). The
ensemble's reward is the `{meta['aggregate']}` of the members' rewards (λ = {meta['lam']} for
`mean_minus_std`, Coste et al. 2023); the spread (std across members) is an uncertainty estimate.

```python
from rewardlab.models import load_model
rm = load_model("PATH")
rewards = rm.score(["What is 2 + 2?"], ["2 + 2 = 4."])
rewards, spread = rm.score_with_uncertainty(["What is 2 + 2?"], ["2 + 2 = 4."])
worst_case = rm.score(["What is 2 + 2?"], ["2 + 2 = 4."], aggregate="min")
```
"""
