"""Does plain transformers give a saved model directory's rewards? (invariant 3, docs/architecture.md)"""

from __future__ import annotations

from pathlib import Path

from rewardlab.data.records import Prompt

__all__ = ["hf_parity"]


def hf_parity(model_dir: Path, pairs: list[tuple[Prompt, str]], rewards: list[float]) -> float:
    """Max |reward difference| between rewardlab's scores and plain transformers on the saved directory."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from rewardlab.models.formatting import InputFormat, format_input
    from rewardlab.models.io import read_metadata

    meta = read_metadata(model_dir) or {}
    fmt = InputFormat.from_dict(meta["input_format"])
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    hf = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    worst = 0.0
    with torch.no_grad():
        for (prompt, response), expected in zip(pairs, rewards):
            enc = tokenizer(format_input(prompt, response, fmt, tokenizer), return_tensors="pt", truncation=True,
                            max_length=meta["max_length"], add_special_tokens=fmt.add_special_tokens)
            worst = max(worst, abs(hf(**enc).logits[0, 0].item() - expected))
    return worst
