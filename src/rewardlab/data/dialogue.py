"""Splitting whole conversations into a shared prompt and two responses.

Many preference sets store each side as the full dialogue (HH-RLHF strings, TRL's
"implicit prompt" message lists). A reward model needs one prompt and two responses, so
the shared history becomes the prompt and only the final assistant turn differs. When the
two sides do not share their history there is no single prompt; that is an error, not a
guess.
"""

from __future__ import annotations

import re
from typing import Any

from rewardlab.data.records import Message
from rewardlab.data.validation import (
    BAD_MESSAGES,
    HISTORY_MISMATCH,
    NO_SHARED_PROMPT,
    WRONG_TYPE,
    RowError,
    check_text,
)

__all__ = [
    "ASSISTANT_MARKER",
    "HUMAN_MARKER",
    "ROLES",
    "has_hh_markers",
    "parse_messages",
    "split_common_prefix",
    "split_conversations",
    "split_hh",
]

HUMAN_MARKER = "\n\nHuman:"
ASSISTANT_MARKER = "\n\nAssistant:"
ROLES = ("system", "user", "assistant")
_TURN = re.compile(r"\n\n(Human|Assistant):")


def has_hh_markers(text: str) -> bool:
    """Whether a string looks like an HH-RLHF dialogue (both turn markers present)."""
    return HUMAN_MARKER in text and ASSISTANT_MARKER in text


def parse_messages(value: Any, field: str) -> tuple[Message, ...]:
    """A list of ``{"role", "content"}`` objects as Messages; roles are system/user/assistant."""
    if not isinstance(value, (list, tuple)):
        raise RowError(WRONG_TYPE, "expected a string or a list of chat messages", field)
    messages = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or not isinstance(item.get("content"), str):
            raise RowError(BAD_MESSAGES, f"message {i} is not an object with string 'content'", field)
        role = item.get("role")
        if role not in ROLES:
            raise RowError(BAD_MESSAGES, f"message {i} has role {role!r}; expected one of {ROLES}", field)
        messages.append(Message(role=role, content=check_text(item["content"], field)))
    return tuple(messages)


def split_conversations(
    chosen: tuple[Message, ...], rejected: tuple[Message, ...]
) -> tuple[tuple[Message, ...], str, str]:
    """Shared history and the two final assistant replies of two full conversations.

    Everything before the last message is history and must be identical on both sides;
    the last message must be the assistant's. Returns ``(history, chosen, rejected)``.
    """
    for conv, name in ((chosen, "chosen"), (rejected, "rejected")):
        if not conv or conv[-1].role != "assistant":
            raise RowError(BAD_MESSAGES, "the last message must be an assistant reply", name)
    if chosen[:-1] != rejected[:-1]:
        raise RowError(
            HISTORY_MISMATCH,
            f"chosen and rejected differ before their last message "
            f"(first difference at message {_first_difference(chosen[:-1], rejected[:-1])})",
            "rejected",
        )
    return chosen[:-1], chosen[-1].content, rejected[-1].content


def split_hh(chosen: str, rejected: str) -> tuple[tuple[Message, ...], str, str]:
    """Split two HH-RLHF dialogues at their LAST ``\\n\\nAssistant:`` turn.

    The history before it becomes user/assistant Messages (content stripped) and must be
    the same on both sides; the text after it, stripped, is the response.
    """
    chosen_history, chosen_reply = _split_last_turn(chosen, "chosen")
    rejected_history, rejected_reply = _split_last_turn(rejected, "rejected")
    if chosen_history != rejected_history:
        raise RowError(
            HISTORY_MISMATCH,
            "chosen and rejected have different dialogue histories before the last Assistant turn "
            f"(first difference at turn {_first_difference(chosen_history, rejected_history)})",
            "rejected",
        )
    return chosen_history, chosen_reply, rejected_reply


def _split_last_turn(dialogue: str, field: str) -> tuple[tuple[Message, ...], str]:
    cut = dialogue.rfind(ASSISTANT_MARKER)
    if cut < 0:
        raise RowError(BAD_MESSAGES, "no '\\n\\nAssistant:' turn in the dialogue", field)
    history = _hh_turns(dialogue[:cut], field)
    if not history:
        raise RowError(BAD_MESSAGES, "no '\\n\\nHuman:' turn before the last Assistant turn", field)
    reply = dialogue[cut + len(ASSISTANT_MARKER) :]
    if HUMAN_MARKER in reply:
        raise RowError(BAD_MESSAGES, "the dialogue ends with a Human turn, not an Assistant reply", field)
    return history, reply.strip()


def _hh_turns(text: str, field: str) -> tuple[Message, ...]:
    """Human/Assistant turns of an HH history; text before the first marker is not allowed."""
    parts = _TURN.split(text)
    if parts[0].strip():
        raise RowError(BAD_MESSAGES, "text before the first '\\n\\nHuman:' marker", field)
    roles = {"Human": "user", "Assistant": "assistant"}
    return tuple(
        Message(role=roles[speaker], content=content.strip())
        for speaker, content in zip(parts[1::2], parts[2::2], strict=True)
    )


def split_common_prefix(chosen: str, rejected: str) -> tuple[str, str, str]:
    """Split two plain strings at their longest common prefix, backed off to a whitespace.

    For TRL implicit-prompt rows without chat markers: the prompt is the shared text up to
    the last whitespace inside the common prefix (so no word is cut in half), the responses
    are what follows, stripped. Returns ``(prompt, chosen, rejected)``.
    """
    n = 0
    limit = min(len(chosen), len(rejected))
    while n < limit and chosen[n] == rejected[n]:
        n += 1
    cut = n
    if chosen != rejected:
        # Back off to just after a whitespace so the prefix never ends inside a word.
        while cut > 0 and not chosen[cut - 1].isspace():
            cut -= 1
    prompt = chosen[:cut].rstrip()
    if not prompt:
        raise RowError(
            NO_SHARED_PROMPT,
            "chosen and rejected share no leading text up to a word boundary, so no prompt can be "
            "inferred; give an explicit 'prompt' field",
            "chosen",
        )
    return prompt, chosen[cut:].strip(), rejected[cut:].strip()


def _first_difference(a: tuple[Message, ...], b: tuple[Message, ...]) -> int:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return min(len(a), len(b))
