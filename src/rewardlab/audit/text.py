"""Small text helpers the audit's transforms share: sentences, words, stable seeds.

Splitting is deliberately simple (line breaks, then ``. ! ? …`` followed by a space, or CJK
full stops) so it never fails: empty text gives no sentences, text without punctuation is
one sentence, and markdown markers are kept in the span but stripped from :func:`bare`.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass

from rewardlab.data.records import Prompt

__all__ = [
    "Sentence",
    "bare",
    "last_user_text",
    "lower_first",
    "sentences",
    "stable_rng",
    "word_count",
]

# A sentence ends at . ! ? … (optionally closed by quotes/brackets) before whitespace, or at a CJK stop.
_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|(?<=[。！？])")
# Markdown block markers at the start of a line: headers, bullets, numbered items, quotes.
_MARKER = re.compile(r"^\s*(?:#{1,6}\s+|[-*+•]\s+|\d{1,3}[.)]\s+|>\s*)+")
_EMPHASIS = re.compile(r"(\*\*|__|`)")

# Sentence openers that are safe to lower-case after a prefix ("I'm not sure, but the answer ...").
_COMMON_OPENERS = frozenset(
    {
        "the", "a", "an", "it", "its", "this", "that", "these", "those", "there", "here", "since", "so", "yes",
        "no", "my", "your", "our", "their", "his", "her", "to", "in", "on", "at", "for", "from", "with", "as",
        "if", "when", "while", "because", "after", "before", "each", "every", "all", "some", "most", "many",
        "one", "two", "three", "first", "then", "sure", "of",
    }
)


@dataclass(frozen=True)
class Sentence:
    """One sentence of a text: ``text[start:end]`` is the raw span, ``text`` its words."""

    start: int
    end: int
    text: str


def word_count(text: str) -> int:
    """Whitespace-separated words (the length the synthetic world's annotators see)."""
    return len(text.split())


def bare(span: str) -> str:
    """A span without markdown block markers, emphasis marks and outer whitespace."""
    lines = (_MARKER.sub("", line) for line in span.splitlines())
    return _EMPHASIS.sub("", " ".join(line.strip() for line in lines if line.strip())).strip()


def sentences(text: str) -> list[Sentence]:
    """The sentences of ``text``, in order; lines are split first, so bullets are sentences.

    Empty or whitespace-only pieces are left out, so ``sentences("")`` is ``[]``. A header
    line such as ``### Answer`` is a sentence of its own.
    """
    out: list[Sentence] = []
    offset = 0
    for line in text.splitlines(keepends=True):
        pos = 0
        marker = _MARKER.match(line)
        for match in _END.finditer(line, marker.end() if marker else 0):
            _add(out, line, offset, pos, match.start())
            pos = match.end()
        _add(out, line, offset, pos, len(line))
        offset += len(line)
    return out


def _add(out: list[Sentence], line: str, offset: int, start: int, end: int) -> None:
    piece = line[start:end]
    words = bare(piece)
    if words:
        lead = len(piece) - len(piece.lstrip())
        trail = len(piece.rstrip())
        out.append(Sentence(offset + start + lead, offset + start + trail, words))


def stable_rng(*parts: str) -> random.Random:
    """A private RNG seeded by a SHA-256 of ``parts``: the same text always gets the same draws.

    Python's ``hash`` is salted per process and the global ``random`` is shared state, so
    neither would keep the transforms pure.
    """
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def lower_first(text: str) -> str:
    """``text`` with its first letter lower-cased when the first word is a common opener.

    Keeps names, "I" and acronyms as written ("I'm not sure, but Nikratreith was ...").
    """
    first = text.split(maxsplit=1)[0] if text.strip() else ""
    word = re.sub(r"\W+$", "", first)
    if word.lower() in _COMMON_OPENERS and word[:1].isupper() and (len(word) == 1 or word[1:].islower()):
        stripped = text.lstrip()
        return text[: len(text) - len(stripped)] + stripped[0].lower() + stripped[1:]
    return text


def last_user_text(prompt: Prompt) -> str:
    """The text of the last user turn (a plain-string prompt is one user turn)."""
    if isinstance(prompt, str):
        return prompt
    for message in reversed(prompt):
        if message.role == "user":
            return message.content
    return ""
