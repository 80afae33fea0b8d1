"""Reward heads on frozen embeddings: a small MLP and LightGBM gradient-boosted trees.

Sun, Shen & Ton (2025) show that a reward head on fixed embeddings only needs to *order*
responses, so a Bradley-Terry MLP, or any binary classifier trained on chosen = 1 /
rejected = 0 ("pairwise classification"), works; trees are a strong classifier of that kind.
A classifier's reward is its logit (log-odds), not its probability: the probability saturates
near 0 and 1 and would flatten the ranking of clearly good (or bad) responses.

Both heads map ``[N, D]`` float32 embeddings to ``[N]`` rewards with ``predict`` and save into
a model directory, returning the ``head`` section of ``rewardlab.json`` that :func:`load_head`
reads back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import torch

from rewardlab.errors import ConfigError, ModelError

__all__ = ["EmbeddingHead", "HeadObjective", "LightGBMHead", "MLPHead", "import_lightgbm", "load_head"]

HeadObjective = Literal["bradley_terry", "classification"]
_PREDICT_CHUNK = 8192  # rows per MLP forward: bounds memory, results do not depend on it


def import_lightgbm() -> Any:
    """The ``lightgbm`` module (the optional ``trees`` extra), imported only when a tree head is used."""
    try:
        import lightgbm
    except ImportError as exc:
        raise ConfigError(
            "embedding.head=lightgbm needs LightGBM, which is not installed: pip install 'rewardlab[trees]'"
        ) from exc
    return lightgbm


class EmbeddingHead(Protocol):
    """What :class:`~rewardlab.models.embedding_model.EmbeddingRewardModel` needs from a head."""

    objective: HeadObjective

    def predict(self, emb: np.ndarray) -> np.ndarray:
        """Rewards ``[N]`` (float32) for embeddings ``[N, D]``."""
        ...

    def save(self, path: Path) -> dict[str, Any]:
        """Write the head's file(s) into the directory ``path``; return its ``rewardlab.json`` section."""
        ...


def _check_width(emb: np.ndarray, dim: int) -> np.ndarray:
    emb = np.asarray(emb, dtype=np.float32)
    if emb.ndim != 2 or emb.shape[1] != dim:
        raise ModelError(f"the head expects embeddings of shape [N, {dim}], got {list(emb.shape)}")
    return emb


class MLPHead(torch.nn.Module):
    """Standardize, then ``Linear(D, hidden) -> GELU -> Linear(hidden, 1)``: one reward per embedding.

    Unit-norm embeddings have per-dimension spreads of about ``1/sqrt(D)``, which makes a freshly
    initialised MLP learn very slowly; the fixed per-dimension ``shift``/``scale`` (measured on the
    training embeddings by :meth:`fit_standardization`, saved with the weights) bring every input
    dimension to zero mean and unit variance. With ``objective="classification"`` the output is
    a logit of P(good); it is still the reward.
    """

    FILE = "head.safetensors"
    shift: torch.Tensor
    scale: torch.Tensor

    def __init__(self, dim: int, hidden: int = 256, *, objective: HeadObjective = "bradley_terry") -> None:
        super().__init__()
        self.dim, self.hidden, self.objective = int(dim), int(hidden), objective
        self.register_buffer("shift", torch.zeros(self.dim))
        self.register_buffer("scale", torch.ones(self.dim))
        self.net = torch.nn.Sequential(
            torch.nn.Linear(self.dim, self.hidden), torch.nn.GELU(), torch.nn.Linear(self.hidden, 1)
        )

    def fit_standardization(self, emb: np.ndarray) -> None:
        """Set ``shift``/``scale`` to the per-dimension mean and std of ``emb`` ``[N, D]``."""
        x = torch.from_numpy(_check_width(emb, self.dim)).double()
        self.shift.copy_(x.mean(dim=0).float())
        self.scale.copy_(x.std(dim=0, correction=0).clamp(min=1e-6).float())

    def forward(self, emb: torch.Tensor) -> torch.Tensor:
        """``[B, D] -> [B]`` float32 rewards."""
        return self.net((emb - self.shift) / self.scale).squeeze(-1)

    def predict(self, emb: np.ndarray) -> np.ndarray:
        emb = _check_width(emb, self.dim)
        device = next(self.parameters()).device
        out = []
        with torch.inference_mode():
            for start in range(0, len(emb), _PREDICT_CHUNK):
                out.append(self(torch.from_numpy(emb[start : start + _PREDICT_CHUNK]).to(device)).float().cpu())
        return torch.cat(out).numpy() if out else np.zeros(0, dtype=np.float32)

    def save(self, path: Path) -> dict[str, Any]:
        from safetensors.torch import save_file

        state = {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}
        save_file(state, str(path / self.FILE))
        return {"type": "mlp", "file": self.FILE, "dim": self.dim, "hidden": self.hidden, "objective": self.objective}

    @classmethod
    def load(cls, path: Path, meta: dict[str, Any]) -> MLPHead:
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        file = _head_file(path, meta, cls.FILE)
        head = cls(int(meta["dim"]), int(meta["hidden"]), objective=meta.get("objective", "bradley_terry"))
        try:
            head.load_state_dict(load_file(str(file)))
        except (SafetensorError, OSError, RuntimeError, ValueError) as exc:
            raise ModelError(f"{file} is not a valid MLP head ({exc}); re-save or retrain the model") from exc
        bad = [k for k, v in head.state_dict().items() if not torch.isfinite(v).all()]
        if bad:
            raise ModelError(f"{file}: the head's weights hold NaN or infinite values ({', '.join(bad)}); every "
                             "reward would be NaN. Retrain the model")
        return head.eval()


class LightGBMHead:
    """A LightGBM binary classifier; its raw score (log-odds) is the reward."""

    FILE = "head_lightgbm.txt"
    objective: HeadObjective = "classification"

    def __init__(self, booster: Any, dim: int) -> None:
        self.booster = booster
        self.dim = int(dim)

    def predict(self, emb: np.ndarray) -> np.ndarray:
        emb = _check_width(emb, self.dim)
        if len(emb) == 0:
            return np.zeros(0, dtype=np.float32)
        return np.asarray(self.booster.predict(emb, raw_score=True), dtype=np.float32)

    def save(self, path: Path) -> dict[str, Any]:
        self.booster.save_model(str(path / self.FILE))
        return {"type": "lightgbm", "file": self.FILE, "dim": self.dim, "trees": int(self.booster.num_trees()),
                "objective": self.objective}

    @classmethod
    def load(cls, path: Path, meta: dict[str, Any]) -> LightGBMHead:
        lgb = import_lightgbm()
        file = _head_file(path, meta, cls.FILE)
        try:
            booster = lgb.Booster(model_file=str(file))
        except (lgb.basic.LightGBMError, OSError, ValueError) as exc:
            raise ModelError(f"{file} is not a valid LightGBM model ({exc}); re-save or retrain the model") from exc
        if booster.num_feature() != int(meta["dim"]):
            raise ModelError(f"{file} expects {booster.num_feature()} features but the embedder gives {meta['dim']}")
        return cls(booster, int(meta["dim"]))


def _head_file(path: Path, meta: dict[str, Any], default: str) -> Path:
    name = meta.get("file", default)
    if not isinstance(name, str) or Path(name).name != name or name in ("", ".", ".."):
        raise ModelError(f"{path}/rewardlab.json: the head file must be a file name inside the model directory, "
                         f"got {name!r}")
    file = path / name
    if not file.is_file():
        raise ModelError(f"the head file {file} is missing; the model directory is incomplete (re-save or retrain it)")
    return file


def load_head(path: Path, meta: dict[str, Any]) -> EmbeddingHead:
    """The head described by the ``head`` section ``meta`` of ``path/rewardlab.json``."""
    kind = meta.get("type")
    try:
        if kind == "mlp":
            return MLPHead.load(path, meta)
        if kind == "lightgbm":
            return LightGBMHead.load(path, meta)
    except KeyError as exc:
        raise ModelError(f"{path}/rewardlab.json: the head section lacks {exc}") from exc
    except (TypeError, ValueError) as exc:  # dim/hidden that are not whole numbers, say
        raise ModelError(f"{path}/rewardlab.json: the head section is malformed ({exc})") from exc
    raise ModelError(f"{path}/rewardlab.json names an unknown head type {kind!r}; expected 'mlp' or 'lightgbm'")
