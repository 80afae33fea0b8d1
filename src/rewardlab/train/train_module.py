"""The training objective as a module: the reward model plus the loss's own learned parameters.

``TrainModule.forward`` runs one forward pass over every sequence of a batch and returns the
loss and a training accuracy, so distributed wrappers (DDP) see the loss parameters (a tie
parameter, per-annotator temperatures) as part of the model. Only ``TrainModule.rm`` is
exported; the loss parameters are reported (e.g. each annotator's learned reliability).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from rewardlab.models.heads import head_linear
from rewardlab.models.reward_model import RewardModel
from rewardlab.objectives import (
    annotator_bradley_terry,
    binary_cross_entropy,
    bradley_terry,
    davidson,
    head_orthogonality,
    masked_mse,
    odin_disentangle,
    pairwise_accuracy,
    plackett_luce,
    ranking_pairs,
    rao_kupper,
    reward_centering,
)
from rewardlab.train.config import DebiasConfig, LossConfig
from rewardlab.train.examples import Batch

__all__ = ["LENGTH_UNIT", "TrainModule"]

#: ``debias.length=covariate`` measures length in units of this many tokens (a slope per 10 tokens).
LENGTH_UNIT = 10.0


class TrainModule(torch.nn.Module):
    """``rm`` and the loss parameters ``cfg`` asks for; ``forward`` returns ``(loss, accuracy)``."""

    def __init__(self, rm: RewardModel, cfg: LossConfig, *, annotators: list[str] | None = None,
                 debias: DebiasConfig | None = None) -> None:
        super().__init__()
        self.rm = rm
        self.cfg = cfg
        self.debias = debias or DebiasConfig()
        self.odin = self.debias.length == "odin"
        if self.debias.length == "covariate":  # reward + β·tokens/10 in the loss; only the reward is exported
            self.length_slope = torch.nn.Parameter(torch.tensor(0.0))
        self.annotators = list(annotators or [])
        if cfg.name == "tie_bt":
            # Davidson: log ν; Rao-Kupper: η = softplus(raw) >= 0 (log θ).
            init = math.log(cfg.tie_init) if cfg.tie_model == "davidson" else math.log(math.expm1(max(cfg.tie_init,
                                                                                                     1e-6)))
            self.tie_param = torch.nn.Parameter(torch.tensor(init))
        if cfg.name == "annotator_bt":
            self.log_temperature = torch.nn.Parameter(torch.zeros(max(1, len(self.annotators))))

    # ------------------------------------------------------------------ learned loss parameters
    def temperatures(self) -> torch.Tensor:
        """Per-annotator temperatures with geometric mean 1 (the reward scale absorbs the rest)."""
        s = self.log_temperature
        return torch.exp(s - s.mean())

    def learned(self) -> dict[str, Any]:
        """The loss parameters in readable form, for the run's metrics and the model metadata."""
        if self.debias.length == "covariate":
            return {"length_slope_per_10_tokens": float(self.length_slope.detach()), **self._loss_learned()}
        return self._loss_learned()

    def _loss_learned(self) -> dict[str, Any]:
        if self.cfg.name == "tie_bt":
            raw = float(self.tie_param.detach())
            value = math.exp(raw) if self.cfg.tie_model == "davidson" else float(torch.nn.functional.softplus(
                self.tie_param.detach()))
            return {"tie_model": self.cfg.tie_model, ("nu" if self.cfg.tie_model == "davidson" else "eta"): value}
        if self.cfg.name == "annotator_bt":
            temps = self.temperatures().detach().tolist()
            return {"annotators": {a: {"temperature": t, "reliability": 1.0 / t}
                                   for a, t in zip(self.annotators, temps)}}
        return {}

    # ------------------------------------------------------------------ forward
    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, slots: torch.Tensor,
                values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        outputs = self.rm.outputs(input_ids, attention_mask)  # [N, H]
        batch = Batch(input_ids, attention_mask, slots, values)
        if self.odin:  # ODIN trains on quality + length; only the quality output is exported
            loss, acc = self._pairs(outputs[:, 0] + outputs[:, 1], outputs, batch)
            return loss + self._odin_terms(outputs, batch), acc
        rewards = self.rm.combine_outputs(outputs)  # [N]
        if self.debias.length == "covariate":
            rewards = rewards + self.length_slope * batch.attention_mask.sum(dim=1).to(rewards.dtype) / LENGTH_UNIT
        kind = self.cfg.records
        if kind == "pairs":
            return self._pairs(rewards, outputs, batch)
        if kind == "rankings":
            mask = slots >= 0
            grouped = rewards[slots.clamp(min=0)]  # [G, K]
            loss = plackett_luce(grouped, mask) if self.cfg.name == "plackett_luce" else ranking_pairs(grouped, mask)
            return loss, _ranking_accuracy(grouped.detach(), mask)
        point = slots[:, 0]
        if kind == "ratings":
            n = len(self.cfg.attributes)
            pred = outputs[point, :n]
            target, observed = values[:, :n], values[:, n:] > 0.5
            return masked_mse(pred, target, observed), torch.tensor(float("nan"))
        logits, labels = rewards[point], values[:, 0]
        acc = ((logits.detach() > 0).float() == labels).float().mean()
        return binary_cross_entropy(logits, labels), acc

    def _odin_terms(self, outputs: torch.Tensor, batch: Batch) -> torch.Tensor:
        """ODIN's disentangling terms (Chen et al. 2024): see ``objectives.odin_disentangle``."""
        c, r = batch.slots[:, 0], batch.slots[:, 1]
        tokens = batch.attention_mask.sum(dim=1).float()  # the prompt is shared, so Δtokens = Δresponse length
        d = self.debias
        loss = odin_disentangle(outputs[c, 0] - outputs[r, 0], outputs[c, 1] - outputs[r, 1], tokens[c] - tokens[r],
                                quality_coef=d.quality_coef, length_coef=d.length_coef)
        if d.orth_coef > 0:
            weight = head_linear(self.rm.hf).weight
            loss = loss + d.orth_coef * head_orthogonality(weight[0].float(), weight[1].float())
        return loss

    def _pairs(self, rewards: torch.Tensor, outputs: torch.Tensor, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        chosen, rejected = rewards[batch.slots[:, 0]], rewards[batch.slots[:, 1]]
        margin, tie, ann = batch.values[:, 0], batch.values[:, 1] > 0.5, batch.values[:, 2].long()
        strict = ~tie
        acc = pairwise_accuracy(chosen[strict].detach(), rejected[strict].detach()) if bool(strict.any()) \
            else torch.tensor(float("nan"))
        name = self.cfg.name
        if name == "pairwise_classification":
            logits = torch.cat([chosen, rejected])
            labels = torch.cat([torch.ones_like(chosen), torch.zeros_like(rejected)])
            loss = binary_cross_entropy(logits, labels)
        elif name == "tie_bt":
            fn = davidson if self.cfg.tie_model == "davidson" else rao_kupper
            param = self.tie_param if self.cfg.tie_model == "davidson" else torch.nn.functional.softplus(self.tie_param)
            loss = fn(chosen, rejected + margin * strict, tie, param)
        elif name == "annotator_bt":
            log_t = torch.log(self.temperatures())[ann.clamp(min=0)]
            log_t = torch.where(ann >= 0, log_t, torch.zeros_like(log_t))  # unknown annotator: temperature 1
            bias = None
            if self.cfg.annotator_bias:
                col = (ann + 1).clamp(min=1, max=outputs.shape[1] - 1)
                rows_c, rows_r = batch.slots[:, 0], batch.slots[:, 1]
                bias = outputs[rows_c, col] - outputs[rows_r, col]
                bias = torch.where(ann >= 0, bias, torch.zeros_like(bias))
            loss = annotator_bradley_terry(chosen - margin, rejected, log_t, bias)
        else:
            loss = bradley_terry(chosen, rejected, margin if self.cfg.margin != "none" else None)
        if self.cfg.center_coef > 0:
            loss = loss + self.cfg.center_coef * reward_centering(chosen, rejected)
        return loss, acc


def _ranking_accuracy(grouped: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Fraction of a batch's within-ranking pairs ordered right (training-bar metric)."""
    k = grouped.shape[-1]
    upper = torch.ones(k, k, dtype=torch.bool, device=grouped.device).triu(1)
    valid = upper & mask.unsqueeze(-1) & mask.unsqueeze(-2)
    right = (grouped.unsqueeze(-1) > grouped.unsqueeze(-2)) & valid
    return right.sum().float() / valid.sum().clamp(min=1).float()
