"""Rendering a candidate's text from a task and its attributes.

The attributes are realised with wording a reader (and a small encoder) can see:
filler is generic padding, hedges are stock phrases, markdown is headers, bullets and
bold. Each realisation is drawn from a pool, so no single string marks an attribute.
"""

from __future__ import annotations

import random

from rewardlab.synth.candidates import Attributes
from rewardlab.synth.names import join_items
from rewardlab.synth.tasks import Answer, Task

__all__ = ["FILLER", "HEDGE_CLOSERS", "HEDGE_OPENERS", "OVER_REFUSALS", "render"]

#: Padding sentences: true of any answer, informative about none.
FILLER = (
    "That is a really good question, and it is worth thinking about carefully.",
    "Many people have wondered about exactly this kind of thing over the years.",
    "It is always helpful to take a moment and look at the details.",
    "There are several ways to think about a question like this one.",
    "I hope that this answer is useful to you in some way.",
    "Let me know if there is anything else I can do for you.",
    "Questions like this come up quite often, so you are not alone.",
    "It is important to approach problems like this in a calm way.",
    "Taking things step by step usually makes everything a little clearer.",
    "As always, context matters a great deal in situations like these.",
    "I am happy to help with this and with anything similar.",
    "This is the kind of thing that is easy to overlook at first.",
    "Thank you for asking, since it is a very reasonable thing to wonder.",
    "Keep in mind that details like these can matter more than they seem.",
    "In general, it is good to be thorough when dealing with such matters.",
    "Hopefully this clears things up and makes the picture a bit simpler.",
    "It is worth remembering that every situation is a little bit different.",
    "People often find this sort of thing confusing at first, which is normal.",
)

HEDGE_OPENERS = (
    "I'm not entirely sure, but I think this is right.",
    "I might be wrong, but here is what I believe.",
    "Don't quote me on this, but here goes.",
    "I'm not completely certain about this one.",
    "This is just my best guess, so take it with caution.",
)
HEDGE_CLOSERS = (
    "Please double-check this, as I may be mistaken.",
    "I could be wrong, so you may want to verify it.",
    "Take this with a grain of salt.",
)

#: Refusals of a harmless request (generic: there is nothing specific to decline).
OVER_REFUSALS = (
    "I'm sorry, but I can't help with that request.",
    "Sorry, I'm not able to answer questions like this.",
    "I'd rather not answer that one, sorry.",
)


def _plain(main: Answer, extra: str | None) -> str:
    text = f"{main.text} {join_items(main.items)}." if main.items else main.text
    return f"{text} {extra}" if extra else text


def _markdown(main: Answer, extra: str | None, rng: random.Random) -> str:
    """One of three markdown styles: header with bullets, bold answer, or bold labels."""
    bullets = "\n".join(f"- {item}" for item in main.items)
    style = rng.randrange(3)
    if style == 0:
        nested = "".join(f"\n  - {item}" for item in main.items)
        return f"### Answer\n\n- {main.text}{nested}" + (f"\n- {extra}" if extra else "")
    if style == 1:
        core = f"**{main.text}**" + (f"\n\n{bullets}" if main.items else "")
        return core + (f"\n\n{extra}" if extra else "")
    core = f"**Answer:** {main.text}" + (f"\n\n{bullets}" if main.items else "")
    return core + (f"\n\n**Also:** {extra}" if extra else "")


def render(task: Task, attrs: Attributes, rng: random.Random) -> str:
    """The text of a candidate with ``attrs`` for ``task``."""
    if attrs.refusal and task.family != "should_decline":
        main, extra = Answer(rng.choice(OVER_REFUSALS)), None
    else:
        replies = task.right if attrs.correct else (task.agree if attrs.sycophancy else task.wrong)
        reply = rng.choice(replies)
        main, extra = reply.main, (reply.extra if attrs.complete else None)
    filler = rng.sample(FILLER, attrs.filler)
    before = filler[:1] if filler and rng.random() < 0.5 else []
    blocks = [
        rng.choice(HEDGE_OPENERS) if attrs.hedging else "",
        *before,
        _markdown(main, extra, rng) if attrs.markdown else _plain(main, extra),
        *filler[len(before) :],
        rng.choice(HEDGE_CLOSERS) if attrs.hedging and rng.random() < 0.5 else "",
    ]
    return ("\n\n" if attrs.markdown else " ").join(b for b in blocks if b)
