"""Mini-Omni's 8-stream layout: prompts, text-first delayed output, SNAC frames (Mini-Omni §3).

Mini-Omni (arXiv 2408.16725) runs ``n_layers + 1`` parallel token streams ``[A0 .. A6, T]`` through one
Qwen2 backbone; the input embedding is the mean of the 8 stream embeddings and one table holds every
stream's ids. This module implements, as pure functions on ids:

* the **vocabulary** (§3.1): text ``151936 + 64`` specials, 7 audio layers of ``4096 + 64``, and the layer
  shift ``layershift(tok, i) = tok + 152000 + i * 4160`` that places layer ``i`` in the shared table. Sizes are
  parameters (:class:`MiniOmniVocab`) so other backbones and codecs fit; the defaults are Mini-Omni's;
* **prompts** for the tasks A1A2, A1T2, T1A2, T1T2 and ASR (:func:`build_prompt`);
* the **text-first delayed output layout** (§3.2, text-delayed parallel decoding): text from step 0 then
  ``EOT`` then ``PAD_T``; audio layer ``i`` delayed ``i + 1`` steps, so SNAC frame ``f`` of layer ``i`` sits at
  output step ``f + i + 1``, followed by ``EOA``. :func:`encode_output` / :func:`decode_output`;
* a **streaming de-layerer** (:class:`OutputDecoder`) that yields each frame the step its last layer
  arrives, and a :class:`FrameChunker` grouping frames for the codec (4 per chunk, 341 ms) that flushes the
  partial last chunk (the public Mini-Omni code drops up to 3 final frames);
* the **SNAC frame mapping** (§3.2): 7 tokens per frame <-> 3 codebooks at 1/2/4 codes per frame.

Example, A1A2 prompt with ``T = 3`` audio positions (default vocabulary; layer 0 shown, shifted ids)::

    A0: INPUT_A PAD_A PAD_A PAD_A EOA  ANSWER_A  = 156098 156097 156097 156097 156096 156099
    T:  INPUT_T PAD_T PAD_T PAD_T EOT  ANSWER_T  = 151938 151937 151937 151937 151936 151939

Delayed output with text ``[t0 t1]`` and 2 frames (``a``/``b``, codes of layer i shown as ``ai``/``bi``)::

    step  0     1     2     3     4     5     6     7     8     9
    A0    PAD   a0    b0    EOA   PAD   PAD   PAD   PAD   PAD   PAD
    A1    PAD   PAD   a1    b1    EOA   PAD   PAD   PAD   PAD   PAD
    ...
    A6    PAD   PAD   PAD   PAD   PAD   PAD   PAD   a6    b6    EOA
    T     t0    t1    EOT   PAD_T PAD_T PAD_T PAD_T PAD_T PAD_T PAD_T

Frame ``a`` is complete at step 7, when ``a6`` arrives; the first 4-frame chunk is ready after 11 forward
passes (steps 0..10), as in the paper.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

Frame = tuple[int, ...]
"""One codec frame: one raw (unshifted) code per audio layer, layer 0 first."""

TASKS = ("A1A2", "A1T2", "T1A2", "T1T2", "ASR")
AUDIO_INPUT_TASKS = ("A1A2", "A1T2", "ASR")
SNAC_LAYERS = 7
FRAMES_PER_CHUNK = 4


def _check_int(name: str, value: object, minimum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def _check_range(name: str, value: object, lo: int, hi: int, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value < hi:
        raise ValueError(f"{name} must be {what} (an int in [{lo}, {hi})), got {value!r}")
    return value


@dataclass(frozen=True)
class MiniOmniVocab:
    """The shared token table of Mini-Omni §3.1; the defaults give 152000 + 7 * 4160 = 181120 rows.

    Named specials sit right after each vocabulary: text ``EOT, PAD_T, INPUT_T, ANSWER_T, ASR`` at
    ``text_vocab + 0..4``; audio ``EOA, PAD_A, INPUT_A, ANSWER_A, SPLIT`` at ``audio_vocab + 0..4`` before the
    layer shift.
    """

    text_vocab: int = 151936
    text_specials: int = 64
    audio_vocab: int = 4096
    audio_specials: int = 64
    n_layers: int = SNAC_LAYERS

    def __post_init__(self) -> None:
        _check_int("text_vocab", self.text_vocab, 1)
        _check_int("text_specials", self.text_specials, 5)
        _check_int("audio_vocab", self.audio_vocab, 1)
        _check_int("audio_specials", self.audio_specials, 5)
        _check_int("n_layers", self.n_layers, 1)

    @property
    def text_size(self) -> int:
        """Rows of the text block (152000 by default)."""
        return self.text_vocab + self.text_specials

    @property
    def audio_size(self) -> int:
        """Rows of one audio layer block (4160 by default)."""
        return self.audio_vocab + self.audio_specials

    @property
    def size(self) -> int:
        """Rows of the whole table (181120 by default)."""
        return self.text_size + self.n_layers * self.audio_size

    @property
    def n_streams(self) -> int:
        return self.n_layers + 1

    # Text specials (ids in the shared table).
    @property
    def eot(self) -> int:
        return self.text_vocab

    @property
    def pad_t(self) -> int:
        return self.text_vocab + 1

    @property
    def input_t(self) -> int:
        return self.text_vocab + 2

    @property
    def answer_t(self) -> int:
        return self.text_vocab + 3

    @property
    def asr(self) -> int:
        return self.text_vocab + 4

    # Audio specials (raw codes, before the layer shift).
    @property
    def eoa(self) -> int:
        return self.audio_vocab

    @property
    def pad_a(self) -> int:
        return self.audio_vocab + 1

    @property
    def input_a(self) -> int:
        return self.audio_vocab + 2

    @property
    def answer_a(self) -> int:
        return self.audio_vocab + 3

    @property
    def split(self) -> int:
        return self.audio_vocab + 4

    def shift(self, token: int, layer: int) -> int:
        """``layershift(token, layer) = token + text_size + layer * audio_size`` (raw audio code -> table id)."""
        _check_range("layer", layer, 0, self.n_layers, "an audio layer index")
        _check_range("token", token, 0, self.audio_size, f"a raw code of audio layer {layer}")
        return token + self.text_size + layer * self.audio_size

    def unshift(self, token_id: int, layer: int) -> int:
        """Inverse of :meth:`shift`: the raw code of a table id that belongs to audio layer ``layer``."""
        _check_range("layer", layer, 0, self.n_layers, "an audio layer index")
        lo = self.text_size + layer * self.audio_size
        _check_range("token_id", token_id, lo, lo + self.audio_size, f"an id of audio layer {layer}")
        return token_id - lo

    def special_names(self) -> dict[int, str]:
        """Names of the specials by table id, for rendering (raw audio specials of every layer included)."""
        names = {self.eot: "EOT", self.pad_t: "PAD_T", self.input_t: "INPUT_T", self.answer_t: "ANSWER_T",
                 self.asr: "ASR"}
        audio = {self.eoa: "EOA", self.pad_a: "PAD_A", self.input_a: "INPUT_A", self.answer_a: "ANSWER_A",
                 self.split: "SPLIT"}
        for layer in range(self.n_layers):
            names.update({self.shift(raw, layer): name for raw, name in audio.items()})
        return names


VOCAB = MiniOmniVocab()


def audio_len_for_ms(duration_ms: float) -> int:
    """Number of audio input positions ``T = int(duration_ms / 20) + 1`` (Whisper features at 50 Hz, §3.1)."""
    if isinstance(duration_ms, bool) or not isinstance(duration_ms, int | float) or not duration_ms >= 0:
        raise ValueError(f"duration_ms must be a number >= 0 (milliseconds of audio), got {duration_ms!r}")
    return int(duration_ms / 20) + 1


def audio_input_positions(audio_len: int) -> range:
    """Prompt positions whose 7 audio streams the adapter output replaces: ``1 .. T`` (text keeps PAD_T)."""
    _check_int("audio_len", audio_len, 1)
    return range(1, audio_len + 1)


def build_prompt(
    task: str, audio_len: int = 0, text_ids: Sequence[int] = (), vocab: MiniOmniVocab = VOCAB
) -> list[list[int]]:
    """The prompt streams ``[A0 .. A6, T]`` (shifted ids) of a Mini-Omni task (§3.3, task formats).

    Audio input (A1A2, A1T2, ASR; ``audio_len = T >= 1``, no ``text_ids``): audio layer ``i`` is
    ``[INPUT_A, PAD_A * T, EOA, X_a]`` and text ``[INPUT_T, PAD_T * T, EOT, X_t]``, where ``(X_a, X_t)`` is
    ``(ANSWER_A, ANSWER_T)`` for A1A2, ``(PAD_A, ANSWER_T)`` for A1T2 and ``(PAD_A, ASR)`` for ASR.
    Text input (T1A2, T1T2; ``n >= 1`` text ids, ``audio_len = 0``): text is
    ``[INPUT_T, *text_ids, EOT, ANSWER_T]``; audio layer ``i`` is ``[PAD_A * (n + 2), ANSWER_A]`` for T1A2 and
    ``PAD_A * (n + 3)`` for T1T2.
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    text_ids = list(text_ids)
    if task in AUDIO_INPUT_TASKS:
        _check_int("audio_len", audio_len, 1)
        if text_ids:
            raise ValueError(f"text_ids must be empty for the audio-input task {task}, got {len(text_ids)} ids")
        x_a, x_t = {"A1A2": (vocab.answer_a, vocab.answer_t), "A1T2": (vocab.pad_a, vocab.answer_t),
                    "ASR": (vocab.pad_a, vocab.asr)}[task]
        audio = [vocab.input_a, *[vocab.pad_a] * audio_len, vocab.eoa, x_a]
        text = [vocab.input_t, *[vocab.pad_t] * audio_len, vocab.eot, x_t]
    else:
        if audio_len != 0:
            raise ValueError(f"audio_len must be 0 for the text-input task {task}, got {audio_len!r}")
        if not text_ids:
            raise ValueError(f"text_ids must hold at least one text token for the text-input task {task}, got []")
        for j, tok in enumerate(text_ids):
            _check_range(f"text_ids[{j}]", tok, 0, vocab.text_vocab, "a text token")
        n = len(text_ids)
        audio = [vocab.pad_a] * (n + 2) + [vocab.answer_a if task == "T1A2" else vocab.pad_a]
        text = [vocab.input_t, *text_ids, vocab.eot, vocab.answer_t]
    streams = [[vocab.shift(tok, layer) for tok in audio] for layer in range(vocab.n_layers)]
    return [*streams, text]


def _check_frames(frames: Sequence[Sequence[int]], vocab: MiniOmniVocab) -> list[Frame]:
    out = []
    for f, frame in enumerate(frames):
        if len(frame) != vocab.n_layers:
            raise ValueError(f"frames[{f}] must hold {vocab.n_layers} codes (one per layer), got {len(frame)}")
        for i, code in enumerate(frame):
            _check_range(f"frames[{f}][{i}]", code, 0, vocab.audio_vocab, f"a code of audio layer {i}")
        out.append(tuple(frame))
    return out


def encode_output(
    text_ids: Sequence[int], frames: Sequence[Sequence[int]], vocab: MiniOmniVocab = VOCAB
) -> list[list[int]]:
    """The text-first delayed output streams ``[A0 .. A6, T]`` (shifted ids) of a spoken answer (§3.2).

    Text: ``text_ids`` from step 0, then ``EOT``, then ``PAD_T``. Audio layer ``i``: ``PAD_A`` for ``i + 1``
    steps, then layer ``i`` of every frame, then ``EOA``, then ``PAD_A``. The length is the first step at which
    every stream has ended: ``max(F + n_layers + 1, len(text_ids) + 1)`` for ``F`` frames.
    """
    for j, tok in enumerate(text_ids):
        _check_range(f"text_ids[{j}]", tok, 0, vocab.text_vocab, "a text token")
    checked = _check_frames(frames, vocab)
    n_frames = len(checked)
    length = max(n_frames + vocab.n_layers + 1, len(text_ids) + 1)
    streams = []
    for layer in range(vocab.n_layers):
        raw = [vocab.pad_a] * (layer + 1) + [frame[layer] for frame in checked] + [vocab.eoa]
        raw += [vocab.pad_a] * (length - len(raw))
        streams.append([vocab.shift(tok, layer) for tok in raw])
    text = [*text_ids, vocab.eot]
    streams.append(text + [vocab.pad_t] * (length - len(text)))
    return streams


@dataclass
class DecodedOutput:
    """Text tokens and complete audio frames recovered from (part of) a delayed output."""

    text: list[int] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)

    def extend(self, other: DecodedOutput) -> None:
        self.text.extend(other.text)
        self.frames.extend(other.frames)


class OutputDecoder:
    """Streaming de-layerer of the text-first delayed layout (Mini-Omni §3.2, streaming output).

    :meth:`push` takes one output step (one id per stream, ``[A0 .. A6, T]``) and returns the text token of
    that step and the frame completed by it: frame ``f`` is yielded at step ``f + n_layers``, the moment its
    last layer arrives, so no frame waits for a chunk boundary and none is lost at the end of audio. Every
    step is checked against the layout (ids in their stream's range, ``PAD_A`` during the delay, each
    layer's ``EOA`` exactly one step after the previous layer's, pads after the end); a violation raises
    ``ValueError``. :attr:`audio_done` turns true when the last layer emits ``EOA`` (where Mini-Omni stops);
    :meth:`close` checks that every stream has ended.
    """

    def __init__(self, vocab: MiniOmniVocab = VOCAB):
        self.vocab = vocab
        self.step = 0
        self.text_done = False
        self.end_step: list[int | None] = [None] * vocab.n_layers
        self._pending: list[deque[int]] = [deque() for _ in range(vocab.n_layers)]

    @property
    def audio_done(self) -> bool:
        return self.end_step[-1] is not None

    @property
    def done(self) -> bool:
        return self.text_done and self.audio_done

    def push(self, step: Sequence[int]) -> DecodedOutput:
        v = self.vocab
        if len(step) != v.n_streams:
            raise ValueError(f"step {self.step} must hold {v.n_streams} ids ([A0..A{v.n_layers - 1}, T]), "
                             f"got {len(step)}")
        if self.done:
            raise ValueError(f"step {self.step} arrives after every stream has ended")
        s = self.step
        out = DecodedOutput()
        text_tok = _check_range(f"step {s} text id", step[-1], 0, v.text_size, "a text-block id")
        if self.text_done:
            if text_tok != v.pad_t:
                raise ValueError(f"step {s}: text id must be PAD_T ({v.pad_t}) after EOT, got {text_tok}")
        elif text_tok == v.eot:
            self.text_done = True
        elif text_tok < v.text_vocab:
            out.text.append(text_tok)
        else:
            raise ValueError(f"step {s}: text id must be a text token or EOT before EOT, got special {text_tok}")
        for layer in range(v.n_layers):
            lo = v.text_size + layer * v.audio_size
            tok = _check_range(f"step {s} id of audio layer {layer}", step[layer], lo, lo + v.audio_size,
                               f"an id of audio layer {layer}")
            self._push_audio(layer, tok - lo)
        if self._pending[-1]:
            out.frames.append(tuple(pending.popleft() for pending in self._pending))
        self.step += 1
        return out

    def _push_audio(self, layer: int, code: int) -> None:
        v, s = self.vocab, self.step
        if s <= layer or self.end_step[layer] is not None:
            if code != v.pad_a:
                where = "during its delay" if s <= layer else "after its EOA"
                raise ValueError(f"step {s}: audio layer {layer} must be PAD_A ({v.pad_a}) {where}, got {code}")
            return
        must_end = layer > 0 and self.end_step[layer - 1] == s - 1
        if code == v.eoa:
            if layer > 0 and not must_end:
                raise ValueError(f"step {s}: audio layer {layer} emits EOA but layer {layer - 1} has not ended "
                                 "one step before (layers must hold the same number of frames)")
            self.end_step[layer] = s
        elif must_end:
            raise ValueError(f"step {s}: audio layer {layer} must emit EOA (layer {layer - 1} ended at step "
                             f"{s - 1}), got {code}")
        elif code < v.audio_vocab:
            self._pending[layer].append(code)
        else:
            raise ValueError(f"step {s}: audio layer {layer} must hold a code or EOA, got special {code}")

    def feed(self, steps: Iterable[Sequence[int]]) -> DecodedOutput:
        """Push several steps; return what they completed."""
        out = DecodedOutput()
        for step in steps:
            out.extend(self.push(step))
        return out

    def close(self) -> None:
        """Check that the output ended: text reached ``EOT`` and every audio layer reached ``EOA``."""
        missing = [] if self.text_done else ["text has no EOT"]
        missing += [f"audio layer {i} has no EOA" for i, end in enumerate(self.end_step) if end is None]
        if missing:
            raise ValueError(f"output ended after {self.step} steps before every stream ended: {'; '.join(missing)}")


def output_steps(streams: Sequence[Sequence[int]]) -> list[tuple[int, ...]]:
    """Transpose stream-major ``[A0 .. A6, T]`` rows into the per-step columns a decoder produces."""
    lengths = {len(s) for s in streams}
    if len(lengths) > 1:
        raise ValueError(f"streams must all have the same length, got lengths {[len(s) for s in streams]}")
    return list(zip(*streams, strict=True))


def decode_output(streams: Sequence[Sequence[int]], vocab: MiniOmniVocab = VOCAB) -> DecodedOutput:
    """Inverse of :func:`encode_output`: the text tokens and frames of a complete delayed output."""
    if len(streams) != vocab.n_streams:
        raise ValueError(f"streams must hold {vocab.n_streams} rows ([A0..A{vocab.n_layers - 1}, T]), "
                         f"got {len(streams)}")
    decoder = OutputDecoder(vocab)
    out = decoder.feed(output_steps(streams))
    decoder.close()
    return out


def frames_to_snac(frames: Sequence[Sequence[int]]) -> tuple[list[int], list[int], list[int]]:
    """Split 7-token frames into SNAC's 3 codebooks (coarse, mid, fine) at 1/2/4 codes per frame (§3.2).

    ``coarse[f] = L0``; ``mid[2f] = L1, mid[2f+1] = L4``; ``fine[4f..4f+3] = L2, L3, L5, L6``.
    """
    coarse: list[int] = []
    mid: list[int] = []
    fine: list[int] = []
    for f, frame in enumerate(frames):
        if len(frame) != SNAC_LAYERS:
            raise ValueError(f"frames[{f}] must hold {SNAC_LAYERS} codes, got {len(frame)}")
        for i, code in enumerate(frame):
            _check_int(f"frames[{f}][{i}]", code, 0)
        c0, c1, c2, c3, c4, c5, c6 = frame
        coarse.append(c0)
        mid += [c1, c4]
        fine += [c2, c3, c5, c6]
    return coarse, mid, fine


def snac_to_frames(coarse: Sequence[int], mid: Sequence[int], fine: Sequence[int]) -> list[Frame]:
    """Inverse of :func:`frames_to_snac`: requires ``len(mid) == 2F`` and ``len(fine) == 4F`` for ``F`` frames."""
    n = len(coarse)
    if len(mid) != 2 * n:
        raise ValueError(f"mid must hold 2 codes per coarse code ({2 * n}), got {len(mid)}")
    if len(fine) != 4 * n:
        raise ValueError(f"fine must hold 4 codes per coarse code ({4 * n}), got {len(fine)}")
    for name, codes in (("coarse", coarse), ("mid", mid), ("fine", fine)):
        for j, code in enumerate(codes):
            _check_int(f"{name}[{j}]", code, 0)
    return [
        (coarse[f], mid[2 * f], fine[4 * f], fine[4 * f + 1], mid[2 * f + 1], fine[4 * f + 2], fine[4 * f + 3])
        for f in range(n)
    ]


class FrameChunker:
    """Groups frames into chunks for the codec (Mini-Omni streams 4 frames = 341 ms per chunk).

    :meth:`push` returns a chunk each time ``frames_per_chunk`` frames are collected; :meth:`close`
    returns the partial last chunk (1 to ``frames_per_chunk - 1`` frames) instead of dropping it as the
    public Mini-Omni code does.
    """

    def __init__(self, frames_per_chunk: int = FRAMES_PER_CHUNK):
        self.frames_per_chunk = _check_int("frames_per_chunk", frames_per_chunk, 1)
        self._buffer: list[Frame] = []

    def push(self, frame: Sequence[int]) -> list[list[Frame]]:
        self._buffer.append(tuple(frame))
        if len(self._buffer) < self.frames_per_chunk:
            return []
        chunk, self._buffer = self._buffer, []
        return [chunk]

    def close(self) -> list[list[Frame]]:
        chunk, self._buffer = self._buffer, []
        return [chunk] if chunk else []


def chunk_frames(frames: Iterable[Sequence[int]], frames_per_chunk: int = FRAMES_PER_CHUNK) -> list[list[Frame]]:
    """All chunks of ``frames`` including the partial last one (batch form of :class:`FrameChunker`)."""
    chunker = FrameChunker(frames_per_chunk)
    chunks = [chunk for frame in frames for chunk in chunker.push(frame)]
    return chunks + chunker.close()
