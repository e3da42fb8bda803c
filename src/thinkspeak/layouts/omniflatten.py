"""OmniFlatten's flattened layouts: every stream of a dialogue in ONE token sequence (OmniFlatten §3).

OmniFlatten (2024, §3.2-3.4) trains one Qwen2 decoder on text ids and CosyVoice speech codes in a single
table (:class:`FlatVocab`: text ids, then ``speech_size`` speech ids, then a few specials). Three layouts,
each with a batch inverse and a streaming decoder that routes every token to its stream as it arrives:

* **4 streams, turn-based (half duplex, §3.2).** Per turn: user speech, user text, assistant text,
  assistant speech; each segment opens with its tag so turns of any length flatten invertibly::

      <us> u u u <ut> w w <at> x x x <as> s s s s <us> ...

* **3 streams, chunked (full duplex, §3.3).** User text is dropped; time advances in chunks and each chunk
  holds the user speech chunk, an assistant text chunk (``text_chunk = 2``) and the assistant speech
  chunk (``speech_chunk = 10``). After the assistant text ends its slots hold the silence-end token
  ``text_silence_end``; while a speaker is silent its speech stream holds ``speech_silence``::

      [u * 10] [x x] [s * 10] [u * 10] [x END] [s * 10] [u * 10] [END END] [SIL * 10] ...

* **2 streams, chunked (full duplex, §3.4).** User speech chunk then assistant speech chunk.

The chunked layouts are fixed-rate, so positions alone say which stream a token belongs to.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Kind = Literal["token", "silence", "tag"]
USER_SPEECH, USER_TEXT, ASSISTANT_TEXT, ASSISTANT_SPEECH = (
    "user_speech", "user_text", "assistant_text", "assistant_speech")
TURN_SEGMENTS = (USER_SPEECH, USER_TEXT, ASSISTANT_TEXT, ASSISTANT_SPEECH)


def _check_count(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    return value


@dataclass(frozen=True)
class FlatVocab:
    """One table for every stream: text ``[0, text_size)``, speech ``[text_size, text_size + speech_size)``,
    then the specials ``speech_silence``, ``text_silence_end`` and the four turn-segment tags.

    Defaults: Qwen2's 151936 text rows and CosyVoice's 4096 speech codes.
    """

    text_size: int = 151936
    speech_size: int = 4096

    def __post_init__(self) -> None:
        _check_count("text_size", self.text_size)
        _check_count("speech_size", self.speech_size)

    @property
    def speech_start(self) -> int:
        return self.text_size

    @property
    def speech_silence(self) -> int:
        return self.text_size + self.speech_size

    @property
    def text_silence_end(self) -> int:
        return self.speech_silence + 1

    @property
    def tags(self) -> dict[str, int]:
        """Tag id opening each turn segment of the 4-stream layout."""
        first = self.speech_silence + 2
        return {name: first + i for i, name in enumerate(TURN_SEGMENTS)}

    @property
    def size(self) -> int:
        return self.speech_silence + 2 + len(TURN_SEGMENTS)

    def speech(self, code: int) -> int:
        """Table id of a raw speech code."""
        if not isinstance(code, int) or isinstance(code, bool) or not 0 <= code < self.speech_size:
            raise ValueError(f"code must be a speech code in [0, {self.speech_size}), got {code!r}")
        return self.speech_start + code

    def kind(self, stream: str, token: object) -> Kind:
        """Check that ``token`` may appear in ``stream``; say whether it is content or silence."""
        if isinstance(token, int) and not isinstance(token, bool):
            if stream in (USER_SPEECH, ASSISTANT_SPEECH):
                if self.speech_start <= token < self.speech_silence:
                    return "token"
                if token == self.speech_silence:
                    return "silence"
            elif 0 <= token < self.text_size:
                return "token"
            elif stream == ASSISTANT_TEXT and token == self.text_silence_end:
                return "silence"
        if stream in (USER_SPEECH, ASSISTANT_SPEECH):
            expected = f"a speech id in [{self.speech_start}, {self.speech_silence}) or speech_silence"
        else:
            expected = f"a text id in [0, {self.text_size})"
        raise ValueError(f"{stream} token must be {expected}, got {token!r}")


VOCAB = FlatVocab()


@dataclass(frozen=True)
class Routed:
    """One token of a flattened sequence with the stream it belongs to.

    ``group`` is the turn index (4-stream layout) or the chunk index (chunked layouts); ``kind`` is
    ``'token'`` for content, ``'silence'`` for ``speech_silence`` / ``text_silence_end``, ``'tag'`` for a
    segment tag (its ``stream`` is the segment it opens).
    """

    position: int
    group: int
    stream: str
    kind: Kind
    token: int


@dataclass(frozen=True)
class Turn:
    """One half-duplex turn of the 4-stream layout (token ids of :class:`FlatVocab`)."""

    user_speech: tuple[int, ...] = ()
    user_text: tuple[int, ...] = ()
    assistant_text: tuple[int, ...] = ()
    assistant_speech: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        for name in TURN_SEGMENTS:
            object.__setattr__(self, name, tuple(getattr(self, name)))


def flatten_turns(turns: Sequence[Turn], vocab: FlatVocab = VOCAB) -> list[int]:
    """4-stream turn-based flattening (§3.2): per turn, each segment opened by its tag."""
    out: list[int] = []
    for t, turn in enumerate(turns):
        if not isinstance(turn, Turn):
            raise ValueError(f"turns[{t}] must be a Turn, got {type(turn).__name__}")
        for segment in TURN_SEGMENTS:
            tokens = getattr(turn, segment)
            for j, tok in enumerate(tokens):
                try:
                    vocab.kind(segment, tok)
                except ValueError as exc:
                    raise ValueError(f"turns[{t}].{segment}[{j}]: {exc}") from None
            out += [vocab.tags[segment], *tokens]
    return out


class TurnDecoder:
    """Streaming inverse of :func:`flatten_turns`: routes each token to its turn and segment on arrival."""

    def __init__(self, vocab: FlatVocab = VOCAB):
        self.vocab = vocab
        self.position = 0
        self.turn = -1
        self.segment: str | None = None
        self._tag_segment = {tag: name for name, tag in vocab.tags.items()}

    def push(self, token: int) -> Routed:
        if token in self._tag_segment:
            segment = self._tag_segment[token]
            index = 0 if self.segment is None else (TURN_SEGMENTS.index(self.segment) + 1) % len(TURN_SEGMENTS)
            if segment != TURN_SEGMENTS[index]:
                raise ValueError(f"position {self.position}: expected the {TURN_SEGMENTS[index]} tag "
                                 f"({self.vocab.tags[TURN_SEGMENTS[index]]}), got the {segment} tag ({token})")
            self.turn += segment == USER_SPEECH
            self.segment = segment
            kind: Kind = "tag"
        elif self.segment is None:
            raise ValueError(f"position {self.position}: the sequence must start with the user_speech tag "
                             f"({self.vocab.tags[USER_SPEECH]}), got {token!r}")
        else:
            try:
                kind = self.vocab.kind(self.segment, token)
            except ValueError as exc:
                raise ValueError(f"position {self.position}: {exc}") from None
        routed = Routed(self.position, self.turn, self.segment, kind, token)
        self.position += 1
        return routed

    def feed(self, tokens: Iterable[int]) -> list[Routed]:
        return [self.push(tok) for tok in tokens]

    def close(self) -> None:
        """Check that the sequence ended inside a complete turn (its assistant_speech segment opened)."""
        if self.segment not in (None, ASSISTANT_SPEECH):
            raise ValueError(f"sequence ended in the {self.segment} segment of turn {self.turn}; "
                             "a turn needs all four segments")


def unflatten_turns(sequence: Sequence[int], vocab: FlatVocab = VOCAB) -> list[Turn]:
    """Inverse of :func:`flatten_turns`."""
    decoder = TurnDecoder(vocab)
    routed = decoder.feed(sequence)
    decoder.close()
    turns: list[dict[str, list[int]]] = []
    for r in routed:
        if r.kind == "tag":
            if r.stream == USER_SPEECH:
                turns.append({name: [] for name in TURN_SEGMENTS})
        else:
            turns[r.group][r.stream].append(r.token)
    return [Turn(**{name: tuple(tokens) for name, tokens in t.items()}) for t in turns]


@dataclass(frozen=True)
class DuplexStreams:
    """The streams of a chunked full-duplex layout; ``assistant_text`` is None in the 2-stream layout."""

    user_speech: tuple[int, ...]
    assistant_speech: tuple[int, ...]
    assistant_text: tuple[int, ...] | None = None


def chunk_schedule(with_text: bool, speech_chunk: int = 10, text_chunk: int = 2) -> tuple[tuple[str, int], ...]:
    """The streams and sizes of one chunk: 3 streams (§3.3) with text, 2 streams (§3.4) without."""
    _check_count("speech_chunk", speech_chunk)
    if not with_text:
        return ((USER_SPEECH, speech_chunk), (ASSISTANT_SPEECH, speech_chunk))
    _check_count("text_chunk", text_chunk)
    return ((USER_SPEECH, speech_chunk), (ASSISTANT_TEXT, text_chunk), (ASSISTANT_SPEECH, speech_chunk))


def flatten_duplex(
    user_speech: Sequence[int],
    assistant_speech: Sequence[int],
    assistant_text: Sequence[int] | None = None,
    *,
    speech_chunk: int = 10,
    text_chunk: int = 2,
    vocab: FlatVocab = VOCAB,
) -> list[int]:
    """Chunked full-duplex flattening: 3 streams (§3.3) when ``assistant_text`` is given, else 2 (§3.4).

    The speech streams are fixed-rate and time-aligned: same length, a whole number of ``speech_chunk``
    chunks, silence as ``speech_silence``. The assistant text is laid out ``text_chunk`` tokens per chunk and
    padded with ``text_silence_end`` after it ends; it may contain ``text_silence_end`` itself (e.g. between
    turns) and must fit in the chunks.
    """
    schedule = chunk_schedule(assistant_text is not None, speech_chunk, text_chunk)
    if len(user_speech) != len(assistant_speech):
        raise ValueError(f"user_speech and assistant_speech must have the same length (time-aligned), "
                         f"got {len(user_speech)} and {len(assistant_speech)}")
    if len(user_speech) % speech_chunk:
        raise ValueError(f"speech_chunk {speech_chunk} does not fit the speech streams: their length "
                         f"{len(user_speech)} is not a multiple of it")
    n_chunks = len(user_speech) // speech_chunk
    streams = {USER_SPEECH: list(user_speech), ASSISTANT_SPEECH: list(assistant_speech)}
    if assistant_text is not None:
        capacity = n_chunks * text_chunk
        if len(assistant_text) > capacity:
            raise ValueError(f"assistant_text has {len(assistant_text)} tokens but {n_chunks} chunks of "
                             f"text_chunk {text_chunk} hold only {capacity}")
        streams[ASSISTANT_TEXT] = [*assistant_text, *[vocab.text_silence_end] * (capacity - len(assistant_text))]
    for name, tokens in streams.items():
        for j, tok in enumerate(tokens):
            try:
                vocab.kind(name, tok)
            except ValueError as exc:
                raise ValueError(f"{name}[{j}]: {exc}") from None
    out: list[int] = []
    for c in range(n_chunks):
        for name, size in schedule:
            out += streams[name][c * size:(c + 1) * size]
    return out


class DuplexDecoder:
    """Streaming inverse of :func:`flatten_duplex`: routes each token by its position in the chunk rhythm."""

    def __init__(self, with_text: bool, *, speech_chunk: int = 10, text_chunk: int = 2, vocab: FlatVocab = VOCAB):
        self.schedule = chunk_schedule(with_text, speech_chunk, text_chunk)
        self.vocab = vocab
        self.chunk_size = sum(size for _, size in self.schedule)
        self._slots = [name for name, size in self.schedule for _ in range(size)]
        self.position = 0

    def push(self, token: int) -> Routed:
        stream = self._slots[self.position % self.chunk_size]
        try:
            kind = self.vocab.kind(stream, token)
        except ValueError as exc:
            raise ValueError(f"position {self.position}: {exc}") from None
        routed = Routed(self.position, self.position // self.chunk_size, stream, kind, token)
        self.position += 1
        return routed

    def feed(self, tokens: Iterable[int]) -> list[Routed]:
        return [self.push(tok) for tok in tokens]

    def close(self) -> None:
        """Check that the sequence ended on a chunk boundary."""
        if self.position % self.chunk_size:
            raise ValueError(f"sequence of {self.position} tokens ends inside a chunk of {self.chunk_size} tokens")


def unflatten_duplex(
    sequence: Sequence[int],
    with_text: bool,
    *,
    speech_chunk: int = 10,
    text_chunk: int = 2,
    vocab: FlatVocab = VOCAB,
) -> DuplexStreams:
    """Inverse of :func:`flatten_duplex`; the assistant text comes back with its ``text_silence_end`` padding."""
    decoder = DuplexDecoder(with_text, speech_chunk=speech_chunk, text_chunk=text_chunk, vocab=vocab)
    routed = decoder.feed(sequence)
    decoder.close()
    streams: dict[str, list[int]] = {name: [] for name, _ in decoder.schedule}
    for r in routed:
        streams[r.stream].append(r.token)
    text = streams.get(ASSISTANT_TEXT)
    return DuplexStreams(tuple(streams[USER_SPEECH]), tuple(streams[ASSISTANT_SPEECH]),
                         None if text is None else tuple(text))
