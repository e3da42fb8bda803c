"""The talker stage: the Thinker's spoken text, as it arrives, in -> pcm16 at the wire rate out.

A :class:`Talker` consumes the spoken text pieces of one response and yields :class:`Voiced` pieces: pcm16
audio with the text it voices (attached to the first piece of that text), so the playout can send each
transcript delta just before its audio and cut the history to the words heard. It must stop between pieces
once the response's token is cancelled. The stock one, :class:`TTSTalker`, chunks the text
(:class:`~thinkspeak.serve.chunker.SpeechChunker`: a short first chunk, then clauses) and voices each chunk
with a streaming TTS engine (piper by default, contract §3) in a worker thread, resampled once from the
engine's rate to the wire rate. An audio-token Talker (Mini-Omni-Reasoner §3) registers itself in
:data:`TALKERS` and takes the same text.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Protocol

from thinkspeak.audio import float_to_pcm16
from thinkspeak.serve.audio import Resampler
from thinkspeak.serve.cancel import CancelToken
from thinkspeak.serve.chunker import SpeechChunker
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
