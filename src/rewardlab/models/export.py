"""Writing a model directory: the standard Hugging Face export, ``rewardlab.json`` and a model card.

The counterpart of :mod:`rewardlab.models.io` (which reads ``rewardlab.json``). The directory
loads with ``AutoModelForSequenceClassification.from_pretrained(dir)`` and gives the same
rewards as rewardlab (invariant 3, docs/architecture.md). Written against :class:`Exportable`,
the few attributes of a ``RewardModel`` an export needs, so this module does not import the
model class (which imports it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

from rewardlab import __version__
from rewardlab.models.formatting import InputFormat
from rewardlab.models.io import FORMAT_VERSION, METADATA_FILE

__all__ = ["Exportable", "model_card", "write_metadata", "write_model_dir"]


class Exportable(Protocol):
    """What an export reads from a reward model (read-only)."""

    @property
    def hf(self) -> Any: ...  # the transformers sequence-classification model

    @property
    def tokenizer(self) -> Any: ...

    @property
    def metadata(self) -> dict[str, Any]: ...

    @property
    def kind(self) -> str: ...

    @property
    def input_format(self) -> InputFormat: ...

    @property
    def max_length(self) -> int: ...

    @property
    def head_names(self) -> tuple[str, ...]: ...


def _statistics_source(norm: dict[str, Any]) -> str:
    """Where the normalization statistics came from, as the run recorded it."""
    source = norm.get("source")
    n = norm.get("n")
    count = f"{int(n):,} " if isinstance(n, (int, float)) else ""
    return f"mean and standard deviation over {count}{source}" if isinstance(source, str) else "saved statistics"


def write_model_dir(model: Exportable, path: Path) -> Path:
    """Save weights, tokenizer, ``rewardlab.json`` and ``README.md`` into ``path``."""
    path.mkdir(parents=True, exist_ok=True)
    if model.hf.config.num_labels != len(model.head_names):
        model.hf.config.num_labels = len(model.head_names)
    model.hf.save_pretrained(path)
    model.tokenizer.save_pretrained(path)
    write_metadata(model, path)
    return path


def write_metadata(model: Exportable, path: Path) -> None:
    """(Re)write ``rewardlab.json`` and the model card, leaving the weights alone."""
    meta = {
        **model.metadata,
        "format_version": FORMAT_VERSION,
        "rewardlab_version": __version__,
        "kind": model.kind,
        "input_format": model.input_format.to_dict(),
        "max_length": model.max_length,
    }
    (path / METADATA_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    (path / "README.md").write_text(model_card(model, meta))


def model_card(model: Exportable, meta: dict[str, Any]) -> str:
    """A model card whose snippet reproduces rewardlab's scores with plain transformers."""
    fmt = model.input_format
    if fmt.kind == "plain":
        how = (
            "The input text is rewardlab's plain template (`rewardlab.format_input`):\n\n"
            "```\nHuman: {prompt}\n\nAssistant: {response}\n```\n\n"
            "Multi-turn prompts render every earlier turn the same way (`Human:` / `Assistant:` / "
            "`System:`), separated by blank lines."
        )
        build = 'text = f"Human: {prompt}\\n\\nAssistant: {response}"'
    else:
        how = "The input text is the tokenizer's chat template applied to the prompt plus the response."
        build = (
            "messages = [{\"role\": \"user\", \"content\": prompt}, "
            "{\"role\": \"assistant\", \"content\": response}]\n"
            "text = tokenizer.apply_chat_template(messages, tokenize=False)"
        )
    metrics = meta.get("metrics") or {}
    metric_lines = "\n".join(f"| {k} | {v:.4f} |" for k, v in sorted(metrics.items()) if isinstance(v, float))
    metric_block = f"\n## Held-out metrics\n\n| metric | value |\n|---|---|\n{metric_lines}\n" if metric_lines else ""
    norm = meta.get("normalization")
    norm_block = (
        f"\nRewards are raw head outputs. rewardlab's normalized reward is `(r - {norm['mean']:.6f}) / "
        f"{norm['std']:.6f}` ({_statistics_source(norm)}).\n"
        if norm
        else ""
    )
    return f"""---
library_name: transformers
pipeline_tag: text-classification
tags: [reward-model, rewardlab]
---

# Reward model

A scalar reward model trained with [rewardlab](https://pypi.org/project/rewardlab/) {__version__}
(backbone: `{meta.get('backbone', 'unknown')}`, architecture: {type(model.hf).__name__}, {model.kind}).
It maps a (prompt, response) pair to one number: higher means preferred.

## Use with plain transformers

{how}

```python
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

tokenizer = AutoTokenizer.from_pretrained("PATH")  # padding_side=right, truncation_side=left are saved
model = AutoModelForSequenceClassification.from_pretrained("PATH").eval()
prompt, response = "What is 2 + 2?", "2 + 2 = 4."
{build}
enc = tokenizer(text, return_tensors="pt", truncation=True, max_length={model.max_length},
                add_special_tokens={fmt.add_special_tokens})
with torch.no_grad():
    reward = model(**enc).logits[0, 0].item()
```

## Use with rewardlab

```python
from rewardlab import RewardModel
rm = RewardModel.from_pretrained("PATH")
rm.score(["What is 2 + 2?"], ["2 + 2 = 4."])
```
{norm_block}{metric_block}"""
