"""``rewardlab score``: rewards for a file of responses, or for both sides of a file of pairs, in input order."""

from __future__ import annotations

from typing import Any

from rewardlab.data.responses import first_row, is_response_row, load_responses
from rewardlab.errors import ConfigError
from rewardlab.pipeline.inputs import DataOptions, load_for_scoring
from rewardlab.scoring import RewardScorer

__all__ = ["score_rows", "scorer_for"]


def score_rows(scorer: RewardScorer, source: str, *, batch_size: int, precision: str, normalize: bool,
               options: DataOptions | None = None) -> tuple[list[dict[str, Any]], int]:
    """One output row per input row, and the number of responses scored.

    Response rows (``prompt`` + ``response``) give ``{"line", "id"?, "reward"}``; pair rows give
    ``{"line", "chosen_reward", "rejected_reward"}``.
    """
    if is_response_row(first_row(source)):
        items = load_responses(source)
        rewards = scorer.score([i.prompt for i in items], [i.response for i in items], batch_size=batch_size,
                               precision=precision, normalize=normalize)
        rows = [{"line": item.line, **({"id": item.id} if item.id is not None else {}), "reward": reward}
                for item, reward in zip(items, rewards)]
        return rows, len(items)
    records = (options or DataOptions()).load(source).records
    rewards = scorer.score([r.prompt for r in records] * 2, [r.chosen for r in records] + [r.rejected for r in records],
                           batch_size=batch_size, precision=precision, normalize=normalize)
    n = len(records)
    rows = [{"line": r.meta.get("line"), "chosen_reward": rewards[k], "rejected_reward": rewards[k + n]}
            for k, r in enumerate(records)]
    return rows, 2 * n


def scorer_for(model: str, data: str | None, *, server: str | None = None,
               precision: str = "auto") -> tuple[RewardScorer, str]:
    """The scorer and the data file: ``model`` and ``data``, or a running server and ``model`` as the data.

    With ``server`` the command line's one positional is the data (the server holds the model);
    its API key comes from ``REWARDLAB_API_KEY``.
    """
    import os

    from rewardlab.data.sources import check_exists

    if server:
        from rewardlab.serve import RemoteScorer, ServeClient

        if data is not None:
            raise ConfigError("with --server give only DATA: the server holds the model")
        return RemoteScorer(ServeClient(server, api_key=os.environ.get("REWARDLAB_API_KEY"))), model
    if data is None:
        raise ConfigError("give MODEL and DATA, or --server URL and DATA")
    check_exists(data)  # before the model loads
    return load_for_scoring(model, precision), data
