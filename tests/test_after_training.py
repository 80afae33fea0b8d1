"""Post-training steps never lose a finished run: a failing step is logged with how to rerun it."""

from __future__ import annotations

import pytest

from rewardlab.errors import DataError
from rewardlab.pipeline.after_training import _step, suite_spec
from rewardlab.train import RunConfig


def test_a_failing_step_is_logged_with_its_rerun_command_and_does_not_raise() -> None:
    logged: list[str] = []
    with _step("audit", logged.append, "rewardlab audit RUN/model DATA"):
        raise DataError("every held-out pair is a tie")
    assert len(logged) == 1 and "audit failed" in logged[0] and "rewardlab audit RUN/model DATA" in logged[0]


def test_a_bug_is_not_swallowed() -> None:
    with pytest.raises(ZeroDivisionError), _step("audit", print, "x"):
        _ = 1 / 0


@pytest.mark.parametrize(("train", "suite", "expected"), [
    ("synth", "auto", "builtin:synth"), ("data.jsonl", "auto", None), ("synth", "none", None),
    ("synth", "my.yaml", "my.yaml"), ("synth", None, None),
])
def test_suite_spec_resolves_auto_and_none(train: str, suite: str | None, expected: str | None) -> None:
    from rewardlab.config import config_from_dict

    cfg = config_from_dict(RunConfig, {"data": {"train": train}, "audit": {"suite": suite}})
    assert suite_spec(cfg) == expected
