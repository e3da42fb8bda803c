"""Streaming token-Talker decoding: spoken text in as the Thinker emits it, PCM out frame by frame (issue 11).

A :class:`TalkerSession` keeps the Talker's KV cache, a queue of the words it has been given and a
streaming codec decoder. Each :meth:`TalkerSession.step` is one forward pass (one model step =
``frames_per_step`` codec frames): it chooses the next text slot (``moshi`` alignment: PAD to wait, EPAD to
start the next queued word, then that word's characters; Moshi §3.4.4's inner monologue with the timing left
to the model) and samples every audio stream, and returns the PCM of the frame that the delays have just
completed. Audio therefore starts ``max(delays)`` forward passes after the first word arrives, not after a
sentence; :meth:`cancel` stops it before the next frame; an utterance ends when the first audio stream
emits EOA after the text's end (EOT) was consumed, and the delayed streams are then run out (flushed).

When the queue is empty but the text is not finished, the session keeps stepping only while the audio of
the words already consumed is still being completed (``max(delays) + 1`` steps), then waits
(:meth:`step` returns None) for more text, so a slow Thinker yields a pause, not babble.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import torch

from thinkspeak.codecs.base import Codec
from thinkspeak.model.talker import EOT, EPAD, PAD, SPACE, Talker, encode_word
from thinkspeak.text.speakable import speakable_words


@dataclass(frozen=True)
class TalkerOptions:
    """Sampling of the audio streams: ``temperature`` 0 is greedy (the default: for the shipped Talker, which
    does not read its own codes back, sampling only adds noise -- the first shipped Talker's WER 33.7% greedy vs 51.5% at 0.7, docs/results.md);
    ``max_seconds`` bounds one utterance.

    Two guards bound what the Talker decides itself (``moshi``): a pause with words queued lasts at most
    ``max_pause_s`` (then the next word starts), and the audio ends at most ``max_tail_s`` after the text's
    end was consumed. In the training data the longest pause is 0.88 s and the longest end 0.68 s; without the
    guards an undertrained Talker that misses its one EOA step babbles on to ``max_seconds``."""

    temperature: float = 0.0
    top_k: int = 8
    seed: int = 0
    max_seconds: float = 60.0
    max_pause_s: float = 1.0
    max_tail_s: float = 1.0

    def __post_init__(self) -> None:
        if not 0 <= self.temperature <= 5:
            raise ValueError(f"temperature must be in [0, 5], got {self.temperature!r}")
        if self.top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {self.top_k!r}")
        for name in ("max_seconds", "max_pause_s", "max_tail_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")


class TalkerSession:
    """One utterance stream of a Talker: ``push_text`` / ``end_text`` in, ``step`` (or ``stream``) PCM out."""

    def __init__(self, talker: Talker, codec: Codec, out_rate: int | None = None,
                 options: TalkerOptions | None = None) -> None:
        c = talker.config
        if tuple(codec.codebook_sizes) != c.codebook_sizes:
            raise ValueError(f"codec {codec.info.name} has codebooks {codec.codebook_sizes}, the Talker was trained "
                             f"for {c.codebook_sizes} ({c.codec})")
        self.talker, self.codec, self.config = talker.eval(), codec, c
        self.options = options or TalkerOptions()
        self.out_rate = out_rate or codec.sample_rate
        self._decoder = codec.stream_decoder(self.out_rate)
        self._rng = np.random.default_rng(self.options.seed)
        self._depth = None if talker.depth is None else talker.fast_depth()
        sizes = np.array(c.stream_sizes)
        self._delays = np.array(c.stream_delays)
        self._max_delay = int(self._delays.max())
        self._s0 = int(np.argmin(self._delays))  # the first stream to end: its EOA ends the utterance
        self._pad_a, self._eoa = sizes - 2, sizes - 1
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        cols = offsets[:, None] + np.arange(int(sizes.max()))[None]
        self._cols = np.minimum(cols, sizes.sum() - 1)  # stream j's vocabulary at the start of row j
        self._cache = talker.new_cache()
        self._t = 0
        self._words: deque[list[int]] = deque()
        self._partial = ""
        self._ended = False
        self._eot_fed = False
        self._current: list[int] = []  # rest of the word being fed (moshi) / of the text (miniomni)
        self._text_in = PAD
        self._audio_in = self._pad_a.copy()
        self._frames: dict[int, np.ndarray] = {}
        self._end_step: int | None = None  # frame-step index at which audio ends (EOA)
        self._idle = 0
        self._pause = 0  # PAD steps chosen in a row while a word was queued
        self._eot_step: int | None = None
        self._started = False
        self.cancelled = False
        self.finished = False
        self.steps = 0

    # -- text in ---------------------------------------------------------------------------------------
    def push_text(self, text: str) -> None:
        """Add text as it arrives (a chunk may end inside a word: the word waits for its end)."""
        if self._ended:
            raise ValueError("push_text after end_text: start a new TalkerSession for a new utterance")
        text = self._partial + text
        cut = max(text.rfind(" "), text.rfind("\n"))
        self._partial = text[cut + 1:] if cut >= 0 else text
        for word in speakable_words(text[:cut + 1] if cut >= 0 else ""):
            self._words.append(encode_word(word, self.config.charset))

    def end_text(self) -> None:
        """No more text: the last partial word is queued and the Talker may finish."""
        if not self._ended:
            for word in speakable_words(self._partial):
                self._words.append(encode_word(word, self.config.charset))
            self._partial = ""
            self._ended = True

    def cancel(self) -> None:
        """Stop: the next :meth:`step` returns None and produces nothing more."""
        self.cancelled = True

    @property
    def has_text(self) -> bool:
        return bool(self._words or self._current or (self._ended and not self._eot_fed))

    # -- decoding --------------------------------------------------------------------------------------
    def _next_text(self, logits: torch.Tensor) -> int | None:
        """The next text slot, or None when the session must wait for text."""
        if self.config.alignment == "miniomni":  # the text as it comes, one token a step, then EOT, PAD
            if not self._current and self._words:
                self._current = ([SPACE] if self._started else []) + self._words.popleft()
                self._started = True
            if self._current:
                return self._current.pop(0)
            if self._ended and not self._eot_fed:
                self._eot_fed = True
                return EOT
            return PAD if self._ended else None
        if self._current:
            return self._current.pop(0)
        if self._text_in == EPAD:  # EPAD promised the next word
            word = self._next_word()
            self._current = word[1:]
            return word[0]
        if not self.has_text:
            return PAD if (self._ended or self._idle < self._max_delay + 1) else None
        # the model decides: wait (PAD), announce the word (EPAD), or start it at once
        word_start = self._words[0][0] if self._words else EOT
        choice = int(torch.stack([logits[PAD], logits[EPAD], logits[word_start]]).argmax())
        self._pause = self._pause + 1 if choice == 0 else 0
        if self._pause > self.options.max_pause_s * self.config.step_rate:
            choice, self._pause = 1, 0
        if choice == 2:
            word = self._next_word()
            self._current = word[1:]
            return word[0]
        return (PAD, EPAD)[choice]

    def _next_word(self) -> list[int]:
        if self._words:
            return self._words.popleft()
        self._eot_fed = True
        return [EOT]

    def _sample(self, scores: np.ndarray) -> int:
        """One code from the ``scores`` of one stream's codes (top-k, temperature; 0 is greedy)."""
        o = self.options
        if o.temperature == 0 or scores.size == 1:
            return int(scores.argmax())
        k = min(o.top_k, scores.size)
        top = np.argpartition(scores, -k)[-k:]
        p = np.exp((scores[top] - scores[top].max()) / o.temperature).cumsum()
        return int(top[min(int(np.searchsorted(p, self._rng.random() * p[-1])), k - 1)])

    def _check_end(self, row: np.ndarray, frame_step: int) -> None:
        """After EOT: the utterance ends at ``frame_step`` when the first stream's EOA beats every code."""
        s0 = self._s0
        if self._eot_fed and self._end_step is None and row[self._eoa[s0]] >= row[:self._pad_a[s0]].max():
            self._end_step = frame_step

    def _layout(self, codes: np.ndarray, frame_step: np.ndarray, streams=slice(None)) -> np.ndarray:
        """The inputs training gives (``build_streams``) to ``streams``: PAD_A before a stream's delay, EOA at
        the end step, PAD_A after it; the sampled codes elsewhere."""
        pad_a = self._pad_a[streams]
        codes = np.where(frame_step >= 0, codes, pad_a)
        if self._end_step is not None:
            codes = np.where(frame_step == self._end_step, self._eoa[streams], codes)
            codes = np.where(frame_step > self._end_step, pad_a, codes)
        return codes

    def _audio(self, h: torch.Tensor, frame_step: np.ndarray) -> np.ndarray:
        """The step's codes: with parallel heads (Mini-Omni §3.3) every stream from the step's state; with the
        depth MLP stream ``j`` given the codes chosen for streams ``0..j-1`` of this step."""
        codes = self._pad_a.copy()
        if self._depth is None:
            rows = self.talker.audio_head(h).numpy()[self._cols]
        else:
            g = self._depth.start(h)
        for j in range(len(codes)):
            row = rows[j] if self._depth is None else self._depth.logits(g, j)
            if j == self._s0:
                self._check_end(row, int(frame_step[j]))
            one = slice(j, j + 1)
            codes[one] = self._layout(np.array([self._sample(row[:self._pad_a[j]])]), frame_step[one], one)
            if self._depth is not None and j + 1 < len(codes):
                g = self._depth.push(g, j, int(codes[j]))
        return codes

    @torch.no_grad()
    def step(self) -> np.ndarray | None:
        """One forward pass; PCM (float32 at ``out_rate``, maybe empty) or None when finished, cancelled
        or waiting for text (check :attr:`finished` / :attr:`cancelled`)."""
        if self.cancelled or self.finished:
            return None
        if self._t == 0:  # the first slot is not predicted: announce the first word once there is one
            if not self.has_text:
                return None
            self._text_in = EPAD if self.config.alignment == "moshi" else self._next_text(torch.zeros(0))
        text = torch.tensor([[self._text_in]])
        audio = torch.from_numpy(self._audio_in.astype(np.int64))[None, None]
        h = self.talker.hidden(text, audio, cache=self._cache, start=self._t)[0, -1]
        nxt = self._next_text(self.talker.text_head(h))
        if nxt is None:  # wait for text: the cache keeps this step's input, so roll the step back
            for layer in self._cache:
                layer[:] = [x[:, :, :-1] for x in layer] if layer else layer
            return None
        self._idle = self._idle + 1 if nxt == PAD and not self.has_text else 0
        t1 = self._t + 1
        frame_step = t1 - self._delays  # the frame-step each stream's new token belongs to
        codes = self._audio(h, frame_step)
        if self._eot_fed and self._eot_step is None and self.config.alignment == "moshi":  # text leads in miniomni
            self._eot_step = t1
        tail = self._eot_step is not None and t1 - self._eot_step > self.options.max_tail_s * self.config.step_rate
        if (tail or t1 / self.config.step_rate > self.options.max_seconds) and self._end_step is None:
            self._end_step = int(frame_step.max())
            codes = self._layout(codes, frame_step)
        self._text_in, self._audio_in, self._t = nxt, codes, t1
        self.steps += 1
        done = t1 - self._max_delay  # frame-step completed by this step
        for s, f in enumerate(frame_step):
            if f >= 0 and (self._end_step is None or f < self._end_step):
                self._frames.setdefault(int(f), self._pad_a.copy())[s] = codes[s]
        pcm = np.zeros(0, dtype=np.float32)
        if done >= 0 and (self._end_step is None or done < self._end_step):
            k = len(self.config.codebook_sizes)
            pcm = self._decoder.push(self._frames.pop(done).reshape(self.config.frames_per_step, k))
        if self._end_step is not None and done >= self._end_step - 1:
            self.finished = True
            pcm = np.concatenate([pcm, self._decoder.flush()])
        return pcm

    def stream(self):
        """Yield PCM chunks until finished, cancelled or out of text (call :meth:`end_text` first to finish)."""
        while True:
            pcm = self.step()
            if pcm is None:
                return
            if pcm.size:
                yield pcm


def speak(talker: Talker, codec: Codec, text: str, out_rate: int | None = None,
          options: TalkerOptions | None = None) -> np.ndarray:
    """The whole utterance of ``text`` (empty text -> empty audio)."""
    session = TalkerSession(talker, codec, out_rate, options)
    session.push_text(text)
    session.end_text()
    if not session.has_text or not session._words:
        return np.zeros(0, dtype=np.float32)
    chunks = list(session.stream())
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)


DEFAULT_TALKER = "talker-default"


def default_talker_path():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "assets" / DEFAULT_TALKER


class TokenTalker:
    """What a server or CLI holds: one loaded Talker + codec; :meth:`session` opens an utterance stream
    (text chunks in as they arrive via ``push_text``/``end_text``, PCM chunks out at ``out_rate``,
    ``cancel()``). Sessions share the weights and are independent; one session is not thread-safe."""

    def __init__(self, talker: Talker, codec: Codec, options: TalkerOptions | None = None) -> None:
        self.talker, self.codec, self.options = talker, codec, options or TalkerOptions()

    @classmethod
    def load(cls, path: str | None = None, codec: str | None = None, options: TalkerOptions | None = None
             ) -> TokenTalker:
        """A Talker folder (default: the shipped ``talker-default``) and its codec (default: the Talker's)."""
        from thinkspeak.codecs import get_codec

        folder = path or default_talker_path()
        talker = Talker.load(folder)
        return cls(talker, get_codec(codec or talker.config.codec), options)

    def session(self, out_rate: int | None = None, seed: int | None = None) -> TalkerSession:
        options = self.options if seed is None else TalkerOptions(**{**self.options.__dict__, "seed": seed})
        return TalkerSession(self.talker, self.codec, out_rate, options)

    def speak(self, text: str, out_rate: int | None = None) -> np.ndarray:
        return speak(self.talker, self.codec, text, out_rate, self.options)
