"""rewardlab: train, evaluate, audit and serve reward models for LLM alignment."""

__version__ = "0.1.0"
