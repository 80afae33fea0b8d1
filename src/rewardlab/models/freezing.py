"""Freezing the bottom of a backbone for full fine-tuning: its input embeddings, or those and its first layers.

Freezing everything below layer ``n`` (the embeddings included) means autograd never reaches it:
the backward pass stops at layer ``n``, so each step costs less, not only the optimizer's. Freezing
only the token embeddings (``model.freeze_embeddings``) saves nothing in the backward pass
(position embeddings and the embedding norm below still train) but regularizes a short fine-tune.
"""

from __future__ import annotations

import torch

from rewardlab.errors import ConfigError

__all__ = ["freeze_bottom_layers", "transformer_layers"]


def transformer_layers(hf: torch.nn.Module) -> torch.nn.ModuleList:
    """The backbone's stack of transformer layers: the ModuleList as long as ``config.num_hidden_layers``."""
    count = getattr(getattr(hf, "config", None), "num_hidden_layers", None)
    for module in hf.modules():
        if isinstance(module, torch.nn.ModuleList) and count is not None and len(module) == count:
            return module
    raise ConfigError(f"cannot find the transformer layers of this backbone ({type(hf).__name__}); "
                      "model.freeze_layers works with BERT-, Llama- and GPT-style backbones: set it to 0")


def freeze_bottom_layers(hf: torch.nn.Module, n: int) -> int:
    """Freeze every parameter below layer ``n`` (embeddings and layers ``0..n-1``); the number frozen.

    Parameters are visited in registration order, which puts the embeddings before the first layer
    and the final norm and the head after the last.
    """
    layers = transformer_layers(hf)
    if not 0 < n < len(layers):
        raise ConfigError(f"model.freeze_layers must be between 0 and {len(layers) - 1} for this "
                          f"{len(layers)}-layer backbone (at least one layer trains), got {n}")
    first_trained = {id(p) for p in layers[n].parameters()}
    frozen = 0
    for p in hf.parameters():
        if id(p) in first_trained:
            break
        p.requires_grad_(False)
        frozen += p.numel()
    return frozen
