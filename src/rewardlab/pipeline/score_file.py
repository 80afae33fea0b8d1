"""``rewardlab score``: rewards for a file of responses, or for both sides of a file of pairs, in input order."""

from __future__ import annotations

from typing import Any

from rewardlab.data import load_comparisons
from rewardlab.data.load import Format, OnInvalid
from rewardlab.data.responses import first_row, is_response_row, load_responses
from rewardlab.scoring import RewardScorer

__all__ = ["score_rows"]


def score_rows(scorer: RewardScorer, source: str, *, batch_size: int, precision: str, normalize: bool,
               format: Format = "auto", on_invalid: OnInvalid = "error", columns: dict[str, str] | None = None,
               ) -> tuple[list[dict[str, Any]], int]:
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
    records = load_comparisons(source, format=format, on_invalid=on_invalid, columns=columns).records
    rewards = scorer.score([r.prompt for r in records] * 2, [r.chosen for r in records] + [r.rejected for r in records],
                           batch_size=batch_size, precision=precision, normalize=normalize)
    n = len(records)
    rows = [{"line": r.meta.get("line"), "chosen_reward": rewards[k], "rejected_reward": rewards[k + n]}
            for k, r in enumerate(records)]
    return rows, 2 * n
