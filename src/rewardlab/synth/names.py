"""Fictional names and small word pools for the synthetic tasks.

Names are built from syllables at random, so there are far too many for a model to
memorise: to judge an answer it has to read the facts the prompt states about them.
"""

from __future__ import annotations

import random
from collections.abc import Callable

__all__ = [
    "CATEGORIES",
    "GOODS",
    "THINGS",
    "distinct",
    "item_name",
    "join_items",
    "person_name",
    "place_name",
    "plural",
    "unit_name",
]

_ONSETS = (
    "b",
    "d",
    "f",
    "g",
    "k",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "v",
    "z",
    "br",
    "dr",
    "gr",
    "kr",
    "st",
    "th",
    "tr",
    "sh",
    "h",
    "j",
)
_VOWELS = ("a", "e", "i", "o", "u", "a", "e", "o", "ai", "ou", "ei")
_CODAS = ("", "", "", "n", "r", "l", "s", "m", "th", "x", "nd", "rk")

#: Things counted in arithmetic word problems.
THINGS = (
    "apples",
    "marbles",
    "stamps",
    "coins",
    "shells",
    "books",
    "pencils",
    "tickets",
    "stickers",
    "cards",
    "buttons",
    "candles",
    "eggs",
    "ribbons",
    "postcards",
    "seeds",
)

#: What a town in the knowledge base is known for.
GOODS = (
    "copper bells",
    "blue wool",
    "salted fish",
    "glass beads",
    "clay pots",
    "silver thread",
    "honey cakes",
    "pine resin",
    "river pearls",
    "woven baskets",
    "iron nails",
    "dried figs",
    "amber combs",
    "linen sails",
    "goat cheese",
    "paper lanterns",
    "cedar boxes",
    "black tea",
    "wax candles",
    "rope ladders",
    "painted tiles",
    "wooden flutes",
    "plum wine",
    "wool blankets",
)

#: Categories for the constrained-list task (its items get invented names).
CATEGORIES = (
    "spices",
    "teas",
    "fruits",
    "herbs",
    "flowers",
    "cheeses",
    "fabrics",
    "breads",
    "dances",
    "songs",
)


def _syllable(rng: random.Random, coda: bool) -> str:
    return rng.choice(_ONSETS) + rng.choice(_VOWELS) + (rng.choice(_CODAS) if coda else "")


def place_name(rng: random.Random) -> str:
    """A capitalised two- or three-syllable name such as ``Velmora`` or ``Drakesh``."""
    n = rng.choice((2, 2, 3))
    word = "".join(_syllable(rng, coda=(i == n - 1)) for i in range(n))
    return word.capitalize()


def person_name(rng: random.Random) -> str:
    """A first and last name such as ``Tavi Morrand``."""
    first = "".join(_syllable(rng, coda=(i == 1)) for i in range(2)).capitalize()
    return f"{first} {place_name(rng)}"


def unit_name(rng: random.Random) -> str:
    """A one-syllable made-up unit such as ``zorb`` (singular)."""
    onset = rng.choice(_ONSETS)
    return onset + rng.choice(_VOWELS[:5]) + rng.choice(("rb", "nt", "lk", "sk", "rm", "nd", "mp", "ft"))


def item_name(rng: random.Random) -> str:
    """A lower-case two-syllable item name such as ``orrim`` (a spice, a tea, ...)."""
    return _syllable(rng, coda=False) + _syllable(rng, coda=True)


def plural(word: str) -> str:
    """English plural of a made-up unit (``zorb`` -> ``zorbs``, ``task`` -> ``tasks``)."""
    return word + ("es" if word.endswith(("s", "x", "sh", "ch")) else "s")


def distinct(make: Callable[[random.Random], str], n: int, rng: random.Random) -> list[str]:
    """``n`` different names from ``make``, so no two entities of one prompt share a name."""
    out: list[str] = []
    while len(out) < n:
        name = make(rng)
        if all(name.split()[-1] != o.split()[-1] and name != o for o in out):
            out.append(name)
    return out


def join_items(items: list[str] | tuple[str, ...]) -> str:
    """``a, b and c`` (the Oxford-comma-free English list)."""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]
