"""The synthetic preference world: prompts, candidates, annotators, and the labels they give.

Everything is a pure function of the :class:`SynthConfig`. Each prompt and each kind of
label draws from its own random stream keyed by (seed, stream, prompt index), so prompt
``i`` is the same in every world with that seed, and asking for rankings does not change
the pairs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from itertools import combinations

from rewardlab.data.records import Comparison, Label, Ranking, Rating
from rewardlab.synth.annotators import ASPECTS, Annotator, judge_pair, label, make_pool, rank, rate
from rewardlab.synth.candidates import Candidate, sample_attributes
from rewardlab.synth.config import SynthConfig
from rewardlab.synth.families import GENERATORS
from rewardlab.synth.gold import gold_utility
from rewardlab.synth.responses import render

__all__ = ["MISSING_ASPECT_RATE", "SynthPrompt", "World", "generate_world"]

#: Chance that a non-``overall`` rating aspect is left out (for masked-regression tests).
MISSING_ASPECT_RATE = 0.25


def _rng(seed: int, stream: str, index: int = 0) -> random.Random:
    """A random stream independent of every other (string seeds are hashed with SHA-512)."""
    return random.Random(f"rewardlab.synth/{seed}/{stream}/{index}")


@dataclass(frozen=True)
class SynthPrompt:
    """One prompt of the world with its candidate responses."""

    id: str
    family: str
    prompt: str
    candidates: tuple[Candidate, ...]


def _make_prompt(index: int, family: str, cfg: SynthConfig) -> SynthPrompt:
    rng = _rng(cfg.seed, "prompt", index)
    task = GENERATORS[family](rng)
    pid = f"p{index:05d}"
    candidates = tuple(
        Candidate(f"{pid}-c{j}", render(task, attrs, rng), attrs, gold_utility(attrs, family))
        for j, attrs in enumerate(sample_attributes(family, cfg.candidates_per_prompt, rng))
    )
    return SynthPrompt(pid, family, task.prompt, candidates)


def _pick_pairs(p: SynthPrompt, k: int, rng: random.Random) -> list[tuple[int, int]]:
    """``k`` distinct pairs, those with different gold first: an equal-gold pair teaches nothing."""
    pairs = list(combinations(range(len(p.candidates)), 2))
    rng.shuffle(pairs)
    differ = [(i, j) for i, j in pairs if p.candidates[i].gold != p.candidates[j].gold]
    same = [(i, j) for i, j in pairs if p.candidates[i].gold == p.candidates[j].gold]
    return (differ + same)[:k]


@dataclass(frozen=True)
class World:
    """A generated world. The label methods are deterministic and cheap; call them freely."""

    config: SynthConfig
    prompts: tuple[SynthPrompt, ...]
    annotators: tuple[Annotator, ...]

    def comparisons(self) -> list[Comparison]:
        """``pairs_per_prompt`` pairwise labels per prompt, each by a random annotator.

        ``meta`` holds ``p_label`` (P(chosen ≻ rejected | no tie) for that annotator),
        ``p_tie``, and the candidate ids ``chosen_id`` / ``rejected_id``.
        """
        out = []
        for index, p in enumerate(self.prompts):
            rng = _rng(self.config.seed, "pairs", index)
            for i, j in _pick_pairs(p, self.config.pairs_per_prompt, rng):
                ann = rng.choice(self.annotators)
                first, second = (
                    (p.candidates[i], p.candidates[j]) if rng.random() < 0.5 else (p.candidates[j], p.candidates[i])
                )
                judged = judge_pair(ann, first, second, rng)
                win, lose = (first, second) if judged.first_wins else (second, first)
                out.append(
                    Comparison(
                        prompt=p.prompt,
                        chosen=win.text,
                        rejected=lose.text,
                        tie=judged.tie,
                        strength=judged.strength,
                        subset=p.family,
                        annotator=ann.id,
                        gold_chosen=win.gold,
                        gold_rejected=lose.gold,
                        prompt_id=p.id,
                        meta={
                            "p_label": round(judged.p_label, 6),
                            "p_tie": round(judged.p_tie, 6),
                            "chosen_id": win.id,
                            "rejected_id": lose.id,
                        },
                    )
                )
        return out

    def rankings(self) -> list[Ranking]:
        """One full ranking per prompt by a random annotator (Plackett-Luce noise)."""
        out = []
        for index, p in enumerate(self.prompts):
            rng = _rng(self.config.seed, "rankings", index)
            ann = rng.choice(self.annotators)
            order = rank(ann, p.candidates, rng)
            out.append(
                Ranking(
                    prompt=p.prompt,
                    responses=tuple(p.candidates[k].text for k in order),
                    subset=p.family,
                    annotator=ann.id,
                    gold=tuple(p.candidates[k].gold for k in order),
                    prompt_id=p.id,
                )
            )
        return out

    def ratings(self) -> list[Rating]:
        """Likert ratings of every candidate; one annotator per prompt; some aspects missing."""
        out = []
        for index, p in enumerate(self.prompts):
            rng = _rng(self.config.seed, "ratings", index)
            ann = rng.choice(self.annotators)
            for c in p.candidates:
                scores = rate(ann, c, rng)
                kept = {k: scores[k] for k in ASPECTS if k == "overall" or rng.random() >= MISSING_ASPECT_RATE}
                out.append(
                    Rating(
                        prompt=p.prompt,
                        response=c.text,
                        ratings=kept,
                        subset=p.family,
                        annotator=ann.id,
                        gold=c.gold,
                        prompt_id=p.id,
                    )
                )
        return out

    def labels(self) -> list[Label]:
        """A good/bad label for every candidate; one annotator per prompt."""
        out: list[Label] = []
        for index, p in enumerate(self.prompts):
            rng = _rng(self.config.seed, "labels", index)
            ann = rng.choice(self.annotators)
            out.extend(
                Label(
                    prompt=p.prompt,
                    response=c.text,
                    good=label(ann, c, rng),
                    subset=p.family,
                    annotator=ann.id,
                    gold=c.gold,
                    prompt_id=p.id,
                )
                for c in p.candidates
            )
        return out


def generate_world(cfg: SynthConfig) -> World:
    """Build the world ``cfg`` describes; prompts cycle through ``cfg.families`` in order."""
    prompts = tuple(_make_prompt(i, cfg.families[i % len(cfg.families)], cfg) for i in range(cfg.n_prompts))
    return World(cfg, prompts, make_pool(cfg.n_annotators, _rng(cfg.seed, "annotators"), cfg.pool,
                                                cfg.noise))
