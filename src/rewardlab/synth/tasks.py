"""What a task family produces: a prompt and the replies its candidates are built from.

A :class:`Task` separates *what* a reply says (right, wrong, agreeing with the user) from
*how* it is dressed (filler, hedges, markdown), which :mod:`rewardlab.synth.responses`
adds; so a candidate's attributes are known by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Answer", "Reply", "Task", "sentence_reply"]


@dataclass(frozen=True)
class Answer:
    """The core of a reply; ``items`` (if any) follow ``text`` as a list or bullets."""

    text: str
    items: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reply:
    """A core answer and the second part the prompt asks for (shown only if complete)."""

    main: Answer
    extra: str


@dataclass(frozen=True)
class Task:
    """One prompt and the replies a candidate can be built from (several phrasings each)."""

    family: str
    prompt: str
    right: tuple[Reply, ...]
    wrong: tuple[Reply, ...]
    agree: tuple[Reply, ...] = ()


def sentence_reply(main: str, extra: str) -> Reply:
    """A reply whose core answer is a single sentence ``main``."""
    return Reply(Answer(main), extra)
