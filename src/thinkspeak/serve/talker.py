"""The talker stage: the Thinker's spoken text, as it arrives, in -> pcm16 at the wire rate out.

A :class:`Talker` consumes the spoken text pieces of one response and yields :class:`Voiced` pieces: pcm16
audio with the text it voices (attached to the first piece of that text), so the playout can send each
transcript delta just before its audio and cut the history to the words heard. It must stop between pieces
once the response's token is cancelled. The stock one, :class:`TTSTalker`, chunks the text
(:class:`SpeechChunker`: a short first chunk, then clauses) and voices each chunk with a streaming TTS engine
(piper by default, contract §3) in a worker thread, resampled once from the engine's rate to the wire rate. An audio-token Talker (Mini-Omni-Reasoner §3) registers itself in
:data:`TALKERS` and takes the same text.
"""

from __future__ import annotations

import asyncio
import queue
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from thinkspeak.audio import float_to_pcm16
from thinkspeak.serve.audio import Resampler
from thinkspeak.serve.cancel import CancelToken
from thinkspeak.serve.registry import Registry
from thinkspeak.serve.threads import iterate_in_thread
from thinkspeak.speech.tts import TTS


@dataclass(frozen=True)
class Voiced:
    """pcm16 audio at the wire rate; ``text`` is what it starts to voice (None: more of the previous text)."""

    text: str | None
    pcm16: bytes


class Talker(Protocol):
    """Voices a response's spoken text as it arrives."""

    name: str

    def speak(self, text: AsyncIterator[str], rate: int, token: CancelToken) -> AsyncIterator[Voiced]: ...

    def warmup(self) -> None: ...


_WORD = re.compile(r"\S+(?=\s)")
_CLAUSE_END = re.compile(r"[.!?;:,]$")


@dataclass
class SpeechChunker:
    """Cut the Thinker's spoken-token stream into TTS chunks: :meth:`push` text pieces, get finished chunks;
    :meth:`flush` the tail at the end.

    The first chunk is flushed as soon as ``first_words`` whole words exist (or a clause ends earlier), so
    speech starts while the answer is still being decoded; later chunks end at clause/sentence punctuation
    once they hold ``min_words``, or at ``max_words``. A word is whole once whitespace follows it, so a chunk
    never splits a word the tokenizer delivers in pieces. Joining the chunks with single spaces gives back the
    whitespace-normalised text (property-tested)."""

    first_words: int = 3
    min_words: int = 4
    max_words: int = 16
    _buffer: str = field(default="", init=False)
    _emitted: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if not 1 <= self.first_words <= self.max_words or not 1 <= self.min_words <= self.max_words:
            raise ValueError(
                f"need 1 <= first_words, min_words <= max_words, got first_words={self.first_words}, "
                f"min_words={self.min_words}, max_words={self.max_words}"
            )

    def push(self, text: str) -> list[str]:
        """Add decoded text; return the chunks that are now complete (possibly none)."""
        self._buffer += text
        chunks = []
        while (cut := self._cut()) is not None:
            chunk, self._buffer = self._buffer[:cut].strip(), self._buffer[cut:]
            chunks.append(chunk)
            self._emitted += 1
        return chunks

    def flush(self) -> list[str]:
        """Return what is left as a final chunk (empty list when nothing is left) and reset."""
        rest, self._buffer, self._emitted = self._buffer.strip(), "", 0
        return [rest] if rest else []

    def _cut(self) -> int | None:
        words = list(_WORD.finditer(self._buffer))
        wanted = self.first_words if self._emitted == 0 else self.min_words
        for n, word in enumerate(words, start=1):
            if _CLAUSE_END.search(word.group()) and (n >= wanted or self._emitted == 0):
                return word.end()
            if n >= (self.first_words if self._emitted == 0 else self.max_words):
                return word.end()
        return None


class TTSTalker:
    """Chunk the text, voice each chunk with ``tts``."""

    name = "tts"

    def __init__(self, tts: TTS, *, first_words: int = 3) -> None:
        self.tts = tts
        self.first_words = first_words

    async def speak(self, text: AsyncIterator[str], rate: int, token: CancelToken) -> AsyncIterator[Voiced]:
        chunker = SpeechChunker(first_words=self.first_words)
        async for piece in text:
            for chunk in chunker.push(piece):
                async for voiced in self._voice(chunk, rate, token):
                    yield voiced
        for chunk in chunker.flush():
            async for voiced in self._voice(chunk, rate, token):
                yield voiced

    def _voice(self, chunk: str, rate: int, token: CancelToken) -> AsyncIterator[Voiced]:
        """``chunk`` voiced in its own thread (engine work never waits for the event loop's pool)."""
        def render() -> Iterator[Voiced]:
            speech = self.tts.render(chunk)
            yield Voiced(chunk, float_to_pcm16(Resampler(speech.sample_rate, rate).push(speech.pcm, last=True)))

        return iterate_in_thread(render, token, maxsize=1, name="thinkspeak-tts")

    def warmup(self) -> None:
        self.tts.render("Hello.")


#: talkers by name: ``factory(spec: str, first_words: int) -> Talker``
TALKERS: Registry = Registry("talkers")


@TALKERS.register("tts")
def tts_talker(spec: str = "piper", first_words: int = 3) -> TTSTalker:
    """A :class:`TTSTalker` with the engine ``spec`` names (``thinkspeak.speech.tts.get_tts``)."""
    from thinkspeak.speech.tts import get_tts

    return TTSTalker(get_tts(spec), first_words=first_words)


class TokenTalkerStage:
    """The audio-token Talker (:class:`thinkspeak.decode.talker.TokenTalker`, Mini-Omni-Reasoner §3's Talker
    with Moshi's word-aligned text slot) as a talker stage: every spoken piece goes to one Talker session as
    it arrives, so audio starts after the first word, not after a chunk. It runs in its own thread; each PCM
    piece carries the words pushed since the previous piece (the Talker times words itself, so the
    transcript of a piece is an estimate within a few frames). Stops between frames once ``token`` is
    cancelled."""

    name = "tokens"

    def __init__(self, talker) -> None:
        self.talker = talker

    async def speak(self, text: AsyncIterator[str], rate: int, token: CancelToken) -> AsyncIterator[Voiced]:
        pieces: queue.Queue[str | None] = queue.Queue()

        async def feed() -> None:
            try:
                async for piece in text:
                    pieces.put(piece)
            finally:
                pieces.put(None)

        feeder = asyncio.create_task(feed())
        try:
            async for voiced in iterate_in_thread(lambda: self._frames(pieces, rate, token), token, maxsize=4,
                                                  name="thinkspeak-talker"):
                yield voiced
        finally:
            feeder.cancel()

    def _frames(self, pieces: queue.Queue, rate: int, token: CancelToken) -> Iterator[Voiced]:
        session = self.talker.session(out_rate=rate)
        pending, ended = "", False
        while not token.cancelled:
            waiting = not ended and not session.has_text
            while True:  # take the text that has arrived (wait a little when the Talker has none)
                try:
                    piece = pieces.get(timeout=0.05) if waiting else pieces.get_nowait()
                except queue.Empty:
                    break
                waiting = False
                if piece is None:
                    session.end_text()
                    ended = True
                    break
                session.push_text(piece)
                pending += piece
            pcm = session.step()
            if pcm is None:
                if session.finished or session.cancelled or (ended and not session.has_text):
                    return
                continue
            if pcm.size:
                yield Voiced(" ".join(pending.split()) or None, float_to_pcm16(pcm))
                pending = ""
        session.cancel()

    def warmup(self) -> None:
        self.talker.speak("Hello.")


@TALKERS.register("tokens")
def token_talker(spec: str = "", first_words: int = 3) -> TokenTalkerStage:
    """The shipped audio-token Talker (``assets/talker-default``, Codec2); ``spec`` and ``first_words`` are the
    TTS talker's options and do not apply (it takes the text word by word)."""
    from thinkspeak.decode.talker import TokenTalker

    return TokenTalkerStage(TokenTalker.load())
