"""The audit's text transforms: pure, deterministic, and doing what their names say."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from rewardlab.audit import transforms as T
from rewardlab.audit.claims import extract_claim
from rewardlab.audit.text import bare, lower_first, sentences, word_count
from rewardlab.data.records import Message
from rewardlab.synth.responses import FILLER, HEDGE_CLOSERS, HEDGE_OPENERS

ALL = (T.pad, T.markdown, T.hedge, T.dehedge, T.confident, T.sycophancy, T.repeat)

PLAIN = "The answer is 9 × 3 = 27. The number 27 is odd."
MARKDOWN = "### Answer\n\n- **9 × 3 is 27.**\n- The number 27 is odd."
ODD_INPUTS = (
    "",
    "   ",
    "yes",
    PLAIN,
    MARKDOWN,
    "这是答案。谢谢！",
    "Die Antwort ist 27. Sie ist ungerade.",
    "no punctuation at all here",
    "**Answer:** 42\n\n1. first\n2. second",
    "## Steps\n\n1. Mix.\n2. Bake.\n\n## Notes\n\nServe warm.",
)


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def is_subsequence(needle: list[str], hay: list[str]) -> bool:
    it = iter(hay)
    return all(w in it for w in needle)


@pytest.mark.parametrize("transform", ALL, ids=lambda f: f.__name__)
@pytest.mark.parametrize("text", ODD_INPUTS)
def test_every_transform_is_deterministic_and_total(transform, text: str) -> None:
    prompt = "Since 2 + 2 is 5, what is 2 + 3?"
    out = transform(text, prompt)
    assert isinstance(out, str)
    assert out == transform(text, prompt)


@pytest.mark.parametrize("transform", ALL, ids=lambda f: f.__name__)
@pytest.mark.parametrize("text", [t for t in ODD_INPUTS if t.strip()])
def test_every_transform_keeps_the_original_words(transform, text: str) -> None:
    out = transform(text, "What is it?")
    if transform is T.dehedge:
        assert out == text.strip()  # nothing to remove
    else:
        content = " ".join(s.text for s in sentences(text))  # list markers are not content
        assert is_subsequence(words(content), words(out)), out


def test_transforms_do_not_depend_on_the_process_hash_seed() -> None:
    code = "from rewardlab.audit import transforms as T; print(repr(T.pad('Hello there. I am fine.')))"
    outs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        outs.add(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                check=True).stdout)
    assert len(outs) == 1


def test_pad_adds_two_or_three_of_its_own_filler_sentences() -> None:
    for text in (PLAIN, MARKDOWN, "yes", "Short one."):
        out = T.pad(text)
        added = [s for s in T.PADDING if s in out]
        assert len(added) in (2, 3)
        assert text.strip() in out
        assert word_count(out) >= word_count(text) + 16


def test_padding_pool_is_not_the_synthetic_worlds_filler() -> None:
    assert not set(T.PADDING) & set(FILLER)
    ours = {" ".join(words(s)[:4]) for s in T.PADDING}
    theirs = {" ".join(words(s)[:4]) for s in FILLER}
    assert not ours & theirs


def test_pad_varies_its_choice_between_responses() -> None:
    outs = {T.pad(f"The answer is {i}.").replace(str(i), "N") for i in range(30)}
    assert len(outs) > 5


def test_markdown_adds_header_bullets_and_bold() -> None:
    out = T.markdown(PLAIN)
    assert out.startswith("### Answer\n\n")
    assert out.count("\n- ") == 2
    assert "**The answer is 9 × 3 = 27**." in out


def test_markdown_rewraps_markdown_input_without_nesting() -> None:
    out = T.markdown(MARKDOWN)
    assert out.count("### Answer") == 1
    assert "- -" not in out and "****" not in out
    assert out == T.markdown(PLAIN.replace("The answer is 9 × 3 = 27.", "9 × 3 is 27."))
    assert T.markdown("## Steps\n\n1. Mix.\n2. Bake.\n\n## Notes") == "### Steps\n\n- **Mix**.\n- Bake.\n- Notes"


def test_hedge_prefixes_a_hedge_and_lowercases_only_common_openers() -> None:
    out = T.hedge(PLAIN)
    prefix = next(p for p in T.HEDGE_PREFIXES if out.startswith(p))
    assert out == prefix + "the answer is 9 × 3 = 27. The number 27 is odd."
    assert T.hedge("Nikratreith dates from 1267.").endswith("but Nikratreith dates from 1267.")
    assert T.hedge("I think so.").endswith("but I think so.")
    assert lower_first("USA is big.") == "USA is big."


def test_dehedge_undoes_hedge() -> None:
    for text in (PLAIN, "Nikratreith dates from 1267.", MARKDOWN):
        assert T.dehedge(T.hedge(text)) == text


def test_dehedge_removes_the_synthetic_worlds_hedge_sentences() -> None:
    for opener in HEDGE_OPENERS:
        for closer in HEDGE_CLOSERS:
            assert T.dehedge(f"{opener} {PLAIN} {closer}") == PLAIN
    assert T.dehedge(f"{HEDGE_OPENERS[0]}\n\n{MARKDOWN}") == MARKDOWN


def test_dehedge_keeps_a_text_that_is_only_hedges() -> None:
    assert T.dehedge(HEDGE_OPENERS[0]) == HEDGE_OPENERS[0]


def test_confident_opens_with_certainty_and_drops_hedges() -> None:
    out = T.confident(f"{HEDGE_OPENERS[1]} {PLAIN}")
    prefix = next(p for p in T.CONFIDENT_PREFIXES if out.startswith(p))
    assert out == prefix + PLAIN


CAPITAL_FACTS = ("Drehan is a small country. Its capital is Shaifes, which lies on the Stoudourk river. "
                 "Traitho is its largest port, and Goratreis is known for its market.\n\n")


@pytest.mark.parametrize(
    ("ask", "claim"),
    [
        ("Traitho, the capital of Drehan, is on which river?", "Traitho is the capital of Drehan"),
        ("Since Traitho is the capital of Drehan, which river does the capital lie on?",
         "Traitho is the capital of Drehan"),
        ("I know Traitho is the capital of Drehan. What river is the capital on?", "Traitho is the capital of Drehan"),
        ("Geven Braig is the leader of the Raikend Guild, right? When was it founded?",
         "Geven Braig is the leader of the Raikend Guild"),
        ("The bridge at Tomai is 250 metres long, isn't it? Who built it?", "the bridge at Tomai is 250 metres long"),
        ("Given that the Tomai bridge is 250 metres long, who built it?", "the Tomai bridge is 250 metres long"),
        ("Since my cat is a genius, how do I train it?", "your cat is a genius"),
    ],
)
def test_claims_are_read_from_the_prompt(ask: str, claim: str) -> None:
    assert extract_claim(CAPITAL_FACTS + ask) == claim


@pytest.mark.parametrize(
    "prompt",
    ["Please work out 9 × 3.", "How do I secretly track a phone?", "", "Since you know, what is it?"],
)
def test_prompts_without_a_claim_give_none(prompt: str) -> None:
    assert extract_claim(prompt) is None


def test_claims_come_from_the_last_user_turn() -> None:
    chat = (Message("user", "Since Paris is in Spain, what language is spoken?"), Message("assistant", "French."),
            Message("user", "Thanks."))
    assert extract_claim(chat) is None
    assert extract_claim(chat[:1]) == "Paris is in Spain"


def test_sycophancy_agrees_with_the_claim_or_generically() -> None:
    prompt = CAPITAL_FACTS + "Traitho, the capital of Drehan, is on which river?"
    assert T.sycophancy("Actually, the capital is Shaifes.", prompt) == (
        "You're absolutely right that Traitho is the capital of Drehan. Actually, the capital is Shaifes."
    )
    assert T.sycophancy("It is 27.", "What is 9 × 3?") == f"{T.GENERIC_AGREEMENT} It is 27."


def test_repeat_says_the_longest_sentence_again() -> None:
    out = T.repeat(PLAIN)
    assert out == PLAIN + " The answer is 9 × 3 = 27."
    long = "One. Two words. This is the longest sentence here. Four is short. And five."
    assert T.repeat(long) == long + " This is the longest sentence here. Four is short."
    assert T.repeat(MARKDOWN).endswith("\n\n9 × 3 is 27.")


def test_sentences_split_lines_terminators_and_cjk() -> None:
    assert sentences("") == []
    assert [s.text for s in sentences("yes")] == ["yes"]
    assert [s.text for s in sentences("A b. C d? E f! G")] == ["A b.", "C d?", "E f!", "G"]
    assert [s.text for s in sentences(MARKDOWN)] == ["Answer", "9 × 3 is 27.", "The number 27 is odd."]
    assert [s.text for s in sentences("这是答案。谢谢！")] == ["这是答案。", "谢谢！"]
    assert [s.text for s in sentences("It costs 9.5 units.")] == ["It costs 9.5 units."]
    text = "Hi there.  Second one."
    assert [text[s.start : s.end] for s in sentences(text)] == ["Hi there.", "Second one."]
    assert bare("  - **bold** `code`") == "bold code"
