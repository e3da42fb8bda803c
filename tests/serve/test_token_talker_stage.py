"""The audio-token Talker as the server's talker stage (``serve --talker tokens``): text pieces in as the
Thinker emits them, pcm16 at the wire rate out, audio from the first word on, stopped by cancellation."""

import asyncio

from thinkspeak.serve.cancel import Generation
from thinkspeak.serve.talker import TALKERS, TokenTalkerStage

RATE = 24000


async def pieces(words, gate: asyncio.Event | None = None, after: int = 10**9):
    for i, word in enumerate(words):
        if i == after and gate is not None:
            await gate.wait()
        yield word
        await asyncio.sleep(0)


def test_tokens_talker_voices_text_as_it_arrives():
    stage = TALKERS.create("tokens")
    assert isinstance(stage, TokenTalkerStage)
    token = Generation().begin()

    async def run():
        return [v async for v in stage.speak(pieces(["The ", "answer ", "is ", "twelve."]), RATE, token)]

    voiced = asyncio.run(run())
    audio = b"".join(v.pcm16 for v in voiced)
    assert len(audio) % 2 == 0 and len(audio) > RATE * 2 * 0.3  # at least 0.3 s of speech at the wire rate
    said = " ".join(v.text for v in voiced if v.text)
    assert said.split() == ["The", "answer", "is", "twelve."]


def test_audio_starts_before_the_text_ends_and_cancel_stops_it():
    stage = TALKERS.create("tokens")
    generation = Generation()
    token = generation.begin()
    gate = asyncio.Event()

    async def run():
        got = []
        async for voiced in stage.speak(pieces(["Well, ", "let ", "me ", "think."], gate, after=2), RATE, token):
            got.append(voiced)
            if len(got) == 3:  # audio before the rest of the text was even sent
                generation.begin()  # barge-in: this response's token is cancelled
                gate.set()
        return got

    got = asyncio.run(asyncio.wait_for(run(), 120))  # liveness bound only
    assert len(got) == 3
    assert all("think" not in (v.text or "") for v in got)
