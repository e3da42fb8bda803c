"""Words that vary the surface of word problems: people, things, containers, places, units, distractors.

Spoken-MQA (and GSM8K, which Mini-Omni-Reasoner's Spoken-Math-Problems-3M draws on) mixes many people,
objects and settings; a model must not be able to learn one template. Every generator draws its nouns here.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

NAMES = (
    "Maya Liam Sofia Noah Aisha Mateo Chloe Omar Priya Lucas Hana Diego Emma Kofi Zara Ethan Mei Jonas Amara "
    "Ravi Lena Tomas Yuki Sam Nadia Felix Grace Ibrahim Elena Kai Olivia Arjun Rosa Ben Leila Marco Tara "
    "Daniel Sara Malik Ines Hugo Nora Chen Fatima Oscar Ada Jamal Clara Luis Anna Tariq Julia Pablo Mina"
).split()


@dataclass(frozen=True)
class Thing:
    """A countable object with its plural, a container it comes in, and a plausible unit price range."""

    one: str
    many: str
    box: str
    price: tuple[int, int]  # cents, inclusive

    @property
    def boxes(self) -> str:
        return plural(self.box)

    def count(self, n: int | str) -> str:
        """``'1 apple'``, ``'3 apples'``."""
        return f"{n} {self.one if str(n) == '1' else self.many}"


def plural(noun: str) -> str:
    """English plural of a container noun: ``box -> boxes``, ``shelf -> shelves``, ``bag -> bags``."""
    if noun.endswith("f"):
        return noun[:-1] + "ves"
    if noun.endswith(("s", "sh", "ch", "x")):
        return noun + "es"
    return noun + "s"


THINGS = tuple(
    Thing(*parts.split("/")[:3], tuple(int(x) for x in parts.split("/")[3].split("-")))  # type: ignore[arg-type]
    for parts in (
        "apple/apples/bag/30-90", "pencil/pencils/pack/20-150", "sticker/stickers/sheet/5-50",
        "cookie/cookies/tray/25-200", "marble/marbles/jar/5-40", "book/books/shelf/300-1500",
        "egg/eggs/carton/15-60", "cupcake/cupcakes/box/100-350", "crayon/crayons/box/10-60", "card/cards/deck/10-80",
        "orange/oranges/crate/25-120", "notebook/notebooks/stack/99-450", "balloon/balloons/bunch/10-99",
        "muffin/muffins/basket/75-300", "toy car/toy cars/set/150-900", "bottle of water/bottles of water/case/50-250",
        "seashell/seashells/bucket/5-60", "flower/flowers/bouquet/50-400", "candle/candles/package/80-600",
        "sandwich/sandwiches/platter/250-800", "ticket/tickets/booklet/200-2500", "plum/plums/bowl/20-90",
        "battery/batteries/pack/50-300", "comic/comics/pile/150-700", "tomato/tomatoes/basket/20-110",
    )
)

# Single items with a plausible price range in whole dollars (for change and discount problems).
GOODS = (("backpack", 15, 60), ("desk lamp", 12, 45), ("board game", 10, 40), ("pair of headphones", 20, 90),
         ("scarf", 8, 30), ("watch", 25, 120), ("jacket", 30, 110), ("skateboard", 35, 95), ("teapot", 9, 35),
         ("football", 8, 28), ("puzzle", 6, 24), ("houseplant", 5, 30), ("umbrella", 7, 25))

PLACES = (
    "the market", "the bakery", "the bookstore", "the school fair", "the hardware store", "the farm stand",
    "the corner shop", "the museum gift shop", "the stationery store", "the garden center",
)

VEHICLES = (("car", "drives"), ("train", "travels"), ("bus", "travels"), ("cyclist", "rides"),
            ("boat", "sails"), ("truck", "drives"))

WORKERS = ("machine", "printer", "baker", "painter", "robot", "packer", "team of volunteers")


@dataclass(frozen=True)
class Conversion:
    """Units with an exact factor: ``1 big = factor small``."""

    big: str
    bigs: str
    small: str
    smalls: str
    factor: int


CONVERSIONS = (
    Conversion("hour", "hours", "minute", "minutes", 60),
    Conversion("minute", "minutes", "second", "seconds", 60),
    Conversion("kilometer", "kilometers", "meter", "meters", 1000),
    Conversion("meter", "meters", "centimeter", "centimeters", 100),
    Conversion("kilogram", "kilograms", "gram", "grams", 1000),
    Conversion("liter", "liters", "milliliter", "milliliters", 1000),
    Conversion("dollar", "dollars", "cent", "cents", 100),
    Conversion("day", "days", "hour", "hours", 24),
    Conversion("week", "weeks", "day", "days", 7),
    Conversion("foot", "feet", "inch", "inches", 12),
    Conversion("yard", "yards", "foot", "feet", 3),
    Conversion("dozen", "dozen", "egg", "eggs", 12),
)

_DISTRACTORS = (
    "{name} has a dog called Biscuit.",
    "It was a sunny {day}.",
    "{name}'s sister is {n} years old.",
    "The shop opened {n} years ago.",
    "{name} likes to listen to music while working.",
    "There were {n} people waiting outside.",
    "{name} lives on the {n}th floor.",
    "The weather forecast said it might rain.",
    "{name}'s favorite color is green.",
    "The walk there takes about {n} minutes.",
)
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def names(rng: random.Random, k: int) -> list[str]:
    """``k`` distinct first names."""
    return rng.sample(NAMES, k)


def distractor(rng: random.Random) -> str:
    """An irrelevant sentence, sometimes with its own number, that the solution must ignore."""
    return rng.choice(_DISTRACTORS).format(name=rng.choice(NAMES), n=rng.randint(4, 19), day=rng.choice(DAYS))


def maybe_distract(rng: random.Random, sentences: list[str], share: float = 0.3) -> list[str]:
    """Insert a distractor at a random place before the final (question) sentence, with probability ``share``."""
    if rng.random() < share and len(sentences) >= 2:
        sentences = list(sentences)
        sentences.insert(rng.randint(0, len(sentences) - 1), distractor(rng))
    return sentences
