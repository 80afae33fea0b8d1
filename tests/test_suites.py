"""Known-good / known-bad suites: strict loading, running, the JSON shape, and the built-in synth suite."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from rewardlab.data.records import Message, Prompt
from rewardlab.errors import ConfigError, DataError, ModelError
from rewardlab.eval.suite_run import render_suite, run_suite
from rewardlab.eval.suites import (
    PairCheck,
    Suite,
    ThresholdCheck,
    builtin_suite,
    load_suite,
    resolve_suite,
)
from rewardlab.synth.candidates import Attributes
from rewardlab.synth.config import FAMILIES
from rewardlab.synth.gold import gold_utility
from rewardlab.synth.responses import FILLER, HEDGE_CLOSERS, HEDGE_OPENERS, OVER_REFUSALS


class DictScorer:
    """Scores looked up by response text; records every call."""

    def __init__(self, scores: dict[str, float]) -> None:
        self.scores = scores
        self.calls: list[tuple[list[Prompt], list[str], dict[str, Any]]] = []

    def score(self, prompts: Sequence[Prompt], responses: Sequence[str], *, batch_size: int = 32,
              **options: Any) -> list[float]:
        self.calls.append((list(prompts), list(responses), {"batch_size": batch_size, **options}))
        return [self.scores[r] for r in responses]


class FnScorer:
    """Scores from a function of (prompt, response)."""

    def __init__(self, fn: Callable[[Prompt, str], float]) -> None:
        self.fn = fn

    def score(self, prompts: Sequence[Prompt], responses: Sequence[str], *, batch_size: int = 32) -> list[float]:
        return [self.fn(p, r) for p, r in zip(prompts, responses)]


class ShortScorer:
    """Returns one score too few."""

    def score(self, prompts: Sequence[Prompt], responses: Sequence[str], *, batch_size: int = 32) -> list[float]:
        return [0.0] * (len(responses) - 1)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD_YAML = """
name: tiny
checks:
  - id: sum
    prompt: What is 2 + 2?
    better: "4"
    worse: "5"
    tags: [arithmetic, correctness]
  - id: chat
    prompt:
      - {role: system, content: Be brief.}
      - {role: user, content: Say hi.}
    better: Hi!
    worse: No.
    margin: 0.5
  - id: floor
    prompt: What is 2 + 2?
    response: "4"
    min: 1
    tags: [arithmetic]
    note: a right answer is good
"""


# --- loading ------------------------------------------------------------------------------------


def test_yaml_suite_loads_pairs_thresholds_and_chat_prompts(tmp_path: Path) -> None:
    suite = load_suite(write(tmp_path, "tiny.yaml", GOOD_YAML))
    assert (suite.name, suite.source, len(suite.checks)) == ("tiny", str(tmp_path / "tiny.yaml"), 3)
    sum_check, chat, floor = suite.checks
    assert sum_check == PairCheck("sum", "What is 2 + 2?", "4", "5", tags=("arithmetic", "correctness"))
    assert chat.prompt == (Message("system", "Be brief."), Message("user", "Say hi."))
    assert isinstance(chat, PairCheck) and chat.margin == 0.5
    assert floor == ThresholdCheck("floor", "What is 2 + 2?", "4", min=1.0, tags=("arithmetic",),
                                   note="a right answer is good")


def test_jsonl_suite_is_named_after_its_file(tmp_path: Path) -> None:
    rows = [
        {"id": "a", "prompt": "Q?", "better": "yes", "worse": "no"},
        {"id": "b", "prompt": [{"role": "user", "content": "Q?"}], "response": "yes", "max": 2.5},
    ]
    path = write(tmp_path, "mine.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n\n")
    suite = load_suite(path)
    assert suite.name == "mine" and [c.kind for c in suite.checks] == ["pair", "threshold"]


@pytest.mark.parametrize(
    ("check", "field", "words"),
    [
        ({"id": "x", "prompt": "Q", "better": "a", "worse": "b", "margn": 1}, "margn", "did you mean 'margin'"),
        ({"id": "x", "prompt": "Q", "better": "a"}, "worse", "missing 'worse'"),
        ({"prompt": "Q", "better": "a", "worse": "b"}, "id", "missing 'id'"),
        ({"id": "x", "prompt": "Q", "response": "a", "min": 0, "max": 1}, "min", "exactly one of min"),
        ({"id": "x", "prompt": "Q", "response": "a"}, "min", "exactly one of min"),
        ({"id": "x", "prompt": "Q", "better": "a", "worse": "b", "min": 0}, None, "mixes pair keys"),
        ({"id": "x", "prompt": "Q", "note": "n"}, None, "neither better/worse"),
        ({"id": "x", "prompt": "  ", "better": "a", "worse": "b"}, "prompt", "prompt is empty"),
        ({"id": "x", "prompt": "Q", "better": "", "worse": "b"}, "better", "better is empty"),
        ({"id": 7, "prompt": "Q", "better": "a", "worse": "b"}, "id", "must be a string"),
        ({"id": "x", "prompt": "Q", "better": "a", "worse": "a"}, "worse", "cannot outscore itself"),
        ({"id": "x", "prompt": "Q", "better": "a", "worse": "b", "margin": -1}, "margin", "margin must be >= 0"),
        ({"id": "x", "prompt": "Q", "better": "a", "worse": "b", "margin": True}, "margin", "finite number"),
        ({"id": "x", "prompt": "Q", "response": "a", "max": "high"}, "max", "finite number"),
        ({"id": "x", "prompt": "Q", "better": "a", "worse": "b", "tags": "length"}, "tags", "list of strings"),
        ({"id": "x", "prompt": "Q", "better": "a", "worse": "b", "tags": ["a", "a"]}, "tags", "repeat a tag"),
        ({"id": "x", "prompt": [{"role": "assistant", "content": "hi"}], "better": "a", "worse": "b"}, "prompt",
         "end with the user turn"),
        ({"id": "x", "prompt": [{"role": "bot", "content": "hi"}], "better": "a", "worse": "b"}, "prompt",
         "has role 'bot'"),
        ({"id": "x", "prompt": [], "better": "a", "worse": "b"}, "prompt", "end with the user turn"),
    ],
)
def test_bad_check_names_file_line_check_and_field(
    tmp_path: Path, check: dict[str, Any], field: str | None, words: str
) -> None:
    good = {"id": "ok", "prompt": "Q", "better": "a", "worse": "b"}
    path = write(tmp_path, "s.jsonl", json.dumps(good) + "\n" + json.dumps(check) + "\n")
    with pytest.raises(DataError) as info:
        load_suite(path)
    err = info.value
    assert (err.source, err.line, err.field) == (str(path), 2, field)
    assert words in str(err) and str(path) in str(err)


def test_bad_yaml_check_is_located_by_index_and_id(tmp_path: Path) -> None:
    text = GOOD_YAML.replace("    margin: 0.5", "    margin: lots")
    with pytest.raises(DataError, match=r"checks\[1\] \(id 'chat'\): margin must be a finite number") as info:
        load_suite(write(tmp_path, "s.yaml", text))
    assert info.value.field == "margin"


def test_duplicate_ids_are_rejected(tmp_path: Path) -> None:
    yaml_text = GOOD_YAML.replace("id: floor", "id: sum")
    with pytest.raises(DataError, match=r"checks\[2\] repeats the id 'sum' of checks\[0\]"):
        load_suite(write(tmp_path, "s.yaml", yaml_text))
    row = json.dumps({"id": "a", "prompt": "Q", "better": "x", "worse": "y"})
    with pytest.raises(DataError, match=r"duplicate id 'a' \(first on line 1\)") as info:
        load_suite(write(tmp_path, "s.jsonl", f"{row}\n{row}\n"))
    assert info.value.line == 2


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("s.yaml", "checks: [", "not valid YAML"),
        ("s.yaml", "- id: a", "a YAML suite is a mapping with 'checks'"),
        ("s.yaml", "name: x\nchecks: []\n", "the suite has no checks"),
        ("s.yaml", "nme: x\nchecks: []\n", "unknown top-level key 'nme'"),
        ("s.yaml", "checks: {id: a}\n", "'checks' must be a list"),
        ("s.yaml", "name: ''\nchecks: [{id: a, prompt: Q, better: x, worse: y}]\n", "name is empty"),
        ("s.yaml", "checks: [[1, 2]]\n", "checks[0]: a check must be a mapping"),
        ("s.jsonl", "{not json}\n", "line 1: not valid JSON"),
        ("s.jsonl", "\n\n", "the suite has no checks"),
        ("s.json", "{}", "use .yaml, .yml or .jsonl"),
    ],
)
def test_bad_suite_files_are_rejected_with_a_fix(tmp_path: Path, name: str, text: str, words: str) -> None:
    with pytest.raises(DataError) as info:
        load_suite(write(tmp_path, name, text))
    assert words in str(info.value)


def test_missing_file_and_unknown_builtin(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such suite file"):
        load_suite(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="unknown built-in suite 'nope'; choose one of synth"):
        resolve_suite("builtin:nope")
    assert resolve_suite("builtin:synth").source == "builtin:synth"


def test_a_directory_or_undecodable_suite_file_raises_data_error_naming_the_path(tmp_path: Path) -> None:
    (tmp_path / "dir.yaml").mkdir()
    with pytest.raises(DataError, match=r"dir\.yaml: is a directory, not a suite file"):
        load_suite(tmp_path / "dir.yaml")
    (tmp_path / "latin1.yaml").write_bytes("checks: [{id: caf\xe9}]\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin1\.yaml: the suite file is not UTF-8 text.*re-save it as UTF-8"):
        load_suite(tmp_path / "latin1.yaml")


@pytest.mark.parametrize(("error", "words"), [
    (PermissionError(13, "Permission denied"), "permission denied reading the suite file; make it readable"),
    (OSError(5, "Input/output error"), "cannot read the suite file (Input/output error)"),
])
def test_an_unreadable_suite_file_raises_data_error_naming_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: OSError, words: str,
) -> None:
    path = write(tmp_path, "s.yaml", GOOD_YAML)

    def fail(self: Path, *args: Any, **kwargs: Any) -> str:
        raise error

    monkeypatch.setattr(Path, "read_text", fail)  # root reads through chmod, so fake the refusal
    with pytest.raises(DataError) as info:
        load_suite(path)
    assert str(path) in str(info.value) and words in str(info.value)


def test_checks_validate_themselves_when_built_in_python() -> None:
    with pytest.raises(DataError, match="exactly one of min"):
        ThresholdCheck("t", "Q", "a")
    with pytest.raises(DataError, match="no checks"):
        Suite("empty", "<test>", ())


# --- running ------------------------------------------------------------------------------------


def tiny_suite(tmp_path: Path) -> Suite:
    return load_suite(write(tmp_path, "tiny.yaml", GOOD_YAML))


def test_each_distinct_input_is_scored_once_with_the_options_given(tmp_path: Path) -> None:
    scorer = DictScorer({"4": 2.0, "5": 1.0, "Hi!": 1.0, "No.": 0.0})
    run_suite(scorer, tiny_suite(tmp_path), batch_size=7, score_options={"normalize": True})
    [(prompts, responses, options)] = scorer.calls
    assert responses == ["4", "5", "Hi!", "No."]  # "4" of the threshold check reuses the pair's score
    assert prompts[2] == (Message("system", "Be brief."), Message("user", "Say hi."))
    assert options == {"batch_size": 7, "normalize": True}


def test_pass_rules_strict_margin_and_inclusive_thresholds(tmp_path: Path) -> None:
    # sum: 1.0 vs 1.0 is a tie, which fails; chat: leads by exactly the margin, which fails; floor: 1.0 >= 1.
    result = run_suite(DictScorer({"4": 1.0, "5": 1.0, "Hi!": 0.5, "No.": 0.0}), tiny_suite(tmp_path))
    assert [r.passed for r in result.results] == [False, False, True]
    result = run_suite(DictScorer({"4": 1.5, "5": 1.0, "Hi!": 0.51, "No.": 0.0}), tiny_suite(tmp_path))
    assert [r.passed for r in result.results] == [True, True, True]


def test_to_dict_has_the_report_shape(tmp_path: Path) -> None:
    result = run_suite(DictScorer({"4": 0.5, "5": 1.0, "Hi!": 2.0, "No.": 0.0}), tiny_suite(tmp_path))
    d = json.loads(json.dumps(result.to_dict()))
    assert list(d) == ["suite", "source", "n_checks", "n_failed", "pass_rate", "by_tag", "checks", "failures"]
    assert (d["suite"], d["n_checks"], d["n_failed"]) == ("tiny", 3, 2)
    assert math.isclose(d["pass_rate"], 1 / 3)
    assert d["by_tag"] == {"arithmetic": {"n": 2, "passed": 0}, "correctness": {"n": 1, "passed": 0}}
    keys = ["id", "kind", "prompt", "a", "b", "score_a", "score_b", "margin", "min", "max", "passed", "tags", "note"]
    assert all(list(c) == keys for c in d["checks"])
    assert d["checks"][0] == {
        "id": "sum", "kind": "pair", "prompt": "What is 2 + 2?", "a": "4", "b": "5", "score_a": 0.5, "score_b": 1.0,
        "margin": 0.0, "min": None, "max": None, "passed": False, "tags": ["arithmetic", "correctness"], "note": None,
    }
    assert d["checks"][1]["prompt"] == "system: Be brief.\nuser: Say hi."
    assert d["checks"][2] == {
        "id": "floor", "kind": "threshold", "prompt": "What is 2 + 2?", "a": "4", "b": None, "score_a": 0.5,
        "score_b": None, "margin": None, "min": 1.0, "max": None, "passed": False, "tags": ["arithmetic"],
        "note": "a right answer is good",
    }
    assert [c["id"] for c in d["failures"]] == ["sum", "floor"]


def test_render_lists_failures_with_both_scores_then_the_pass_rate(tmp_path: Path) -> None:
    text = render_suite(run_suite(DictScorer({"4": 0.25, "5": 1.0, "Hi!": 2.0, "No.": 0.0}), tiny_suite(tmp_path)))
    sum_line = next(line for line in text.splitlines() if line.strip().startswith("sum "))
    assert "+0.250" in sum_line and "+1.000" in sum_line and "a > b" in sum_line
    floor_line = next(line for line in text.splitlines() if line.strip().startswith("floor "))
    assert ">= 1" in floor_line
    assert text.splitlines()[-1] == "Pass rate: 33.3% (1/3 checks)"


def test_scorer_output_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="returned 3 rewards for 4 inputs"):
        run_suite(ShortScorer(), tiny_suite(tmp_path))
    with pytest.raises(ModelError, match="NaN or infinite reward"):
        run_suite(DictScorer({"4": math.nan, "5": 1.0, "Hi!": 2.0, "No.": 0.0}), tiny_suite(tmp_path))


def test_real_reward_model_runs_the_builtin_suite(tiny_bert_dir: Path) -> None:
    from rewardlab.models import RewardModel

    model = RewardModel.from_backbone(tiny_bert_dir, max_length=128)
    suite = builtin_suite()
    result = run_suite(model, suite, batch_size=16)
    assert len(result.results) == len(suite.checks)
    again = run_suite(model, suite, batch_size=3)
    assert [r.score_a for r in again.results] == pytest.approx([r.score_a for r in result.results], abs=1e-5)


# --- the built-in synth suite --------------------------------------------------------------------

# Hand-labelled attributes of every response in synth.yaml: (better or response, worse).
# R = right (declines, for should_decline), W = wrong (complies), X = over-refusal; then
# "+" complete, fN N filler sentences, h hedged, m markdown, s sycophantic.
ATTRS: dict[str, tuple[str, str | None]] = {
    "arithmetic-sum-off-by-one": ("R+", "W+"),
    "arithmetic-story-difference-off-by-ten": ("R+", "W+"),
    "arithmetic-product-off-by-a-factor": ("R+", "W+"),
    "arithmetic-chat-difference-off-by-two": ("R+", "W+"),
    "arithmetic-right-but-incomplete-beats-wrong-and-complete": ("R", "W+"),
    "arithmetic-parity-answered": ("R+", "R"),
    "arithmetic-story-padded-with-filler": ("R+", "R+ f2"),
    "arithmetic-hedged": ("R+", "R+ h"),
    "arithmetic-over-refusal": ("R+", "X"),
    "unit-conversion-divided-instead-of-multiplied": ("R+", "W+"),
    "unit-conversion-wrong-factor": ("R+", "W+"),
    "unit-conversion-multiplication-slip": ("R+", "W+"),
    "unit-conversion-complete-plain-beats-incomplete-markdown": ("R+", "R m"),
    "unit-conversion-padded-with-three-fillers": ("R+", "R+ f3"),
    "unit-conversion-hedged": ("R+", "R+ h"),
    "kb-fact-other-towns-founder": ("R+", "W+"),
    "kb-fact-other-towns-goods": ("R+", "W+"),
    "kb-fact-hedged-right-beats-plain-wrong": ("R+ h", "W+"),
    "kb-fact-plain-right-beats-markdown-wrong": ("R+", "W+ m"),
    "kb-fact-padded-with-one-filler": ("R+", "R+ f1"),
    "kb-fact-padded-right-beats-clean-wrong": ("R+ f3", "W+"),
    "constrained-list-one-item-too-many": ("R+", "W+"),
    "constrained-list-one-item-too-few": ("R+", "W+"),
    "constrained-list-item-not-on-the-list": ("R+", "W+"),
    "constrained-list-complete-markdown-beats-incomplete-plain": ("R+ m", "R"),
    "constrained-list-hedged": ("R+", "R+ h"),
    "constrained-list-over-refusal": ("R+", "X"),
    "false-premise-capital-corrected-beats-agreement": ("R+", "W+ s"),
    "false-premise-leader-corrected-beats-agreement": ("R+", "W+ s"),
    "false-premise-wrong-correction-beats-agreement": ("W+", "W+ s"),
    "false-premise-right-correction-beats-wrong-correction": ("R+", "W+"),
    "false-premise-agreement-scores-low": ("W+ s f2", None),
    "should-decline-email-break-in": ("R+", "W"),
    "should-decline-fake-reviews-bare-decline": ("R", "W"),
    "should-decline-markdown-compliance": ("R+", "W m"),
    "should-decline-offers-an-alternative": ("R+", "R"),
    "should-decline-padded-with-filler": ("R+", "R+ f2"),
    "should-decline-compliance-scores-low": ("W", None),
    "should-decline-good-decline-scores-high": ("R+", None),
}

# The world's gold utilities have about this mean and standard deviation (default world), so
# the suite's thresholds are written for rewards normalized with them.
GOLD_MEAN, GOLD_SD = 0.93, 1.28
WHAT_CHECKS_TEST = {"correctness", "completeness", "filler", "length", "markdown", "hedging", "sycophancy",
                    "safety", "over-refusal", "chat"}
AGREEING = ("Yes,", "That's right:", "You're right,", "Exactly,")


def attributes(code: str, family: str) -> Attributes:
    head, *marks = code.split()
    filler = next((int(m[1:]) for m in marks if m.startswith("f")), 0)
    return Attributes(
        correct=head[0] == "R", complete="+" in head, filler=filler, markdown="m" in marks,
        hedging="h" in marks, sycophancy="s" in marks, refusal=head[0] == "X" or (head[0] == "R" and
                                                                                family == "should_decline"),
    )


def labelled_texts() -> dict[str, tuple[str, Attributes]]:
    """Every response text of the built-in suite -> (family, its hand-labelled attributes)."""
    out: dict[str, tuple[str, Attributes]] = {}
    for check in builtin_suite().checks:
        family = check.tags[0]
        code_a, code_b = ATTRS[check.id]
        texts = [(check.better, code_a), (check.worse, code_b)] if isinstance(check, PairCheck) else [
            (check.response, code_a)]
        for text, code in texts:
            assert code is not None
            attrs = attributes(code, family)
            assert out.setdefault(text, (family, attrs)) == (family, attrs), f"{check.id}: labelled twice"
    return out


def biased_gold_scorer(bias: Callable[[str, Attributes], float]) -> FnScorer:
    """Normalized gold utility plus an annotator-style bias, from the hand-labelled attributes."""
    labels = labelled_texts()

    def fn(prompt: Prompt, response: str) -> float:
        family, attrs = labels[response]
        return (gold_utility(attrs, family) + bias(response, attrs) - GOLD_MEAN) / GOLD_SD

    return FnScorer(fn)


def test_builtin_suite_loads_with_a_family_and_a_purpose_on_every_check() -> None:
    suite = builtin_suite("synth")
    assert (suite.name, suite.source) == ("synth", "builtin:synth")
    assert 30 <= len(suite.checks) <= 40
    assert {c.id for c in suite.checks} == set(ATTRS)
    for check in suite.checks:
        assert check.tags[0] in FAMILIES, check.id
        assert set(check.tags[1:]) <= WHAT_CHECKS_TEST and check.tags[1:], check.id
    assert sum(isinstance(c, ThresholdCheck) for c in suite.checks) <= 4
    assert {c.tags[0] for c in suite.checks} == set(FAMILIES)


def test_hand_labels_match_what_the_text_shows() -> None:
    """The labels' visible attributes agree with the world's own phrase pools."""
    for text, (family, attrs) in labelled_texts().items():
        assert sum(f in text for f in FILLER) == attrs.filler, text
        assert any(h in text for h in HEDGE_OPENERS + HEDGE_CLOSERS) == attrs.hedging, text
        assert ("**" in text or "### " in text or "\n- " in text) == attrs.markdown, text
        assert (text in OVER_REFUSALS) == (attrs.refusal and family != "should_decline"), text
        assert text.startswith(AGREEING) == attrs.sycophancy, text


def test_gold_scorer_passes_every_builtin_check() -> None:
    result = run_suite(biased_gold_scorer(lambda text, attrs: 0.0), builtin_suite())
    assert result.failures == (), render_suite(result)
    # every pair check is a strict gold preference, never a tie
    labels = labelled_texts()
    for check in builtin_suite().checks:
        if isinstance(check, PairCheck):
            fb, ab = labels[check.better]
            fw, aw = labels[check.worse]
            assert gold_utility(ab, fb) > gold_utility(aw, fw), check.id


@pytest.mark.parametrize(
    ("bias", "expected"),
    [
        # the world's length_lover annotator: +0.5 per 10 words
        (lambda text, attrs: 0.05 * (len(text.split()) - 30), "length"),
        # markdown_lover: +1.0 for markdown
        (lambda text, attrs: 1.0 * attrs.markdown, {"unit-conversion-complete-plain-beats-incomplete-markdown"}),
        # a scorer that dislikes markdown as much
        (lambda text, attrs: -1.0 * attrs.markdown, {"constrained-list-complete-markdown-beats-incomplete-plain"}),
        # agreeable: +1.5 for sycophancy
        (lambda text, attrs: 1.5 * attrs.sycophancy,
         {"false-premise-wrong-correction-beats-agreement", "false-premise-agreement-scores-low"}),
    ],
    ids=["length", "markdown", "anti-markdown", "sycophancy"],
)
def test_biased_scorers_fail_exactly_the_checks_aimed_at_their_bias(
    bias: Callable[[str, Attributes], float], expected: str | set[str]
) -> None:
    suite = builtin_suite()
    if isinstance(expected, str):
        expected = {c.id for c in suite.checks if expected in c.tags}
    result = run_suite(biased_gold_scorer(bias), suite)
    assert {r.check.id for r in result.failures} == expected, render_suite(result)
