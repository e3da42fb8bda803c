"""Spoken-math tutoring dialogues: the text side of the pseudo full-duplex corpus.

OmniFlatten (§4.1, "data synthesis") and SyncLLM (§4, stage 1) build full-duplex training data from *text*
dialogues that are then voiced turn by turn. This module writes those dialogues for a math tutor: the user
asks a question, the assistant answers with a short spoken explanation that ends with "The answer is N."
(the Spoken-MQA scoring trigger), the user follows up (a what-if, a chained step, an attempt to check, a
request to explain again, a new question) and usually closes with thanks.

The dialogue already knows the turn-taking events the timeline will stage, because the words depend on them:

* a **barge-in** is a user turn that starts while the previous assistant turn is still speaking ("Sorry,
  wait, can you slow down?", "Oh wait, is it 85?"); the assistant then answers the interruption;
* a **backchannel** ("uh-huh", "right", ...) is a short user sound during an assistant turn that does not
  take the floor.

Every quantity is computed exactly with :class:`fractions.Fraction`; ``Utterance.text`` is written with digits
and ``Utterance.spoken`` is what a TTS engine reads (numbers as words, :func:`thinkspeak.text.spoken_form`).
A dialogue is a pure function of its ``numpy.random.Generator``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Literal, TypeVar

import numpy as np

from thinkspeak.text import canonical_number, spoken_form

Role = Literal["user", "assistant"]
Kind = Literal["turn", "barge_in", "backchannel"]
T = TypeVar("T")

_SENTENCE_START = re.compile(r"(?:^|[.!?] )[a-z]")
BACKCHANNELS = ("uh-huh", "right", "okay", "mm-hmm", "I see", "yeah", "got it", "sure")


@dataclass(frozen=True)
class Utterance:
    """One thing one speaker says. ``answer`` is the canonical answer when the text ends "The answer is N."."""

    role: Role
    kind: Kind
    text: str
    answer: str | None = None

    @property
    def spoken(self) -> str:
        """The text as a TTS engine should read it: numbers as words, sentences capitalised."""
        return _SENTENCE_START.sub(lambda m: m.group(0).upper(), spoken_form(self.text))


@dataclass(frozen=True)
class Exchange:
    """A user turn, the assistant's reply and an optional user backchannel during that reply.

    ``user.kind == "barge_in"`` means this user turn interrupts the assistant turn of the previous exchange.
    """

    user: Utterance
    assistant: Utterance
    backchannel: Utterance | None = None


@dataclass(frozen=True)
class Dialogue:
    exchanges: tuple[Exchange, ...]

    def interrupted(self, k: int) -> bool:
        """Whether the assistant turn of exchange ``k`` is cut off by a barge-in."""
        return k + 1 < len(self.exchanges) and self.exchanges[k + 1].user.kind == "barge_in"


@dataclass(frozen=True)
class Problem:
    """A tutoring question with its exact answer and the spoken explanation steps that derive it."""

    family: str
    numbers: tuple[int, ...]
    question: str
    steps: tuple[str, ...]
    answer: Fraction
    shown: int  # the number a what-if follow-up changes ("what if it were 9 instead of 7?")
    story: int = 0  # seed of the wording (names, objects, template), kept by a what-if


def pick(rng: np.random.Generator, options: Sequence[T]) -> T:
    """One element of ``options``, uniformly (works for any sequence, unlike ``rng.choice`` on strings)."""
    return options[int(rng.integers(len(options)))]


def fmt(value: Fraction | int) -> str:
    """A number as written in the dialogue: the corpus' canonical form (contract 2), e.g. '42', '4.5'."""
    return canonical_number(Fraction(value))


NAMES = ("Maya", "Liam", "Sofia", "Noah", "Aisha", "Mateo", "Chen", "Olivia", "Kofi", "Priya", "Lucas",
         "Hana", "Omar", "Emma", "Diego", "Zara", "Ethan", "Yuki", "Amara", "Ben", "Leila", "Ivan", "Grace",
         "Ravi", "Chloe", "Tomas", "Nia", "Felix", "Mina", "Samuel", "Elena", "Jonah", "Ines", "Kai")
THINGS = ("apples", "stickers", "marbles", "pencils", "cookies", "baseball cards", "seashells", "books",
          "crayons", "balloons", "stamps", "beads", "toy cars", "postcards", "oranges", "shells")
ITEMS = ("notebooks", "sandwiches", "movie tickets", "T-shirts", "plants", "board games", "pizzas",
         "water bottles", "bus passes", "paintbrushes")
VEHICLES = ("car", "train", "bus", "cyclist", "boat", "truck")
PLACES = ("garden", "room", "playground", "pool", "parking lot", "classroom floor")


# --- problem families: draw(rng) -> numbers, build(numbers, rng) -> Problem -----------------------------------


def _tens_ones(n: int) -> tuple[int, int]:
    return n - n % 10, n % 10


def _build_add(nums: tuple[int, ...], rng: np.random.Generator) -> Problem:
    a, b = nums
    q = pick(rng, (f"What is {a} plus {b}?", f"Can you add {a} and {b} for me?", f"How much is {a} plus {b}?",
                   f"What do I get if I add {b} to {a}?", f"I need the sum of {a} and {b}."))
    tens, ones = _tens_ones(b)
    if tens and ones:
        steps = (f"Start with {a} and add {tens}, that gives {a + tens}.",
                 f"Then add the remaining {ones} to get {a + b}.")
    else:
        steps = (f"{a} plus {b} is {a + b}.",)
    return Problem("add", nums, q, steps, Fraction(a + b), b)


def _build_subtract(nums: tuple[int, ...], rng: np.random.Generator) -> Problem:
    a, b = nums
    q = pick(rng, (f"What is {a} minus {b}?", f"What do I get if I take {b} away from {a}?",
                   f"How much is {a} take away {b}?", f"Can you subtract {b} from {a}?"))
    tens, ones = _tens_ones(b)
    if tens and ones:
        steps = (f"First take {tens} away from {a}, which leaves {a - tens}.",
                 f"Then take away {ones} more, and you are left with {a - b}.")
    else:
        steps = (f"{a} minus {b} is {a - b}.",)
    return Problem("subtract", nums, q, steps, Fraction(a - b), a)


def _build_multiply(nums: tuple[int, ...], rng: np.random.Generator) -> Problem:
    a, b = nums
    q = pick(rng, (f"What is {a} times {b}?", f"How much is {a} multiplied by {b}?",
                   f"Can you multiply {a} by {b}?", f"What's {b} times {a}?"))
    tens, ones = _tens_ones(a)
    if ones:
        steps = (f"Split {a} into {tens} and {ones}.",
                 f"{tens} times {b} is {tens * b}, and {ones} times {b} is {ones * b}.",
                 f"Together that makes {a * b}.")
    else:
        steps = (f"{a // 10} times {b} is {a // 10 * b}, so {a} times {b} is {a * b}.",)
    return Problem("multiply", nums, q, steps, Fraction(a * b), a)


def _build_divide(nums: tuple[int, ...], rng: np.random.Generator) -> Problem:
    b, quotient = nums
    a = b * quotient
    q = pick(rng, (f"What is {a} divided by {b}?", f"How many times does {b} go into {a}?",
                   f"Can you divide {a} by {b}?", f"What do I get when I split {a} into {b} equal parts?"))
    steps = (f"Ask yourself what times {b} gives {a}.", f"{b} times {quotient} is {a}, so the result is {quotient}.")
    return Problem("divide", nums, q, steps, Fraction(quotient), a)


def _build_percent(nums: tuple[int, ...], rng: np.random.Generator) -> Problem:
    p, x = nums
    ans = Fraction(p * x, 100)
    q = pick(rng, (f"What is {p} percent of {x}?", f"How much is {p} percent of {x}?",
                   f"Can you work out {p} percent of {x}?"))
    tenth = Fraction(x, 10)
    if p in (25, 50, 75):
        part = {25: "a quarter", 50: "half", 75: "three quarters"}[p]
        steps = (f"{p} percent is the same as {part}.", f"{part.capitalize()} of {x} is {fmt(ans)}.")
    else:
        steps = (f"Ten percent of {x} is {fmt(tenth)}.",
                 f"{p} percent is {fmt(Fraction(p, 10))} times that, which is {fmt(ans)}.")
    return Problem("percent", nums, q, steps, ans, x)


def _build_shopping(nums: tuple[int, ...], rng: np.random.Generator) -> Problem:
    count, price, bill = nums
    name, items = pick(rng, NAMES), pick(rng, ITEMS)
    total = count * price
    ask_change = bill > total
    story = pick(rng, (f"{name} buys {count} {items} that cost {price} dollars each.",
                       f"{items.capitalize()} cost {price} dollars each, and {name} buys {count} of them."))
    if ask_change:
        q = f"{story} {name} pays with a {bill} dollar bill. How much change does {name} get back?"
        steps = (f"{count} times {price} dollars is {total} dollars.",
                 f"{bill} minus {total} leaves {bill - total} dollars of change.")
        return Problem("shopping", nums, q, steps, Fraction(bill - total), count)
    q = f"{story} How much does {name} spend in total?"
    return Problem("shopping", nums, q, (f"{count} times {price} dollars is {total} dollars.",),
                   Fraction(total), count)


def _build_sharing(nums: tuple[int, ...], rng: np.random.Generator) -> Problem:
    friends, each = nums
    total = friends * each
    name, things = pick(rng, NAMES), pick(rng, THINGS)
    q = pick(rng, (f"{name} has {total} {things} and shares them equally among {friends} friends. "
                   f"How many does each friend get?",
                   f"There are {total} {things} to split evenly between {friends} kids. How many does each kid get?"))
    steps = (f"We divide {total} by {friends}.", f"{friends} times {each} is {total}, so each one gets {each}.")
    return Problem("sharing", nums, q, steps, Fraction(each), total)


def _build_speed(nums: tuple[int, ...], rng: np.random.Generator) -> Problem:
    speed, hours = nums
    vehicle = pick(rng, VEHICLES)
    q = pick(rng, (f"A {vehicle} goes {speed} kilometers per hour for {hours} hours. How far does it travel?",
                   f"If a {vehicle} keeps a speed of {speed} kilometers an hour, how many kilometers does it "
                   f"cover in {hours} hours?"))
    steps = ("Distance is speed times time.", f"{speed} times {hours} is {speed * hours} kilometers.")
    return Problem("speed", nums, q, steps, Fraction(speed * hours), hours)


def _build_rectangle(nums: tuple[int, ...], rng: np.random.Generator) -> Problem:
    length, width, area = nums
    place = pick(rng, PLACES)
    if area:
        q = f"A {place} is {length} meters long and {width} meters wide. What is its area in square meters?"
        steps = ("Area is length times width.", f"{length} times {width} is {length * width} square meters.")
        return Problem("rectangle", nums, q, steps, Fraction(length * width), width)
    q = f"A {place} is {length} meters long and {width} meters wide. How long is the fence all the way around?"
    steps = (f"Add the length and the width, {length} plus {width} is {length + width}.",
             f"The fence goes around twice that, so {2 * (length + width)} meters.")
    return Problem("rectangle", nums, q, steps, Fraction(2 * (length + width)), width)


def _build_compare(nums: tuple[int, ...], rng: np.random.Generator) -> Problem:
    a, times = nums
    first, second = pick(rng, NAMES), pick(rng, NAMES)
    if first == second:
        second = NAMES[(NAMES.index(first) + 1) % len(NAMES)]
    things = pick(rng, THINGS)
    q = (f"{first} has {a} {things}. {second} has {times} times as many. "
         f"How many {things} do they have together?")
    steps = (f"{second} has {times} times {a}, which is {a * times}.",
             f"Together that's {a} plus {a * times}, so {a * (times + 1)}.")
    return Problem("compare", nums, q, steps, Fraction(a * (times + 1)), a)


def _int(rng: np.random.Generator, lo: int, hi: int) -> int:
    return int(rng.integers(lo, hi + 1))


@dataclass(frozen=True)
class Family:
    """A problem family: ``draw`` fresh numbers, ``build`` the problem, ``vary`` the shown number for a what-if."""

    name: str
    draw: Callable[[np.random.Generator], tuple[int, ...]]
    build: Callable[[tuple[int, ...], np.random.Generator], Problem]
    vary: Callable[[tuple[int, ...], np.random.Generator], tuple[int, ...]]


def _vary_index(i: int, draw: Callable[[np.random.Generator], tuple[int, ...]]):
    """What-if: replace number ``i`` by a fresh draw (different from the old one), keep the others."""

    def vary(nums: tuple[int, ...], rng: np.random.Generator) -> tuple[int, ...]:
        while True:
            new = draw(rng)[i]
            if new != nums[i]:
                return nums[:i] + (new,) + nums[i + 1 :]

    return vary


def _draw_subtract(rng: np.random.Generator) -> tuple[int, int]:
    b = _int(rng, 12, 89)
    return b + _int(rng, 5, 120), b


def _draw_shopping(rng: np.random.Generator) -> tuple[int, int, int]:
    count, price = _int(rng, 2, 9), _int(rng, 2, 15)
    bill = pick(rng, (20, 50, 100)) if rng.random() < 0.5 else 0
    return count, price, bill if bill > count * price else 0


def _vary_divide(nums: tuple[int, ...], rng: np.random.Generator) -> tuple[int, ...]:
    b, quotient = nums
    return b, pick(rng, [k for k in range(2, 13) if k != quotient])


def _vary_shopping(nums: tuple[int, ...], rng: np.random.Generator) -> tuple[int, ...]:
    count, price, bill = nums
    new = pick(rng, [c for c in range(2, 10) if c != count and (not bill or c * price < bill)] or [count + 1])
    return new, price, bill if bill > new * price else 0


FAMILIES = (
    Family("add", lambda r: (_int(r, 12, 489), _int(r, 7, 98)), _build_add,
           _vary_index(1, lambda r: (0, _int(r, 7, 98)))),
    Family("subtract", _draw_subtract, _build_subtract,
           lambda n, r: (pick(r, [a for a in range(n[1] + 5, n[1] + 121) if a != n[0]]), n[1])),
    Family("multiply", lambda r: (_int(r, 12, 98), _int(r, 3, 9)), _build_multiply,
           _vary_index(0, lambda r: (_int(r, 12, 98), 0))),
    Family("divide", lambda r: (_int(r, 3, 12), _int(r, 2, 12)), _build_divide, _vary_divide),
    Family("percent", lambda r: (pick(r, (10, 20, 25, 30, 40, 50, 75, 15, 5)), 10 * _int(r, 2, 40)),
           _build_percent, _vary_index(1, lambda r: (0, 10 * _int(r, 2, 40)))),
    Family("shopping", _draw_shopping, _build_shopping, _vary_shopping),
    Family("sharing", lambda r: (_int(r, 2, 9), _int(r, 2, 15)), _build_sharing,
           _vary_index(1, lambda r: (0, _int(r, 2, 15)))),
    Family("speed", lambda r: (10 * _int(r, 3, 12), _int(r, 2, 6)), _build_speed,
           _vary_index(1, lambda r: (0, _int(r, 2, 6)))),
    Family("rectangle", lambda r: (_int(r, 4, 30), _int(r, 2, 15), _int(r, 0, 1)), _build_rectangle,
           _vary_index(1, lambda r: (0, _int(r, 2, 15), 0))),
    Family("compare", lambda r: (_int(r, 3, 25), _int(r, 2, 5)), _build_compare,
           _vary_index(0, lambda r: (_int(r, 3, 25), 0))),
)
FAMILY_BY_NAME = {f.name: f for f in FAMILIES}


def _build(family: Family, numbers: tuple[int, ...], story: int) -> Problem:
    return replace(family.build(numbers, np.random.default_rng(story)), story=story)


def new_problem(rng: np.random.Generator) -> Problem:
    family = pick(rng, FAMILIES)
    return _build(family, family.draw(rng), int(rng.integers(2**31)))


def what_if(problem: Problem, rng: np.random.Generator) -> Problem:
    """The same problem, worded the same way (same story seed), with its shown number changed."""
    family = FAMILY_BY_NAME[problem.family]
    return _build(family, family.vary(problem.numbers, rng), problem.story)


# --- turns ---------------------------------------------------------------------------------------------------

GREETINGS = ("", "Hi! ", "Hello. ", "Hey. ", "Hi there, I have a math question. ", "Can you help me with my homework? ",
             "Okay, quick question. ", "Good morning! ", "I'm stuck on this one. ", "My teacher gave us this problem. ")
OPENERS = ("Sure. ", "Of course! ", "Let's see. ", "Happy to help. ", "Okay, let's work it out. ", "Good question. ",
           "", "Alright. ")
NEXT_QUESTION = ("Okay, another one. ", "Great. Here's the next one. ", "Next question. ", "Thanks. And this one? ",
                 "Cool, now this one. ")
EXPLAIN_AGAIN = ("Can you explain that again?", "I didn't quite follow. Can you go over it once more?",
                 "How did you get that?", "Wait, why is that?")
CLOSINGS = ("Thanks!", "That makes sense, thank you.", "Great, thanks for your help!", "Perfect, that's all I needed.",
            "Awesome, thank you so much.")
WELCOMES = ("You're welcome!", "Anytime. Good luck with your homework!", "Glad I could help.",
            "My pleasure. Have a great day!", "You're welcome. You did great.")
SLOW_DOWN = ("Sorry, wait, can you slow down a bit?", "Hold on, that's too fast for me.",
             "Wait, wait, can you go step by step?")
GOT_IT = ("Okay, okay, I get it now. Thanks!", "Oh, I see it now. Thank you!", "Right, got it, thanks!")


def _answer_sentence(answer: Fraction) -> str:
    return f"The answer is {fmt(answer)}."


def _explain(problem: Problem, opener: str) -> Utterance:
    text = opener + " ".join(problem.steps) + " " + _answer_sentence(problem.answer)
    return Utterance("assistant", "turn", text, fmt(problem.answer))


def _guess(problem: Problem, rng: np.random.Generator) -> tuple[Fraction, bool]:
    """A user's guess at the answer: right half of the time, otherwise off by a small amount."""
    if rng.random() < 0.5:
        return problem.answer, True
    return problem.answer + pick(rng, (-10, -2, -1, 1, 2, 10)), False


def _check_reply(problem: Problem, correct: bool, rng: np.random.Generator) -> Utterance:
    opener = pick(rng, ("Yes, exactly right! ", "That's correct. ", "Yes! ")) if correct else \
        pick(rng, ("Not quite. ", "Close, but not quite. ", "Almost. "))
    return _explain(problem, opener)


def _chain(problem: Problem, rng: np.random.Generator) -> tuple[str, Problem]:
    """A follow-up that computes on the previous answer ("and what's that times 3?")."""
    prev = problem.answer
    kind = pick(rng, ("times", "plus", "minus", "double"))
    if kind == "double":
        result, ask, step = 2 * prev, pick(rng, ("Now double it.", "And twice that?")), f"Twice {fmt(prev)} is"
    elif kind == "times":
        m = _int(rng, 2, 5)
        result, ask, step = m * prev, f"And what's that times {m}?", f"{fmt(prev)} times {m} is"
    elif kind == "plus":
        m = _int(rng, 3, 40)
        result, ask, step = prev + m, f"What if I add {m} to that?", f"{fmt(prev)} plus {m} is"
    else:
        m = _int(rng, 1, max(1, int(prev) - 1)) if prev > 1 else 1
        result, ask, step = prev - m, f"And {m} less than that?", f"{fmt(prev)} minus {m} is"
    chained = replace(problem, question=ask, steps=(f"{step} {fmt(result)}.",), answer=result)
    return ask, chained


FOLLOW_UPS = ("what_if", "chain", "check", "explain", "new")
BARGE_INS = ("slow_down", "guess", "what_if", "new")


def _follow_up(kind: str, problem: Problem, rng: np.random.Generator, barge_in: bool) -> tuple[str, Problem, Utterance]:
    """One follow-up user request about ``problem``: its text, the problem now discussed and the reply."""
    if kind == "what_if":
        new = what_if(problem, rng)
        lead = pick(rng, ("Wait, ", "Hold on, ")) if barge_in else pick(rng, ("", "Okay, ", "Hmm, "))
        ask = lead + pick(rng, (f"what if it were {new.shown} instead of {problem.shown}?",
                                f"and with {new.shown} instead of {problem.shown}?"))
        return ask[0].upper() + ask[1:], new, _explain(new, pick(rng, OPENERS))
    if kind == "chain":
        ask, chained = _chain(problem, rng)
        return ask, chained, _explain(chained, pick(rng, ("", "Okay. ", "Sure. ")))
    if kind == "check":
        new = new_problem(rng)
        guess, correct = _guess(new, rng)
        ask = pick(rng, ("Let me try one myself. ", "I'll try this one. ")) + new.question + \
            pick(rng, (f" I think it's {fmt(guess)}. Is that right?", f" Is it {fmt(guess)}?"))
        return ask, new, _check_reply(new, correct, rng)
    if kind == "explain":
        opener = pick(rng, ("Of course. Let's go step by step. ", "Sure, let me say it another way. ", "No problem. "))
        return pick(rng, EXPLAIN_AGAIN), problem, _explain(problem, opener)
    if kind == "slow_down":
        opener = pick(rng, ("Sure, slower this time. ", "Of course, one step at a time. ", "Sorry! Let me slow down. "))
        return pick(rng, SLOW_DOWN), problem, _explain(problem, opener)
    if kind == "guess":
        guess, correct = _guess(problem, rng)
        ask = pick(rng, (f"Oh wait, I know this one! Is it {fmt(guess)}?", f"Hang on, is it {fmt(guess)}?"))
        return ask, problem, _check_reply(problem, correct, rng)
    if kind == "new":
        new = new_problem(rng)
        lead = pick(rng, ("Actually, sorry, can I ask something else? ", "Never mind, different question. ")) \
            if barge_in else pick(rng, NEXT_QUESTION)
        return lead + new.question, new, _explain(new, pick(rng, OPENERS))
    raise ValueError(f"kind must be one of {FOLLOW_UPS + BARGE_INS}, got {kind!r}")


def make_dialogue(
    rng: np.random.Generator, *, exchanges: int, barge_in_share: float, backchannel_share: float
) -> Dialogue:
    """A tutoring dialogue of ``exchanges`` user turns, each answered by the assistant.

    Each assistant turn but the last is interrupted by the next user turn with probability
    ``barge_in_share``; each assistant explanation that is not interrupted gets one user backchannel with
    probability ``backchannel_share``. With two or more exchanges, the last one is a closing ("Thanks!")
    three times in four.
    """
    if isinstance(exchanges, bool) or not isinstance(exchanges, int) or exchanges < 1:
        raise ValueError(f"exchanges must be an int >= 1, got {exchanges!r}")
    for name, share in (("barge_in_share", barge_in_share), ("backchannel_share", backchannel_share)):
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"{name} must be a probability in [0, 1], got {share!r}")
    barge = [k > 0 and rng.random() < barge_in_share for k in range(exchanges)]
    closing = exchanges >= 2 and rng.random() < 0.75
    problem = new_problem(rng)
    users = [Utterance("user", "turn", pick(rng, GREETINGS) + problem.question)]
    replies = [_explain(problem, pick(rng, OPENERS))]
    for k in range(1, exchanges):
        kind: Kind = "barge_in" if barge[k] else "turn"
        if closing and k == exchanges - 1:
            ask = pick(rng, GOT_IT if barge[k] else CLOSINGS)
            reply = Utterance("assistant", "turn", pick(rng, WELCOMES))
        else:
            ask, problem, reply = _follow_up(pick(rng, BARGE_INS if barge[k] else FOLLOW_UPS), problem, rng, barge[k])
        users.append(Utterance("user", kind, ask))
        replies.append(reply)
    out = []
    for k, (user, reply) in enumerate(zip(users, replies, strict=True)):
        listens = reply.answer is not None and not (k + 1 < exchanges and barge[k + 1])
        backchannel = rng.random() < backchannel_share
        out.append(Exchange(user, reply, Utterance("user", "backchannel", pick(rng, BACKCHANNELS))
                            if listens and backchannel else None))
    return Dialogue(tuple(out))
