"""Scoring candidates for the lab: each distinct (scorer, model input) once, cached on disk across runs.

A scorer is one reward model: a model directory (an ensemble contributes each of its
members, so that the study can aggregate them under every conservative rule), or a
served model (a ``http://`` URL; the server aggregates an ensemble itself). Scores are
cached in one SQLite file (the embedding cache's format, ``models/embedding_cache.py``) under
the key SHA-256(scorer id, exact model input text): a rerun, or a new proxy on the same
candidates, costs only the scores not yet computed. A scorer's id fingerprints its weights
and tokenizer files, input format, max length and the scoring precision, so a retrained
model never reads another's scores.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rewardlab.data.records import Prompt
from rewardlab.errors import ModelError
from rewardlab.models.embedding_cache import EmbeddingCache, cache_key
from rewardlab.overopt.candidates import CandidateSet

__all__ = ["SCORE_CACHE_FILE", "CachedScorer", "default_score_cache_dir", "directory_fingerprint", "open_scorers",
           "score_candidates"]

SCORE_CACHE_FILE = "scores.sqlite"
_FINGERPRINT_FILES = ("*.safetensors", "tokenizer.json", "vocab.txt", "tokenizer_config.json", "config.json", "*.gguf",
                      "head_lightgbm.txt")


def default_score_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/rewardlab/scores`` (``~/.cache/rewardlab/scores``), read at call time."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rewardlab" / "scores"


def directory_fingerprint(path: Path) -> str:
    """SHA-256 over a model directory's weights, tokenizer and config files and its rewardlab.json essentials."""
    h = hashlib.sha256()
    files = sorted({f for pattern in _FINGERPRINT_FILES for f in path.rglob(pattern) if f.is_file()})
    for file in files:
        h.update(str(file.relative_to(path)).encode())
        with file.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    meta_file = path / "rewardlab.json"
    if meta_file.is_file():
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        essentials = {k: meta.get(k) for k in ("input_format", "max_length", "heads", "model_type", "members")}
        h.update(json.dumps(essentials, sort_keys=True).encode())
    return h.hexdigest()[:24]


@dataclass
class CachedScorer:
    """One reward model the lab scores with through the score cache: ``score(prompts, responses)`` and the
    exact model input each pair is cached under."""

    name: str
    id: str
    score: Callable[[Sequence[Prompt], Sequence[str]], list[float]]
    text: Callable[[Prompt, str], str]  # the exact model input (the cache key's text)
    info: dict[str, Any] = field(default_factory=dict)


def _local_scorers(path: Path, precision: str, batch_size: int) -> list[CachedScorer]:
    from rewardlab.models import load_model
    from rewardlab.models.ensemble import RewardEnsemble
    from rewardlab.models.precision import resolve_precision, scoring_device, store_bf16_weights

    model = load_model(path)
    if resolve_precision(precision, scoring_device(model)) == "bf16":
        store_bf16_weights(model)  # loaded only to score: linear weights in bf16 once (the same scores, faster)
    members: list[tuple[str, Any, Path]]
    if isinstance(model, RewardEnsemble):
        names = model.metadata["members"]
        members = [(f"member-{k}", m, path / names[k]) for k, m in enumerate(model.members)]
    else:
        members = [("model", model, path)]
    out = []
    for name, member, directory in members:
        device = next(iter(member.parameters())).device if hasattr(member, "parameters") else torch.device("cpu")
        resolved = resolve_precision(precision, device)
        sid = f"{directory_fingerprint(directory)}|{resolved}"

        def score(prompts: Sequence[Prompt], responses: Sequence[str], m: Any = member,
                  p: str = resolved) -> list[float]:
            return [float(r) for r in m.score(prompts, responses, batch_size=batch_size, precision=p)]

        out.append(CachedScorer(name, sid, score, member.format, {"path": str(directory), "precision": resolved}))
    return out


def _remote_scorer(url: str) -> CachedScorer:
    from rewardlab.serve.client import RemoteScorer, ServeClient

    client = ServeClient(url)
    remote = RemoteScorer(client)
    info = client.model_info()
    sid = "remote|" + hashlib.sha256(json.dumps([url, info], sort_keys=True, default=str).encode()).hexdigest()[:24]

    def text(prompt: Prompt, response: str) -> str:
        shown = prompt if isinstance(prompt, str) else [[m.role, m.content] for m in prompt]
        return json.dumps([shown, response])

    return CachedScorer("served", sid, lambda p, r: remote.score(p, r), text, {"url": url})


def open_scorers(spec: str | os.PathLike[str], *, precision: str = "auto", batch_size: int = 64) -> list[CachedScorer]:
    """The scorers behind a model directory (one per ensemble member) or a server URL."""
    text = str(spec)
    if text.startswith(("http://", "https://")):
        return [_remote_scorer(text)]
    path = Path(text)
    if not path.is_dir():
        raise ModelError(f"{text}: no such model directory (give a rewardlab model directory or a server URL)")
    return _local_scorers(path, precision, batch_size)


def score_candidates(scorer: CachedScorer, candidates: CandidateSet, cache_dir: Path | None,
                     progress: Callable[[int], Any] | None = None,
                     chunk: int = 512) -> tuple[list[np.ndarray], dict[str, int]]:
    """Per prompt, the scorer's score of each of its N samples (aligned with ``responses``), and counts.

    Each distinct (prompt, response) is scored at most once, and not at all when the cache has it.
    ``progress(k)`` is told how many distinct inputs were just scored or read.
    """
    keyed: dict[str, tuple[Prompt, str]] = {}
    per_prompt_keys: list[list[str]] = []
    for pc in candidates.prompts:
        keys_of = {r: cache_key(scorer.id, scorer.text(pc.prompt, r)) for r in dict.fromkeys(pc.responses)}
        for r, k in keys_of.items():
            keyed.setdefault(k, (pc.prompt, r))
        per_prompt_keys.append([keys_of[r] for r in pc.responses])
    cache = EmbeddingCache((cache_dir or default_score_cache_dir()) / SCORE_CACHE_FILE) if cache_dir != Path("-") \
        else None
    try:
        found = {k: float(v[0]) for k, v in (cache.get_many(keyed) if cache else {}).items() if v.shape == (1,)}
        if progress is not None and found:
            progress(len(found))
        missing = [k for k in keyed if k not in found]
        for start in range(0, len(missing), chunk):
            block = missing[start : start + chunk]
            rewards = scorer.score([keyed[k][0] for k in block], [keyed[k][1] for k in block])
            if not all(np.isfinite(rewards)):
                raise ModelError(f"scorer {scorer.name} gave a non-finite reward; check the model")
            new = {k: float(np.float32(v)) for k, v in zip(block, rewards)}  # as the cache stores them
            if cache is not None:
                cache.put_many({k: np.array([v], dtype=np.float32) for k, v in new.items()})
            found.update(new)
            if progress is not None:
                progress(len(block))
    finally:
        if cache is not None:
            cache.close()
    arrays = [np.array([found[k] for k in keys], dtype=np.float64) for keys in per_prompt_keys]
    return arrays, {"distinct": len(keyed), "cached": len(keyed) - len(missing), "scored": len(missing)}
