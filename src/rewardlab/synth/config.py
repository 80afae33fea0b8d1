"""The synthetic world's configuration: how many prompts, candidates, pairs and annotators.

A world is a pure function of this config, so the config (with its seed) is the whole
recipe of a data set; ``write_world`` saves it beside the data.
"""

from __future__ import annotations

from dataclasses import dataclass

from rewardlab.errors import ConfigError

__all__ = ["FAMILIES", "SynthConfig"]

#: Every task family the world can generate, in the order prompts cycle through them.
FAMILIES: tuple[str, ...] = (
    "arithmetic",
    "unit_conversion",
    "kb_fact",
    "constrained_list",
    "false_premise",
    "should_decline",
)

#: More candidates than this would force repeated attribute combinations within a prompt.
MAX_CANDIDATES = 8


def _check_int(name: str, value: object, low: int, high: int | None = None) -> None:
    """Reject non-integers (bools included) and values outside ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"synth.{name} must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise ConfigError(f"synth.{name} must be {bound}, got {value}")


@dataclass(frozen=True)
class SynthConfig:
    """How big the synthetic preference world is and which task families it holds.

    Prompts cycle through ``families`` in order, so every family gets an equal share
    (within one prompt) and a world with fewer prompts is a prefix of a larger one.
    """

    n_prompts: int = 2000  # prompts in the world
    candidates_per_prompt: int = 4  # candidate responses per prompt
    pairs_per_prompt: int = 3  # labelled pairs per prompt (of the candidates' pairs)
    n_annotators: int = 8  # simulated annotators in the pool
    seed: int = 0  # the world's seed
    families: tuple[str, ...] = FAMILIES  # task families, in the order prompts cycle through them
    pool: str = "default"  # annotator pool: 'default' (mixed biases) or 'biased' (all like length and markdown)
    noise: float = 1.0  # multiplies every annotator's temperature (label noise): 0.5 halves it, 2 doubles it

    def __post_init__(self) -> None:
        _check_int("n_prompts", self.n_prompts, 1)
        _check_int("candidates_per_prompt", self.candidates_per_prompt, 2, MAX_CANDIDATES)
        n_possible = self.candidates_per_prompt * (self.candidates_per_prompt - 1) // 2
        _check_int("pairs_per_prompt", self.pairs_per_prompt, 1, n_possible)
        _check_int("n_annotators", self.n_annotators, 1)
        _check_int("seed", self.seed, 0)
        if not isinstance(self.noise, int | float) or isinstance(self.noise, bool) or not 0.05 <= self.noise <= 20:
            raise ConfigError(f"synth.noise must be a number from 0.05 to 20 (1 = the pool's own noise), got "
                              f"{self.noise!r}")
        if self.pool not in ("default", "biased"):
            raise ConfigError(f"synth.pool must be 'default' or 'biased', got {self.pool!r}")
        if isinstance(self.families, str) or not isinstance(self.families, (tuple, list)):
            raise ConfigError(
                f"synth.families must be a sequence of family names, got {self.families!r}; "
                f"choose from {', '.join(FAMILIES)}"
            )
        families = tuple(self.families)
        if not families:
            raise ConfigError(f"synth.families is empty; choose at least one of {', '.join(FAMILIES)}")
        unknown = [f for f in families if f not in FAMILIES]
        if unknown:
            raise ConfigError(
                f"synth.families has unknown family {unknown[0]!r}; choose from {', '.join(FAMILIES)}"
            )
        if len(set(families)) != len(families):
            raise ConfigError(f"synth.families lists a family twice: {families!r}; list each once")
        # A list (e.g. from YAML) is accepted and stored as a tuple so the config stays hashable.
        object.__setattr__(self, "families", families)
