"""The browser page in headless Debian Chromium: a fake microphone (a WAV file) asks a question, audio comes back.

Driven with playwright-python against the system Chromium (``executable_path``; no browser download).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from serve_helpers import WIRE_RATE, CalcCallingThinker, silence, start_server

from parts import missing, require_module
from thinkspeak.serve.engines import Engines

CHROMIUM = "/usr/bin/chromium"

pytestmark = pytest.mark.browser


def chromium_args(wav: Path) -> list[str]:
    return [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream", f"--use-file-for-fake-audio-capture={wav}%noloop",
        "--autoplay-policy=no-user-gesture-required", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage",
    ]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        missing(f"Debian chromium not installed at {CHROMIUM} (apt-get install chromium; make sysdeps)")
    require_module("playwright", "dev")
    from playwright import sync_api
    with sync_api.sync_playwright() as pw:
        yield pw


def test_page_asks_by_microphone_and_plays_the_answer(server, say, browser):
    workdir = Path(tempfile.mkdtemp(prefix="thinkspeak-browser-"))
    try:
        wav = workdir / "question.wav"
        speech = np.concatenate([silence(1.0), say("What is six times seven?"), silence(6.0)])
        sf.write(wav, speech, WIRE_RATE, subtype="PCM_16")
        chromium = browser.chromium.launch(executable_path=CHROMIUM, args=chromium_args(wav),
                                           env={**os.environ, "HOME": str(workdir)})
        context = chromium.new_context(viewport={"width": 1200, "height": 860})
        page = context.new_page()
        page.goto(server.http + "/")
        page.click("#talk")
        page.wait_for_function("window.thinkspeak.stats.audioDeltas > 0", timeout=60_000)
        page.wait_for_function("window.thinkspeak.stats.turns > 0", timeout=60_000)
        page.wait_for_selector("#latency tbody tr", timeout=10_000)
        stats = page.evaluate("window.thinkspeak.stats")
        user = page.inner_text("#transcript li.user")
        assistant = page.inner_text("#transcript li.assistant")
        reasoning = page.inner_text("#reasoning")
        latency_cells = page.locator("#latency tbody tr").first.locator("td").all_inner_texts()
        # the end-of-turn selector shows the server's default and switches the live session
        default_turn = page.input_value("#turn")
        page.select_option("#turn", "semantic_vad")
        page.wait_for_function("window.thinkspeak.stats.turnDetection === 'semantic_vad'", timeout=10_000)
        shot = os.environ.get("THINKSPEAK_SCREENSHOT")
        if shot:
            page.screenshot(path=shot, full_page=True)
        chromium.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    assert stats["connected"] and stats["audioBytes"] > WIRE_RATE * 2  # more than a second of answer audio
    assert stats["errors"] == []
    assert "7" in user or "seven" in user.lower()
    assert "The answer is 42" in assistant
    assert "The user asked" in reasoning
    assert latency_cells[4].isdigit()  # first audio (server side), ms
    assert default_turn == "server_vad"


def test_page_in_duplex_mode_shows_who_holds_the_floor(server, say, browser):
    """The end-of-turn selector's duplex choice: the full-duplex model takes the floor after the spoken question,
    the page says so, and the answer plays."""
    workdir = Path(tempfile.mkdtemp(prefix="thinkspeak-browser-"))
    try:
        wav = workdir / "question.wav"
        sf.write(wav, np.concatenate([silence(3.0), say("What is six times seven?"), silence(6.0)]), WIRE_RATE,
                 subtype="PCM_16")
        chromium = browser.chromium.launch(executable_path=CHROMIUM, args=chromium_args(wav),
                                           env={**os.environ, "HOME": str(workdir)})
        page = chromium.new_context(viewport={"width": 1200, "height": 860}).new_page()
        page.goto(server.http + "/")
        page.click("#talk")
        page.wait_for_function("window.thinkspeak.stats.turnDetection !== null", timeout=30_000)
        page.select_option("#turn", "duplex")
        page.wait_for_function("window.thinkspeak.stats.turnDetection === 'duplex'", timeout=60_000)
        page.wait_for_function("window.thinkspeak.stats.floor.includes('assistant')", timeout=60_000)
        floor_text = page.inner_text("#floor")
        page.wait_for_function("window.thinkspeak.stats.turns > 0", timeout=60_000)
        stats = page.evaluate("window.thinkspeak.stats")
        chromium.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    assert floor_text == "the model holds the floor"
    assert stats["errors"] == [] and stats["audioDeltas"] > 0 and stats["speechStarted"] >= 1


def test_page_takes_a_typed_question_and_draws_tool_calls_and_the_interleave(speech_engines, browser):
    """No microphone: the question is typed into the box. The Thinker's calc call shows in the reasoning panel
    with its result, and the answer's timeline holds its say, think and tool segments in the order written."""
    make_vad, asr, _ = speech_engines
    running = start_server(Engines(thinker=CalcCallingThinker(), make_vad=make_vad, asr=asr))
    workdir = Path(tempfile.mkdtemp(prefix="thinkspeak-browser-"))
    try:
        chromium = browser.chromium.launch(executable_path=CHROMIUM, args=chromium_args(workdir / "none.wav"),
                                           env={**os.environ, "HOME": str(workdir)})
        page = chromium.new_context().new_page()
        page.goto(running.http + "/")
        page.fill("#question", "What is 23 plus 19?")
        page.press("#question", "Enter")
        page.wait_for_function("window.thinkspeak.stats.turns > 0", timeout=60_000)
        stats = page.evaluate("window.thinkspeak.stats")
        user = page.inner_text("#transcript li.user .text")
        assistant = page.inner_text("#transcript li.assistant .text")
        tools = page.locator("#reasoning .tool").all_inner_texts()
        segments = page.locator("#timelines .strip span").evaluate_all("spans => spans.map(s => s.className)")
        box_after = page.input_value("#question")
        chromium.close()
    finally:
        running.server.should_exit = True
        shutil.rmtree(workdir, ignore_errors=True)
    assert stats["errors"] == [] and stats["micFrames"] == 0
    assert user == "What is 23 plus 19?" and "It is 42." in assistant and box_after == ""
    assert stats["toolCalls"] == [{"name": "calc", "arguments": "23 + 19"}]
    assert tools == ["calc(23 + 19)", "→ 42"]
    (runs,) = stats["timelines"].values()
    assert [kind for kind, _ in runs] == segments == ["say", "think", "tool", "say"]
    assert [n for _, n in runs] == [len("Let me see. "), len("23 plus 19"), 7, len("It is 42.")]
