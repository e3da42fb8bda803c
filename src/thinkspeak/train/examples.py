"""Training examples: prompt + target token ids with per-token loss weights.

The target of each mode follows :mod:`thinkspeak.model.tokens`. For ``tis`` the response ("say") and
reasoning ("think") BPE tokens are re-interleaved with :func:`thinkspeak.layouts.interleave.interleave`
(Mini-Omni-Reasoner §3, p:q = 2:8) using token-level licences derived from the corpus (contract 2): the
tokens of response chunk ``k`` wait for every token of reasoning steps ``0..licenses[k]``, so the model
never hears a conclusion before the reasoning that derives it (no anticipation drift).

Loss weights: 0 on the prompt (history, user text or audio, markers, mode token), ``pad_weight`` on
``<|say_pad|>``/``<|think_pad|>`` targets (they are easy and frequent; Mini-Omni-Reasoner pads empty slots),
1 on every other target token including ``<|think_end|>`` and ``<|end|>``.

Tool traces (issue 12; a tokenizer with the tool tokens): after each ``<|call_end|>`` 0-2 ``<|tool_wait|>``
tokens are inserted (chosen from the sample id), as the decoder writes while a tool runs, and the tokens the
decoder injects (waits, ``<|result|> ... <|result_end|>``) get weight 0: the model reads them, it never has
to produce them.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from thinkspeak.layouts.interleave import arrange, slot_channel
from thinkspeak.model.tokens import SpecialIds, ToolIds, check_mode
from thinkspeak.train.corpus import MathSample


@dataclass(frozen=True)
class EncodedSample:
    """A sample's text pieces tokenised once: question, reasoning steps, response chunks, token licences."""

    id: str
    question: tuple[int, ...]
    think: tuple[int, ...]
    say: tuple[int, ...]
    say_licenses: tuple[int, ...]
    has_audio: bool
    injected: frozenset[int] = frozenset()  # indices into ``think`` the decoder writes (tool waits and results)


@dataclass(frozen=True)
class Example:
    """``input_ids`` and ``weights`` (weight of predicting ``input_ids[i]`` from the prefix before it);
    ``audio_id`` names the sample whose question features fill the ``<|audio|>`` positions."""

    input_ids: tuple[int, ...]
    weights: tuple[float, ...]
    audio_id: str | None = None
    n_audio: int = 0

    def __len__(self) -> int:
        return len(self.input_ids)


def _pieces(tokenizer, parts: tuple[str, ...]) -> list[list[int]]:
    """Token ids of each part as it appears in ``" ".join(parts)`` (a space before every part but the first)."""
    texts = [part if i == 0 else " " + part for i, part in enumerate(parts)]
    return tokenizer(texts, add_special_tokens=False)["input_ids"] if texts else []


def encode_samples(tokenizer, samples: list[MathSample]) -> list[EncodedSample]:
    """:func:`encode_sample` for many rows, with three batched tokenizer calls."""
    def spaced(parts):
        return [part if i == 0 else " " + part for i, part in enumerate(parts)]

    def batch(texts):
        return tokenizer(texts, add_special_tokens=False)["input_ids"] if texts else []

    questions = batch([s.question for s in samples])
    steps = iter(batch([t for s in samples for t in spaced(s.reasoning)]))
    chunks = iter(batch([t for s in samples for t in spaced(s.response)]))
    tools = ToolIds.from_tokenizer(tokenizer)
    return [
        _encode(s, q, [next(steps) for _ in s.reasoning], [next(chunks) for _ in s.response], tools)
        for s, q in zip(samples, questions, strict=True)
    ]


def encode_sample(tokenizer, sample: MathSample) -> EncodedSample:
    """Tokenise one corpus row and turn its chunk-level licences into token-level ones (contract 2)."""
    question = tokenizer(sample.question, add_special_tokens=False)["input_ids"]
    return _encode(sample, question, _pieces(tokenizer, sample.reasoning), _pieces(tokenizer, sample.response),
                   ToolIds.from_tokenizer(tokenizer))


def _with_waits(sample_id: str, steps: list[list[int]], tools: ToolIds) -> tuple[list[list[int]], frozenset[int]]:
    """Steps with 0-2 waits after every ``<|call_end|>``, and the think indices the decoder would inject."""
    out, injected, position, inside, calls = [], set(), 0, False, 0
    for step in steps:
        new: list[int] = []
        for token in step:
            new.append(token)
            if token == tools.result:
                inside = True
            if inside:
                injected.add(position + len(new) - 1)
            if token == tools.result_end:
                inside = False
            if token == tools.call_end:
                digest = hashlib.blake2b(f"{sample_id}/{calls}".encode(), digest_size=1).digest()[0]
                calls += 1
                for _ in range(digest % 3):
                    new.append(tools.tool_wait)
                    injected.add(position + len(new) - 1)
        out.append(new)
        position += len(new)
    return out, frozenset(injected)


def _encode(sample: MathSample, question: list[int], steps: list[list[int]], chunks: list[list[int]],
            tools: ToolIds | None = None) -> EncodedSample:
    injected: frozenset[int] = frozenset()
    if tools is not None:
        steps, injected = _with_waits(sample.id, steps, tools)
    if len(sample.licenses) != len(chunks):
        raise ValueError(
            f"sample {sample.id!r}: licenses has {len(sample.licenses)} entries for {len(chunks)} response chunks"
        )
    done_after = []  # reasoning tokens emitted once step k is complete
    total = 0
    for step in steps:
        total += len(step)
        done_after.append(total)
    say: list[int] = []
    lic: list[int] = []
    for k, chunk in enumerate(chunks):
        need = sample.licenses[k]
        if not -1 <= need < len(steps):
            raise ValueError(f"sample {sample.id!r}: licenses[{k}] = {need} but there are {len(steps)} steps")
        say += chunk
        lic += [0 if need < 0 else done_after[need]] * len(chunk)
    return EncodedSample(sample.id, tuple(question), tuple(t for s in steps for t in s), tuple(say), tuple(lic),
                         sample.has_audio, injected)


def target_ids(enc: EncodedSample, mode: str, ids: SpecialIds, p: int = 2, q: int = 8) -> list[int]:
    """The target stream of ``mode`` (without the prompt)."""
    if check_mode(mode) == "asr":
        return [*enc.question, ids.end]
    return arrange(list(enc.say), list(enc.think), mode, say_pad=ids.say_pad, think_pad=ids.think_pad,
                   end=ids.end, think_end=ids.think_end, p=p, q=q, licenses=list(enc.say_licenses))


def build_example(
    enc: EncodedSample,
    mode: str,
    ids: SpecialIds,
    *,
    p: int = 2,
    q: int = 8,
    pad_weight: float = 0.1,
    n_audio: int = 0,
    history: tuple[int, ...] = (),
) -> Example:
    """Prompt (typed question, or ``n_audio`` audio positions) + target of ``mode`` with loss weights."""
    if n_audio:
        user = [ids.audio] * n_audio
    else:
        user = list(enc.question)
    prompt = [*history, ids.user, *user, ids.assistant, ids.mode(mode)]
    target = target_ids(enc, mode, ids, p, q)
    pads = (ids.say_pad, ids.think_pad)
    weights = [pad_weight if t in pads else 1.0 for t in target]
    if enc.injected:
        for i in _think_positions(target, mode, len(enc.think), ids, p, q, enc.injected):
            weights[i] = 0.0
    return Example(tuple(prompt + target), tuple([0.0] * len(prompt) + weights), enc.id if n_audio else None,
                   n_audio)


def _think_positions(target: list[int], mode: str, n_think: int, ids: SpecialIds, p: int, q: int,
                     chosen: frozenset[int]) -> list[int]:
    """Positions in ``target`` of the reasoning tokens whose index in the reasoning is in ``chosen``."""
    if mode == "tis":
        think = [i for i, t in enumerate(target) if slot_channel(i, p, q) == "think" and t != ids.think_pad]
    elif mode == "think-first":
        think = list(range(n_think))
    else:
        return []
    return [i for k, i in enumerate(think) if k in chosen]


def history_turn(enc: EncodedSample, ids: SpecialIds) -> tuple[int, ...]:
    """An earlier turn ``<|user|> question <|assistant|> spoken answer <|end|>`` built from a sample."""
    return (ids.user, *enc.question, ids.assistant, *enc.say, ids.end)


def sample_rng(seed: int, epoch: int, index: int) -> random.Random:
    """A per-sample RNG that depends only on (seed, epoch, index): examples are the same after a resume."""
    digest = hashlib.blake2b(f"{seed}/{epoch}/{index}".encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "little"))
