"""Candidates for the lab: N sampled responses per prompt, from the synthetic world or a file the user brings.

- **Synthetic** (:func:`synth_candidates`): fresh world prompts (indices from
  ``first_prompt`` on, so a proxy trained on a world of fewer prompts has never seen them),
  and for each, ``n`` responses drawn from a reference policy over response attributes
  (:class:`~rewardlab.synth.candidates.AttributePolicy`, the world's own frequencies by
  default). Each attribute combination is rendered in one of ``wordings`` phrasings, seeded
  by (seed, prompt, attributes, phrasing), so repeated draws repeat texts: N = 2,000 samples
  of a prompt hold a few hundred distinct texts, and scoring is paid once per distinct text.
  The gold of each response is the world's gold utility.
- **A file** (:func:`load_candidates`): JSONL rows ``{"prompt", "response"}`` with optional
  ``gold`` (a number) and ``prompt_id``, grouped by ``prompt_id`` (or by the prompt itself),
  so any generator (vLLM, an OpenAI-compatible server) can feed the lab.

Every prompt keeps all of its N samples (repeats included): the best-of-n estimator draws
from them as the policy would.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rewardlab.data.dialogue import parse_messages
from rewardlab.data.records import Prompt
from rewardlab.data.sources import open_source
from rewardlab.data.validation import RowError, check_nonempty, check_text
from rewardlab.errors import DataError
from rewardlab.synth.candidates import WORLD_POLICY, AttributePolicy, Attributes, draw_attributes
from rewardlab.synth.config import FAMILIES
from rewardlab.synth.families import GENERATORS
from rewardlab.synth.gold import gold_utility
from rewardlab.synth.responses import render

__all__ = ["CandidateSet", "PromptCandidates", "load_candidates", "synth_candidates"]


@dataclass(frozen=True)
class PromptCandidates:
    """One prompt's N sampled responses (repeats allowed), with their gold scores when known."""

    prompt_id: str
    prompt: Prompt
    responses: tuple[str, ...]
    gold: tuple[float, ...] | None = None
    family: str | None = None
    attributes: tuple[Attributes, ...] | None = None  # synthetic samples: what each response is (for labelling)

    @property
    def n(self) -> int:
        return len(self.responses)


@dataclass(frozen=True)
class CandidateSet:
    """Every prompt's candidates, and where they came from."""

    prompts: tuple[PromptCandidates, ...]
    source: str
    notes: tuple[str, ...] = ()

    @property
    def has_gold(self) -> bool:
        return all(p.gold is not None for p in self.prompts)

    @property
    def min_n(self) -> int:
        return min(p.n for p in self.prompts)

    def distinct(self) -> int:
        """Distinct (prompt, response) pairs: what scoring costs."""
        return sum(len(set(p.responses)) for p in self.prompts)

    def summary(self) -> dict[str, Any]:
        ns = [p.n for p in self.prompts]
        return {"source": self.source, "prompts": len(self.prompts), "n_min": min(ns), "n_max": max(ns),
                "samples": sum(ns), "distinct": self.distinct(), "gold": self.has_gold, "notes": list(self.notes)}


def _rng(*parts: object) -> random.Random:
    return random.Random("rewardlab.overopt/" + "/".join(map(str, parts)))


def synth_candidates(*, n_prompts: int, n: int, seed: int = 0, policy: AttributePolicy = WORLD_POLICY,
                     first_prompt: int = 100_000, wordings: int = 1,
                     families: Sequence[str] = FAMILIES) -> CandidateSet:
    """``n`` reference-policy samples for each of ``n_prompts`` fresh synthetic prompts, with gold utilities."""
    if n_prompts < 1 or n < 2:
        raise DataError(f"the lab needs at least 1 prompt and 2 candidates per prompt, got {n_prompts} x {n}")
    if wordings < 1:
        raise DataError(f"wordings must be >= 1, got {wordings}")
    prompts = []
    for k in range(n_prompts):
        index = first_prompt + k
        family = families[index % len(families)]
        task = GENERATORS[family](random.Random(f"rewardlab.synth/{seed}/prompt/{index}"))
        draw = _rng(seed, "policy", index)
        texts: dict[tuple[Any, int], str] = {}
        responses, gold, drawn = [], [], []
        for _ in range(n):
            attrs = draw_attributes(family, draw, draw.random() < policy.correct, policy)
            variant = draw.randrange(wordings)
            key = (attrs, variant)
            if key not in texts:
                texts[key] = render(task, attrs, _rng(seed, "text", index, attrs, variant))
            responses.append(texts[key])
            gold.append(gold_utility(attrs, family))
            drawn.append(attrs)
        prompts.append(PromptCandidates(f"p{index:06d}", task.prompt, tuple(responses), tuple(gold), family,
                                        tuple(drawn)))
    note = (f"synthetic: {n_prompts} fresh prompts (indices {first_prompt}..{first_prompt + n_prompts - 1}, seed "
            f"{seed}) x {n} reference-policy samples, {wordings} wording(s) per attribute combination")
    return CandidateSet(tuple(prompts), "synth", (note,))


def _row(data: Any, text_cells: bool = False) -> tuple[str | None, Prompt, str, float | None]:
    if not isinstance(data, dict):
        raise RowError("not_an_object", "each row must be a JSON object with 'prompt' and 'response'")
    for key in ("prompt", "response"):
        if data.get(key) is None:
            raise RowError("missing_field", "required field is missing", key)
    response = data["response"]
    if not isinstance(response, str):
        raise RowError("wrong_type", "must be a string", "response")
    check_nonempty(response, "response")
    check_text(response, "response")
    raw_prompt = data["prompt"]
    if isinstance(raw_prompt, str):
        check_nonempty(raw_prompt, "prompt", "prompt")
        prompt: Prompt = check_text(raw_prompt, "prompt")
    else:
        prompt = parse_messages(raw_prompt, "prompt")
    gold = data.get("gold")
    if text_cells and isinstance(gold, str):  # CSV cells are text: "" is no gold, "1.5" a number
        text = gold.strip()
        try:
            gold = float(text) if text else None
        except ValueError:
            raise RowError("bad_gold", f"gold must be a finite number, got {gold!r}", "gold") from None
    if gold is not None:
        if isinstance(gold, bool) or not isinstance(gold, int | float) or not math.isfinite(gold):
            raise RowError("bad_gold", f"gold must be a finite number, got {gold!r}", "gold")
        gold = float(gold)
    pid = data.get("prompt_id")
    if pid is not None and not isinstance(pid, str | int):
        raise RowError("wrong_type", "must be a string or an integer", "prompt_id")
    return (None if pid is None else str(pid)), prompt, response, gold


def load_candidates(source: str | Path) -> CandidateSet:
    """Read a candidates file (JSONL, JSON, CSV or Parquet rows); every problem is a DataError naming the line.

    Rows group by ``prompt_id`` (or the prompt itself). Gold must be on every row or on none;
    a prompt needs at least 2 candidates; prompts may have different N (the study's n then
    stops at the smallest, which it reports).
    """
    opened = open_source(source)
    groups: dict[str, dict[str, Any]] = {}
    with_gold = rows = 0
    for raw in opened.rows:
        if raw.problem is not None:
            raise DataError(raw.problem.message, source=opened.name, line=raw.line, field=raw.problem.field)
        try:
            pid, prompt, response, gold = _row(raw.data, opened.text_cells)
        except RowError as exc:
            raise DataError(exc.message, source=opened.name, line=raw.line, field=exc.field) from None
        key = pid if pid is not None else json.dumps(prompt if isinstance(prompt, str) else
                                                     [[m.role, m.content] for m in prompt])
        group = groups.setdefault(key, {"id": pid or f"prompt-{len(groups)}", "prompt": prompt, "line": raw.line,
                                        "responses": [], "gold": []})
        if group["prompt"] != prompt:
            raise DataError(f"prompt_id {pid!r} was first used on line {group['line']} with another prompt",
                            source=opened.name, line=raw.line, field="prompt_id")
        group["responses"].append(response)
        group["gold"].append(gold)
        rows += 1
        with_gold += gold is not None
        if 0 < with_gold < rows:
            raise DataError("gold is on some rows but not on this one; give every row a gold score or none",
                            source=opened.name, line=raw.line, field="gold")
    if not groups:
        raise DataError("the file holds no candidates", source=opened.name)
    small = [g for g in groups.values() if len(g["responses"]) < 2]
    if small:
        raise DataError(f"prompt {small[0]['id']!r} (first on line {small[0]['line']}) has only 1 candidate; "
                        "best-of-n needs at least 2 per prompt", source=opened.name)
    prompts = tuple(PromptCandidates(g["id"], g["prompt"], tuple(g["responses"]),
                                     tuple(g["gold"]) if with_gold else None) for g in groups.values())
    ns = sorted({p.n for p in prompts})
    notes = [f"{opened.name}: {rows} candidates for {len(prompts)} prompts"]
    if len(ns) > 1:
        notes.append(f"prompts have {ns[0]} to {ns[-1]} candidates; best-of-n curves go to n = {ns[0]} (the "
                     "smallest), and every candidate of every prompt is used in the estimate")
    return CandidateSet(prompts, opened.name, tuple(notes))
