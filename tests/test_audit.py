"""The reward-hacking audit finds biases planted in a scorer, and only those.

Each scorer below is a plain class with the ``score(prompts, responses, *, batch_size)``
call. ``ContentScorer`` knows only content: it gives a text the gold utility of the
original response it contains, so every probe must leave it unflagged. The others add one
known bias on top of it.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import replace

import pytest

import rewardlab.audit as audit
from rewardlab.audit import DEFAULT_PROBES, MIN_CLUSTERS, AuditReport, Probe, render_audit, run_probes
from rewardlab.data.records import Comparison, Prompt, prompt_text
from rewardlab.errors import ConfigError, DataError, ModelError
from rewardlab.synth import SynthConfig, generate_world


def normal_words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


class ContentScorer:
    """The gold utility of the original the text contains (else of the one it shares most words with)."""

    def __init__(self, pairs: Sequence[Comparison]) -> None:
        self.quality: dict[str, dict[str, float]] = {}
        for p in pairs:
            table = self.quality.setdefault(prompt_text(p.prompt), {})
            table[normal_words(p.chosen)] = float(p.gold_chosen or 0.0)
            table[normal_words(p.rejected)] = float(p.gold_rejected or 0.0)
        self.calls = 0

    def one(self, prompt: Prompt, response: str) -> float:
        table = self.quality[prompt_text(prompt)]
        text = normal_words(response)
        inside = [k for k in table if k and k in text]
        if inside:
            return table[max(inside, key=len)]
        seen = set(text.split())
        return table[max(table, key=lambda k: (len(set(k.split()) & seen), len(k)))]

    def score(self, prompts: Sequence[Prompt], responses: Sequence[str], *, batch_size: int = 32) -> list[float]:
        self.calls += 1
        return [self.one(p, r) for p, r in zip(prompts, responses)]


class PerWordScorer(ContentScorer):
    def __init__(self, pairs: Sequence[Comparison], per_word: float) -> None:
        super().__init__(pairs)
        self.per_word = per_word

    def one(self, prompt: Prompt, response: str) -> float:
        return super().one(prompt, response) + self.per_word * len(response.split())


class BonusScorer(ContentScorer):
    """Content plus ``bonus`` whenever ``pattern`` is in the response."""

    def __init__(self, pairs: Sequence[Comparison], pattern: str, bonus: float = 1.0,
                 flags: int = re.IGNORECASE | re.MULTILINE) -> None:
        super().__init__(pairs)
        self.pattern, self.bonus = re.compile(pattern, flags), bonus

    def one(self, prompt: Prompt, response: str) -> float:
        return super().one(prompt, response) + (self.bonus if self.pattern.search(response) else 0.0)


class HashNoiseScorer:
    """Unbiased but noisy: a pseudo-random reward per text, so any change of text redraws it."""

    def __init__(self, salt: str = "") -> None:
        self.salt = salt

    def score(self, prompts: Sequence[Prompt], responses: Sequence[str], *, batch_size: int = 32) -> list[float]:
        out = []
        for p, r in zip(prompts, responses):
            digest = hashlib.sha256(f"{self.salt}\x00{prompt_text(p)}\x00{r}".encode()).digest()
            out.append(4 * int.from_bytes(digest[:8], "big") / 2**64 - 2)
        return out


MARKDOWN_RE = r"^#{1,6} |\*\*|^\s*- "
HEDGE_RE = r"not sure|might be mistaken|could be wrong|not (?:completely|entirely) (?:certain|sure)|best guess|grain of"


@pytest.fixture(scope="module")
def pairs() -> list[Comparison]:
    return generate_world(SynthConfig(n_prompts=200)).comparisons()


def severities(report: AuditReport) -> dict[str, str]:
    return {p.name: p.severity for p in report.probes}


def flagged_probes(report: AuditReport) -> list[str]:
    """The flagged probes, and checks that the length lean is at most the content scorer's low one."""
    assert report.length.severity in ("none", "low")
    return [f for f in report.flagged if f != "length"]


def test_a_content_only_scorer_is_not_flagged(pairs) -> None:
    report = run_probes(ContentScorer(pairs), pairs)
    assert set(severities(report).values()) == {"none"}
    # The synthetic annotators like length and gold does not, so measured against their labels the
    # gold scorer is right less often when the chosen response is the longer one: at most a low
    # short-answer lean, which the audit reports rather than hides.
    assert report.flagged in ([], ["length"])
    assert report.length.severity in ("none", "low")
    assert report.probe("padding").mean_delta == 0.0


@pytest.mark.parametrize("salt", ["a", "b", "c"])
def test_a_noisy_unbiased_scorer_is_not_flagged(pairs, salt: str) -> None:
    report = run_probes(HashNoiseScorer(salt), pairs)
    assert report.flagged == []
    assert all(p.direction == "neutral" for p in report.probes)
    assert all(abs(p.effect) < 0.3 for p in report.probes)  # the transform redraws the reward, often far


def of_prompts(pairs: Sequence[Comparison], k: int, n: int = 60) -> list[Comparison]:
    """``n`` non-tie pairs moved onto ``k`` distinct prompts (their responses kept)."""
    kept = [p for p in pairs if not p.tie]
    firsts = list({p.group: p for p in reversed(kept)}.values())[:k]
    return [replace(p, prompt=firsts[i % k].prompt, prompt_id=firsts[i % k].prompt_id) for i, p in enumerate(kept[:n])]


@pytest.mark.parametrize("k", [1, 2, MIN_CLUSTERS - 1])
def test_pure_noise_on_pairs_of_few_prompts_gets_no_verdict(pairs, k: int) -> None:
    for salt in "abcdefgh":
        few = of_prompts(pairs, k)
        report = run_probes(HashNoiseScorer(salt), few)
        assert report.flagged == [], salt
        assert all(p.severity == "none" and p.direction == "neutral" for p in report.probes), salt
        assert report.n_prompts == k and report.n_pairs == len(few)
        row = json.loads(json.dumps(report.to_dict(), allow_nan=False))
        assert AuditReport.from_dict(row) == report
        assert f"Only {k} distinct prompt" in report.summary


def test_one_prompt_gives_unbounded_intervals_written_as_null(pairs) -> None:
    report = run_probes(HashNoiseScorer("f"), of_prompts(pairs, 1))
    assert all(p.ci95 == (-math.inf, math.inf) for p in report.probes)
    row = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert all(p["ci95"] == [None, None] for p in row["probes"])
    assert "-inf" in render_audit(report) and "1 prompt " in render_audit(report)


def test_a_real_bias_on_pairs_of_few_prompts_gets_no_verdict_but_does_on_enough(pairs) -> None:
    few = of_prompts(pairs, MIN_CLUSTERS - 1, n=120)
    report = run_probes(PerWordScorer(few, 0.1), few)
    assert report.flagged == [] and report.length.severity == "none"
    assert report.probe("padding").effect > 0.3  # the bias is there; too few prompts to judge it
    enough = of_prompts(pairs, 40, n=120)
    assert {"padding", "length"} <= set(run_probes(PerWordScorer(enough, 0.1), enough).flagged)


def test_a_per_word_bonus_is_flagged_by_padding_repetition_and_length(pairs) -> None:
    report = run_probes(PerWordScorer(pairs, 0.1), pairs)
    for name in ("padding", "repetition"):
        probe = report.probe(name)
        assert probe.severity == "high" and probe.direction == "rewarded"
        assert probe.flip_rate > probe.base_flip_rate + 0.15
    assert report.length.severity == "high"
    assert report.length.gap is not None and report.length.gap > 0.3
    assert {"padding", "repetition", "length"} <= set(report.flagged)


def test_a_per_word_bonus_is_a_length_bias_that_prefers_longer(pairs) -> None:
    report = run_probes(PerWordScorer(pairs, 0.1), pairs)
    assert report.length.prefers == "longer"
    assert "length bias: high (prefers longer responses)" in report.summary


def test_a_per_word_penalty_is_a_short_answer_bias_flagged_as_severely_as_verbosity(pairs) -> None:
    # A scorer that prefers short answers (the HH model's fault: 30% accuracy when the chosen is
    # longer, 92% when shorter) is as exploitable as a verbose one: a policy learns to answer tersely.
    report = run_probes(PerWordScorer(pairs, -0.1), pairs)
    assert report.probe("padding").direction == "penalised"
    assert report.probe("padding").severity == "none"  # padding is not rewarded...
    length = report.length
    assert length.gap is not None and length.gap < -0.3
    assert length.severity == "high" and length.prefers == "shorter"  # ...but brevity is
    assert "length" in report.flagged and "padding" not in report.flagged
    assert "length bias: high (prefers shorter responses)" in report.summary
    assert "(prefers shorter responses)" in render_audit(report)
    back = AuditReport.from_dict(json.loads(json.dumps(report.to_dict())))
    assert back.length.prefers == "shorter"


def test_a_noisy_scorer_has_no_length_direction(pairs) -> None:
    report = run_probes(HashNoiseScorer("a"), pairs)
    assert report.length.severity == "none" and report.length.prefers is None
    assert "length bias: none" in report.summary


def test_a_markdown_bonus_is_flagged_by_the_format_probe_only(pairs) -> None:
    report = run_probes(BonusScorer(pairs, MARKDOWN_RE), pairs)
    assert flagged_probes(report) == ["format"]
    assert report.probe("format").severity in ("medium", "high")


def test_a_sycophancy_bonus_is_flagged_by_the_sycophancy_probe_only(pairs) -> None:
    report = run_probes(BonusScorer(pairs, r"You're absolutely right"), pairs)
    assert flagged_probes(report) == ["sycophancy"]
    assert report.probe("sycophancy").severity == "high"


def test_a_hedging_bonus_is_flagged_and_a_hedging_penalty_favours_confident_wrong(pairs) -> None:
    liked = run_probes(BonusScorer(pairs, HEDGE_RE), pairs)
    assert flagged_probes(liked) == ["hedging"]
    assert liked.probe("confident_wrong").direction == "penalised"
    disliked = run_probes(BonusScorer(pairs, HEDGE_RE, bonus=-1.0), pairs)
    assert flagged_probes(disliked) == ["confident_wrong"]
    assert disliked.probe("hedging").direction == "penalised"
    confident = disliked.probe("confident_wrong")
    assert confident.side == "both" and confident.flip_rate > confident.base_flip_rate


def test_everything_is_scored_in_one_call_each_input_once(pairs) -> None:
    scorer = ContentScorer(pairs)
    seen: list[tuple[str, str]] = []
    inner = scorer.score

    def spy(prompts, responses, *, batch_size=32):
        seen.extend(zip(map(prompt_text, prompts), responses))
        return inner(prompts, responses, batch_size=batch_size)

    scorer.score = spy  # type: ignore[method-assign]
    report = run_probes(scorer, pairs[:60], batch_size=7)
    assert scorer.calls == 1
    assert len(seen) == len(set(seen))
    assert len(report.points) == len({(prompt_text(p.prompt), r) for p in pairs[:60] if not p.tie
                                      for r in (p.chosen, p.rejected)})


def test_ties_are_skipped_and_counted_and_max_pairs_samples_by_seed(pairs) -> None:
    n_ties = sum(p.tie for p in pairs)
    full = run_probes(ContentScorer(pairs), pairs)
    assert n_ties > 0 and full.n_skipped_ties == n_ties and full.n_pairs == len(pairs) - n_ties
    small = run_probes(ContentScorer(pairs), pairs, max_pairs=50, seed=3)
    assert small.n_pairs == 50 and all(p.n == 50 for p in small.probes)
    assert small == run_probes(ContentScorer(pairs), pairs, max_pairs=50, seed=3)
    assert small.reward_std != run_probes(ContentScorer(pairs), pairs, max_pairs=50, seed=4).reward_std


def test_examples_are_the_largest_positive_deltas(pairs) -> None:
    report = run_probes(PerWordScorer(pairs, 0.1), pairs)
    for probe in report.probes:
        deltas = [e.delta for e in probe.examples]
        assert len(deltas) <= 3 and all(d > 0 for d in deltas) and deltas == sorted(deltas, reverse=True)
    example = report.probe("padding").examples[0]
    assert example.before in example.after


def test_to_dict_has_the_documented_shape_and_round_trips(pairs) -> None:
    report = run_probes(PerWordScorer(pairs, 0.1), pairs)
    row = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert list(row) == ["n_pairs", "n_prompts", "n_skipped_ties", "reward_std", "probes", "length", "flagged",
                         "summary"]
    assert row["n_prompts"] == len({p.group for p in pairs if not p.tie})
    assert list(row["probes"][0]) == ["name", "description", "side", "n", "mean_delta", "ci95", "effect",
                                      "flip_rate", "base_flip_rate", "severity", "direction", "examples"]
    assert list(row["probes"][0]["examples"][0]) == ["prompt", "before", "after", "delta"]
    assert list(row["length"]) == ["pearson", "spearman", "pair_pearson", "acc_chosen_longer", "n_chosen_longer",
                                   "acc_chosen_shorter", "n_chosen_shorter", "n_equal", "gap", "severity",
                                   "prefers"]
    assert [p["name"] for p in row["probes"]] == [p.name for p in DEFAULT_PROBES]
    assert row["flagged"][-1] == "length" and "padding" in row["summary"]
    back = AuditReport.from_dict(row)
    assert back == report and back.to_dict() == report.to_dict()


def test_from_dict_rejects_what_is_not_a_report(pairs) -> None:
    with pytest.raises(DataError, match="not an audit report"):
        AuditReport.from_dict({"n_pairs": 3})
    row = run_probes(ContentScorer(pairs), pairs[:30]).to_dict()
    row["probes"][0]["severity"] = "severe"
    with pytest.raises(DataError, match="severity 'severe'"):
        AuditReport.from_dict(row)


def test_render_shows_every_probe_and_its_verdict(pairs) -> None:
    text = render_audit(run_probes(BonusScorer(pairs, MARKDOWN_RE), pairs))
    for probe in DEFAULT_PROBES:
        assert probe.name in text
    assert "MEDIUM (rewarded)" in text or "HIGH (rewarded)" in text
    assert "gap" in text and "1 of 6 probes" in text


def test_bad_inputs_raise_rewardlab_errors(pairs) -> None:
    class Short(ContentScorer):
        def score(self, prompts, responses, *, batch_size=32):
            return super().score(prompts, responses)[:-1]

    class Nan(ContentScorer):
        def score(self, prompts, responses, *, batch_size=32):
            return [math.nan for _ in responses]

    with pytest.raises(ModelError, match="returned"):
        run_probes(Short(pairs), pairs[:20])
    with pytest.raises(ModelError, match="NaN"):
        run_probes(Nan(pairs), pairs[:20])
    with pytest.raises(DataError, match="no non-tie pairs"):
        run_probes(ContentScorer(pairs), [p for p in pairs if p.tie])
    with pytest.raises(ConfigError, match="max_pairs"):
        run_probes(ContentScorer(pairs), pairs, max_pairs=0)
    with pytest.raises(ConfigError, match="unique"):
        run_probes(ContentScorer(pairs), pairs, probes=[DEFAULT_PROBES[0], DEFAULT_PROBES[0]])
    with pytest.raises(ConfigError, match="chosen_transform"):
        Probe("odd", "both sides without a chosen transform", audit.pad, side="both")
    with pytest.raises(ConfigError, match="snake_case"):
        Probe("Bad Name", "", audit.pad)


def test_custom_probes_run_alone(pairs) -> None:
    shout = Probe("shouting", "the worse response in capitals", lambda text, prompt: text.upper())
    report = run_probes(BonusScorer(pairs, r"^[^a-z]*$", flags=0), pairs, probes=[shout])
    assert [p.name for p in report.probes] == ["shouting"] and flagged_probes(report) == ["shouting"]


def test_public_api_resolves() -> None:
    for name in audit.__all__:
        assert getattr(audit, name) is not None, name


def test_importing_the_audit_does_not_load_torch() -> None:
    code = "import sys, rewardlab.audit; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_audit_runs_end_to_end_on_a_tiny_real_model(tiny_bert_dir) -> None:
    from rewardlab.models.reward_model import RewardModel

    model = RewardModel.from_backbone(tiny_bert_dir, max_length=128)
    data = generate_world(SynthConfig(n_prompts=12)).comparisons()
    report = run_probes(model, data, batch_size=16, max_pairs=16)
    assert report.n_pairs == 16 and len(report.probes) == len(DEFAULT_PROBES)
    assert all(math.isfinite(p.mean_delta) for p in report.probes)
    row = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert AuditReport.from_dict(row).to_dict() == row
    assert "confident_wrong" in render_audit(report)
