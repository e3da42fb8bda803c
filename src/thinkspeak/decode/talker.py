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
    """Sampling of the audio streams: ``temperature`` 0 is greedy; ``max_seconds`` bounds one utterance."""

    temperature: float = 0.7
    top_k: int = 8
    seed: int = 0
    max_seconds: float = 60.0

    def __post_init__(self) -> None:
        if not 0 <= self.temperature <= 5:
            raise ValueError(f"temperature must be in [0, 5], got {self.temperature!r}")
        if self.top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {self.top_k!r}")
        if not self.max_seconds > 0:
            raise ValueError(f"max_seconds must be > 0, got {self.max_seconds!r}")


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
        self._gen = torch.Generator().manual_seed(self.options.seed)
        sizes = np.array(c.stream_sizes)
        self._delays = np.array(c.stream_delays)
        self._max_delay = int(self._delays.max())
        self._pad_a, self._eoa = sizes - 2, sizes - 1
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        width = int(sizes.max())
        cols = offsets[:, None] + np.arange(width)[None]
        self._cols = torch.from_numpy(np.minimum(cols, sizes.sum() - 1))
        self._valid = torch.from_numpy(np.arange(width)[None] < (sizes - 2)[:, None])  # codes only
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

    def _sample(self, logits: torch.Tensor) -> np.ndarray:
        scores = logits[self._cols].masked_fill(~self._valid, float("-inf"))
        o = self.options
        if o.temperature == 0:
            return scores.argmax(-1).numpy()
        top, idx = scores.topk(min(o.top_k, scores.shape[-1]), dim=-1)
        probs = torch.softmax(top / o.temperature, dim=-1).nan_to_num(0.0)
        pick = torch.multinomial(probs, 1, generator=self._gen).squeeze(-1)
        return idx.gather(-1, pick[:, None]).squeeze(-1).numpy()

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
        text_logits, audio_logits = self.talker(text, audio, cache=self._cache, start=self._t)
        nxt = self._next_text(text_logits[0, -1])
        if nxt is None:  # wait for text: the cache keeps this step's input, so roll the step back
            for layer in self._cache:
                layer[:] = [x[:, :, :-1] for x in layer] if layer else layer
            return None
        self._idle = self._idle + 1 if nxt == PAD and not self.has_text else 0
        sampled = self._sample(audio_logits[0, -1])
        t1 = self._t + 1
        frame_step = t1 - self._delays  # the frame-step each stream's new token belongs to
        codes = np.where(frame_step >= 0, sampled, self._pad_a)
        if self._eot_fed and self._end_step is None:
            s0 = int(np.argmin(self._delays))
            row = audio_logits[0, -1, self._cols[s0]]
            if float(row[self._eoa[s0]]) >= float(row[: self._pad_a[s0]].max()):
                self._end_step = int(frame_step[s0])
        if self._end_step is not None:
            over = frame_step >= self._end_step
            codes = np.where(over, self._eoa, codes)
        too_long = t1 / self.config.step_rate > self.options.max_seconds
        if too_long and self._end_step is None:
            self._end_step = int(frame_step.max())
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
