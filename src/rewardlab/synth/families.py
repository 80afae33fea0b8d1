"""The task families and their registry; the four fact-checking families live here.

Every prompt states the facts its answer needs (a conversion factor, a knowledge base,
the list to choose from), so whether a response is right can be judged from the text
alone, by a reader or by a small encoder. A family returns a :class:`Task`: the prompt
plus a few phrasings of a right reply, of wrong replies and (for ``false_premise``) of a
sycophantic one; :mod:`rewardlab.synth.responses` dresses them up with the other attributes.
``false_premise`` and ``should_decline`` have their own modules.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from rewardlab.synth.declines import should_decline
from rewardlab.synth.names import (
    CATEGORIES,
    GOODS,
    THINGS,
    distinct,
    item_name,
    join_items,
    person_name,
    place_name,
    plural,
    unit_name,
)
from rewardlab.synth.premises import false_premise
from rewardlab.synth.tasks import Answer, Reply, Task, sentence_reply

__all__ = ["GENERATORS", "arithmetic", "constrained_list", "kb_fact", "unit_conversion"]

_NUM_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}

# --- arithmetic ---------------------------------------------------------------------------------

_BARE = (
    "What is {a} {sym} {b}? Also tell me whether the result is even or odd.",
    "Please work out {a} {sym} {b}, and say if the answer is an even or an odd number.",
    "Quick question: {a} {sym} {b} = ? And is that even or odd?",
)
_STORY = {
    "add": "{name} has {a} {things}. A friend gives {name} {b} more. How many {things} does {name} have now, "
    "and is that number even or odd?",
    "sub": "{name} had {a} {things} and gave {b} of them away. How many are left, and is that number even or odd?",
    "mul": "{name} buys {a} boxes with {b} {things} in each. How many {things} is that in total, and is the "
    "total even or odd?",
}
_STORY_END = {
    "add": "so {name} now has {v} {things}",
    "sub": "so {name} has {v} {things} left",
    "mul": "so that is {v} {things} in total",
}


def arithmetic(rng: random.Random) -> Task:
    """Small sums, differences and products, plus the parity of the result."""
    op = rng.choice(("add", "sub", "mul"))
    if op == "add":
        a, b, sym = rng.randint(12, 89), rng.randint(12, 89), "+"
        r, slips = a + b, (-10, -2, -1, 1, 2, 10)
    elif op == "sub":
        a = rng.randint(40, 99)
        b, sym = rng.randint(11, a - 10), "-"
        r, slips = a - b, (-10, -2, -1, 1, 2, 10)
    else:
        a, b, sym = rng.randint(3, 12), rng.randint(3, 12), "×"
        r, slips = a * b, (-a, -2, -1, 1, 2, a)
    name, things = person_name(rng).split()[0], rng.choice(THINGS)
    story = rng.random() < 0.5
    fields = {"a": a, "b": b, "sym": sym, "name": name, "things": things}
    prompt = _STORY[op].format(**fields) if story else rng.choice(_BARE).format(**fields)

    def reply(v: int) -> Reply:
        eq = f"{a} {sym} {b} = {v}"
        main = (
            f"{eq}, {_STORY_END[op].format(v=v, **fields)}."
            if story
            else rng.choice((f"{eq}.", f"The answer is {eq}.", f"{a} {sym} {b} is {v}."))
        )
        parity = "even" if v % 2 == 0 else "odd"
        return sentence_reply(
            main,
            rng.choice((f"{v} is an {parity} number.", f"The number {v} is {parity}.", f"And {v} is {parity}.")),
        )

    wrong_values = [r + s for s in rng.sample(slips, 2) if r + s > 0]
    return Task("arithmetic", prompt, (reply(r), reply(r)), tuple(reply(v) for v in wrong_values))


# --- unit conversion ----------------------------------------------------------------------------

_CONVERSION = (
    "In {place}, {dim} is measured in {A} and {B}: 1 {a} equals {f} {B}. How many {B} are in {q1} {A}? "
    "And how many are in {q2} {A}?",
    "A recipe from {place} uses {A}. One {a} is {f} {B}. Please convert {q1} {A} to {B}, and also convert {q2} {A}.",
    "Given that 1 {a} = {f} {B}, how many {B} make {q1} {A}? Please also tell me how many {B} make {q2} {A}.",
)


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.1f}"


def unit_conversion(rng: random.Random) -> Task:
    """Convert between two made-up units whose factor the prompt states.

    Wrong replies restate a wrong factor (checkable against the prompt), slip in the
    multiplication, or divide instead of multiplying.
    """
    a, b = distinct(unit_name, 2, rng)
    f = rng.randint(2, 9)
    q1, q2 = rng.sample(range(2, 13), 2)
    fields = {
        "place": place_name(rng),
        "dim": rng.choice(("length", "weight", "volume", "time")),
        "a": a,
        "A": plural(a),
        "B": plural(b),
        "f": f,
        "q1": q1,
        "q2": q2,
    }
    prompt = rng.choice(_CONVERSION).format(**fields)

    def reply(factor: int, v1: float, v2: float, op: str = "×") -> Reply:
        x = {**fields, "factor": factor, "op": op, "v1": _number(v1), "v2": _number(v2)}
        main = rng.choice(
            (
                "Since 1 {a} is {factor} {B}, {q1} {A} are {q1} {op} {factor} = {v1} {B}.",
                "{q1} {A} = {q1} {op} {factor} {B} = {v1} {B}, because 1 {a} is {factor} {B}.",
            )
        )
        extra = rng.choice(("And {q2} {A} are {v2} {B}.", "Likewise, {q2} {A} make {v2} {B}."))
        return sentence_reply(main.format(**x), extra.format(**x))

    def wrong_reply() -> Reply:
        mode = rng.choices(("factor", "slip", "divide"), weights=(0.45, 0.35, 0.2))[0]
        if mode == "factor":
            f2 = rng.choice([g for g in (f - 2, f - 1, f + 1, f + 2) if g >= 2])
            return reply(f2, q1 * f2, q2 * f2)
        if mode == "slip":
            return reply(f, q1 * f + rng.choice((-f, -2, -1, 1, 2, f)), q2 * f)
        return reply(f, round(q1 / f, 1), round(q2 / f, 1), op="÷")

    right = (reply(f, q1 * f, q2 * f), reply(f, q1 * f, q2 * f))
    return Task("unit_conversion", prompt, right, (wrong_reply(), wrong_reply()))


# --- knowledge base -----------------------------------------------------------------------------

_KB_FACTS = (
    "{t} was founded in {year} by {founder} and is known for its {goods}.",
    "Founded by {founder} in {year}, {t} is famous for its {goods}.",
    "{t}, known for its {goods}, was founded by {founder} in {year}.",
)
_KB_INTRO = (
    "Here are some notes about the {r} valley.",
    "Notes from a travel guide to {r}:",
    "Background on three towns of {r}:",
)
_KB_QUESTIONS = {
    ("founder", "year"): "Who founded {t}, and in which year?",
    ("founder", "goods"): "Who founded {t}, and what is the town known for?",
    ("year", "founder"): "In which year was {t} founded, and by whom?",
    ("year", "goods"): "When was {t} founded, and what is it known for?",
    ("goods", "founder"): "What is {t} known for, and who founded it?",
    ("goods", "year"): "What is {t} known for, and when was it founded?",
}
_KB_MAIN = {
    "founder": ("{t} was founded by {v}.", "It was {v} who founded {t}."),
    "year": ("{t} was founded in {v}.", "{t} dates from {v}."),
    "goods": ("{t} is known for its {v}.", "{t} is famous for its {v}."),
}
_KB_EXTRA = {
    "founder": "It was founded by {v}.",
    "year": "It was founded in {v}.",
    "goods": "It is known for its {v}.",
}


def kb_fact(rng: random.Random) -> Task:
    """Look up facts in a three-town knowledge base; wrong answers borrow another town's fact."""
    towns = distinct(place_name, 3, rng)
    values = {
        "founder": distinct(person_name, 3, rng),
        "year": [str(y) for y in rng.sample(range(1150, 1900), 3)],
        "goods": rng.sample(GOODS, 3),
    }
    facts = " ".join(
        rng.choice(_KB_FACTS).format(
            t=t, year=values["year"][i], founder=values["founder"][i], goods=values["goods"][i]
        )
        for i, t in enumerate(towns)
    )
    target = rng.randrange(3)
    t = towns[target]
    main_attr, extra_attr = rng.sample(sorted(_KB_MAIN), 2)
    question = _KB_QUESTIONS[(main_attr, extra_attr)].format(t=t)
    prompt = f"{rng.choice(_KB_INTRO).format(r=place_name(rng))} {facts}\n\n{question}"
    extra = _KB_EXTRA[extra_attr].format(v=values[extra_attr][target])

    def reply(source: int) -> Reply:
        return sentence_reply(rng.choice(_KB_MAIN[main_attr]).format(t=t, v=values[main_attr][source]), extra)

    others = [i for i in range(3) if i != target]
    return Task("kb_fact", prompt, (reply(target), reply(target)), tuple(reply(i) for i in others))


# --- constrained list ---------------------------------------------------------------------------

_LIST_PROMPTS = (
    "The market in {town} sells these {cat}: {items}. List exactly {n} of them, then recommend one for a "
    "first-time visitor.",
    "Here are the {cat} of {town}: {items}. Name exactly {n} of them, and then tell me which one you would "
    "recommend to a beginner.",
    "From these {cat} found around {town} ({items}), pick exactly {n} and recommend one of your picks to a newcomer.",
)


def constrained_list(rng: random.Random) -> Task:
    """Pick exactly n items from a stated list and recommend one.

    Wrong replies list one item too many or too few, or slip in an item the list does not have.
    """
    pool = distinct(item_name, 7, rng)
    offered, outsider = pool[:6], pool[6]
    n = rng.randint(2, 4)
    count = str(n) if rng.random() < 0.5 else _NUM_WORDS[n]
    prompt = rng.choice(_LIST_PROMPTS).format(
        town=place_name(rng), cat=rng.choice(CATEGORIES), items=join_items(offered), n=count
    )

    def reply(items: list[str]) -> Reply:
        k = str(len(items)) if rng.random() < 0.5 else _NUM_WORDS[len(items)]
        lead = rng.choice((f"Here are {k} of them:", f"Sure, here are {k}:", "Here you go:", "My picks:"))
        pick = rng.choice(items)
        extra = rng.choice(
            (
                f"For a first-time visitor, I would recommend {pick}.",
                f"I'd recommend {pick} to a beginner.",
                f"My recommendation is {pick}.",
            )
        )
        return Reply(Answer(lead, tuple(items)), extra)

    def wrong_items() -> list[str]:
        if rng.random() < 0.6:
            return rng.sample(offered, n + rng.choice((-1, 1)))
        items = [*rng.sample(offered, n - 1), outsider]
        rng.shuffle(items)
        return items

    right = (reply(rng.sample(offered, n)), reply(rng.sample(offered, n)))
    return Task("constrained_list", prompt, right, (reply(wrong_items()), reply(wrong_items())))


#: Family name -> prompt generator; the keys are exactly :data:`rewardlab.synth.config.FAMILIES`.
GENERATORS: dict[str, Callable[[random.Random], Task]] = {
    "arithmetic": arithmetic,
    "unit_conversion": unit_conversion,
    "kb_fact": kb_fact,
    "constrained_list": constrained_list,
    "false_premise": false_premise,
    "should_decline": should_decline,
}
