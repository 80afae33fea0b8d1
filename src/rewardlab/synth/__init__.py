"""The synthetic preference world: tasks, responses, gold utility, simulated annotators.

Real preference data hides the truth behind its labels; here the truth is known. A
:class:`World` holds prompts from checkable task families, candidate responses built
from controlled attributes, a documented gold utility, and a pool of noisy, biased
annotators whose pairwise labels, rankings, ratings and good/bad labels a reward model
can be trained on and then checked against the gold (see ``docs/synth.md``).
"""

from rewardlab.synth.annotators import Annotator
from rewardlab.synth.candidates import Attributes, Candidate
from rewardlab.synth.ceiling import noise_ceiling
from rewardlab.synth.config import FAMILIES, SynthConfig
from rewardlab.synth.gold import GOLD_WEIGHTS, gold_utility
from rewardlab.synth.io import write_world
from rewardlab.synth.world import SynthPrompt, World, generate_world

__all__ = [
    "FAMILIES",
    "GOLD_WEIGHTS",
    "Annotator",
    "Attributes",
    "Candidate",
    "SynthConfig",
    "SynthPrompt",
    "World",
    "generate_world",
    "gold_utility",
    "noise_ceiling",
    "write_world",
]
