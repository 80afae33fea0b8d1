"""Training state as safetensors plus JSON: a checkpoint that can be loaded without unpickling anything.

``torch.load`` of a pickle runs whatever code the file names, so a crafted checkpoint in a
run directory would run on ``--resume``. Here the state tree (model, optimizer and scheduler
state dicts, RNG states, the loop position) is split into its tensors, stored with
safetensors (raw buffers and a JSON header, no code), and everything else, stored as JSON
in which each container is tagged with its type so that tuples, integer keys and tensors
come back exactly as they were. Only ``None``, ``bool``, ``int``, ``float``, ``str``,
lists, tuples, dicts and tensors are allowed; anything else is refused when saving.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from rewardlab.errors import CheckpointError

__all__ = ["decode_tree", "encode_tree"]

# One tag per JSON object: dict with str keys, dict with other keys, list, tuple, tensor, float special.
_DICT, _MAP, _LIST, _TUPLE, _TENSOR, _FLOAT = "d", "m", "l", "t", "T", "f"


def encode_tree(state: Any) -> tuple[Any, dict[str, torch.Tensor]]:
    """``(json_tree, tensors)``: the state with every tensor replaced by a reference into ``tensors``."""
    tensors: dict[str, torch.Tensor] = {}

    def enc(value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            name = f"t{len(tensors)}"
            # clone: safetensors refuses tensors that share storage (tied weights, views)
            tensors[name] = value.detach().to("cpu").contiguous().clone()
            return {_TENSOR: name}
        if value is None or isinstance(value, bool | int | str):
            return value
        if isinstance(value, float):
            return value if math.isfinite(value) else {_FLOAT: repr(value)}
        if isinstance(value, tuple):
            return {_TUPLE: [enc(v) for v in value]}
        if isinstance(value, list):
            return {_LIST: [enc(v) for v in value]}
        if isinstance(value, dict):
            if all(isinstance(k, str) for k in value):
                return {_DICT: {k: enc(v) for k, v in value.items()}}
            return {_MAP: [[enc(k), enc(v)] for k, v in value.items()]}
        raise CheckpointError(f"cannot store a {type(value).__name__} in a checkpoint (tensors, numbers, strings, "
                              "lists, tuples and dicts only)")

    return enc(state), tensors


def decode_tree(tree: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """The state :func:`encode_tree` stored; a malformed tree is a :class:`CheckpointError`."""

    def dec(node: Any) -> Any:
        if node is None or isinstance(node, bool | int | float | str):
            return node
        if not isinstance(node, dict) or len(node) != 1:
            raise CheckpointError(f"malformed checkpoint state: unexpected {type(node).__name__} node")
        (tag, body), = node.items()
        if tag == _TENSOR:
            if not isinstance(body, str) or body not in tensors:
                raise CheckpointError(f"malformed checkpoint state: tensor {body!r} is missing")
            return tensors[body]
        if tag == _FLOAT and body in ("nan", "inf", "-inf"):
            return float(body)
        if tag in (_LIST, _TUPLE) and isinstance(body, list):
            items = [dec(v) for v in body]
            return tuple(items) if tag == _TUPLE else items
        if tag == _DICT and isinstance(body, dict):
            return {k: dec(v) for k, v in body.items()}
        if tag == _MAP and isinstance(body, list) and all(isinstance(kv, list) and len(kv) == 2 for kv in body):
            return {_hashable(dec(k)): dec(v) for k, v in body}
        raise CheckpointError(f"malformed checkpoint state: bad {tag!r} node")

    return dec(tree)


def _hashable(key: Any) -> Any:
    if isinstance(key, torch.Tensor | list | dict):
        raise CheckpointError("malformed checkpoint state: an unhashable dict key")
    return key
