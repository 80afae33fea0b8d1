"""Connecting reward models to RL trainers (TRL, OpenRLHF, verl): what each trainer sends and expects.

Adapters take any :class:`~rewardlab.scoring.RewardScorer` (a local model, or a served one through
``serve.RemoteScorer``), so this package sits below ``serve/``: the scoring server's OpenRLHF
endpoint uses :mod:`rewardlab.rl.openrlhf` for the trainer's text conventions.
"""

from __future__ import annotations

from rewardlab.rl.openrlhf import openrlhf_texts, strip_pad

__all__ = ["openrlhf_texts", "strip_pad"]
