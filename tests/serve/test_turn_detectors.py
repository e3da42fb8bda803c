"""Turn detectors and turn models in the server: choosing them by name (CLI, session.update), the barge-in
verdict of a detector that tells backchannels, and the fallback to server_vad when a detector fails."""

from __future__ import annotations

import argparse
import asyncio
import logging

import numpy as np
import pytest

from thinkspeak.serve import detectors as D
from thinkspeak.serve import frames as F
from thinkspeak.serve.config import SessionConfig, TurnDetection
from thinkspeak.serve.protocol import ProtocolError
from thinkspeak.serve.turns import TurnMachine, TurnState
from thinkspeak.speech.endpoint import EAGERNESS
from thinkspeak.speech.turn import TurnModelUnavailable

AUDIO = np.zeros(1600, np.float32)


class Scripted:
    """An end-of-turn model that answers from a script (the machine and the session are under test here)."""

    name = "scripted"
    tells_backchannels = True

    def __init__(self, p: float = 0.9, backchannel: float = 0.1, fail: bool = False) -> None:
        self.p, self.b, self.fail = p, backchannel, fail

    def probability(self, audio):
        if self.fail:
            raise RuntimeError("model broke")
        return self.p

    def backchannel(self, audio):
        if self.fail:
            raise RuntimeError("model broke")
        return self.b


def pause(end_ms: int) -> F.SpeechPauseFrame:
    return F.SpeechPauseFrame(end_ms + 96, end_ms, AUDIO)


def kinds(actions) -> list[type]:
    return [type(a) for a in actions]


def test_the_turn_models_are_registered_and_unknown_names_list_the_choices():
    assert {"rule", "smart-turn", "learned", "duplex", "learned+rule", "smart-turn+rule"} <= set(D.TURN_MODELS.names())
    with pytest.raises(ValueError, match=r"unknown turn_models 'smart_turn'; expected one of \['duplex', 'learned', "
                                         r"'learned\+rule', 'rule', 'smart-turn'"):
        D.TURN_MODELS.get("smart_turn")


def test_session_update_chooses_a_turn_model_and_reports_it():
    td = SessionConfig().updated({"audio": {"input": {"turn_detection": {
        "type": "semantic_vad", "turn_model": "smart-turn", "eagerness": "high"}}}}).turn_detection
    assert td.turn_model == "smart-turn" and isinstance(td.detector, D.ModelDecides)
    assert td.to_wire()["turn_model"] == "smart-turn" and td.max_silence_ms == EAGERNESS["high"].max_ms
    kept = SessionConfig(turn_detection=td).updated({"audio": {"input": {"turn_detection": {
        "type": "semantic_vad", "eagerness": "low"}}}}).turn_detection
    assert kept.turn_model == "smart-turn" and kept.eagerness == "low"


@pytest.mark.parametrize(("detection", "param", "message"), [
    ({"type": "semantic_vad", "turn_model": "pipecat"}, "turn_detection.turn_model", "must be one of"),
    ({"type": "server_vad", "turn_model": "learned"}, "turn_detection.turn_model", "semantic_vad only"),
])
def test_session_update_rejects_bad_turn_models(detection, param, message):
    with pytest.raises(ProtocolError) as caught:
        SessionConfig().updated({"audio": {"input": {"turn_detection": detection}}}, "ev1")
    assert caught.value.param.endswith(param) and message in caught.value.message


def test_a_turn_model_that_is_not_installed_is_an_actionable_protocol_error(monkeypatch):
    def missing(td):
        raise TurnModelUnavailable("needs pipecat-ai: pip install --no-deps pipecat-ai==1.14.0")

    monkeypatch.setitem(D.TURN_MODELS._factories, "missing", missing)
    with pytest.raises(ProtocolError, match="pip install --no-deps pipecat-ai==1.14.0"):
        SessionConfig().updated({"audio": {"input": {"turn_detection": {"type": "semantic_vad",
                                                                         "turn_model": "missing"}}}})


def cli_args(**kw) -> argparse.Namespace:
    return argparse.Namespace(**{"turn_detection": None, "turn_model": None, "silence_ms": None,
                                 "eagerness": "auto", **kw})


def test_cli_turn_model_implies_semantic_vad_and_bad_combinations_are_clear_errors():
    from thinkspeak.commands.serve import turn_detection

    td = turn_detection(cli_args(turn_model="rule", eagerness="high"))
    assert (td.type, td.turn_model, td.eagerness) == ("semantic_vad", "rule", "high")
    assert turn_detection(cli_args()).type == "server_vad"
    with pytest.raises(ValueError, match=r"unknown turn_models 'nope'; expected one of \['duplex', 'learned', "
                                         r"'learned\+rule', 'rule'"):
        turn_detection(cli_args(turn_model="nope"))
    with pytest.raises(ValueError, match="--turn-model learned needs --turn-detection semantic_vad"):
        turn_detection(cli_args(turn_detection="server_vad", turn_model="learned"))


def test_a_missing_pipecat_wheel_says_how_to_install_it(monkeypatch):
    from thinkspeak.speech.turn import smart_turn

    monkeypatch.setattr(smart_turn.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(TurnModelUnavailable, match=r"pipecat-ai is not installed.*pip install --no-deps "
                                                   r"pipecat-ai==1\.14\.0"):
        smart_turn.smart_turn_path()


def test_a_smart_turn_file_with_another_hash_is_refused(tmp_path):
    from thinkspeak.speech.models import ModelIntegrityError
    from thinkspeak.speech.turn.smart_turn import SmartTurn

    fake = tmp_path / "smart-turn-v3.2-cpu.onnx"
    fake.write_bytes(b"not the model")
    with pytest.raises(ModelIntegrityError, match="expected 2bb02631"):
        SmartTurn(fake)


def test_model_probabilities_map_to_the_eagerness_silences():
    detector = D.ModelDecides(Scripted(p=0.9), EAGERNESS["medium"])
    assert detector.silence_ms(D.Pause(AUDIO)) == EAGERNESS["medium"].complete_ms
    assert D.ModelDecides(Scripted(p=0.3), EAGERNESS["medium"]).silence_ms(D.Pause(AUDIO)) == 700
    assert D.ModelDecides(Scripted(p=0.12), EAGERNESS["medium"]).silence_ms(D.Pause(AUDIO)) == 700
    assert D.ModelDecides(Scripted(p=0.05), EAGERNESS["medium"]).silence_ms(D.Pause(AUDIO)) == 4000
    assert detector.interrupts(AUDIO) and not D.ModelDecides(Scripted(backchannel=0.8), EAGERNESS["high"]).interrupts(
        AUDIO)


@pytest.mark.parametrize(("p", "text", "silence"), [
    (0.9, "What is 3 plus 4?", 250),          # both hear a finished question
    (0.9, "Tom has 23 apples.", 700),         # the words: a statement, nothing asked yet
    (0.05, "So what is 6?", 4000),            # the audio: the voice trails off although the words look finished
    (0.3, "What is 12 times", 4000),          # both unfinished
])
def test_audio_and_words_together_wait_for_the_more_cautious(p, text, silence):
    both = D.BothDecide((D.ModelDecides(Scripted(p=p), EAGERNESS["medium"]), D.WordsDecide(EAGERNESS["medium"])))
    assert both.hears_words and both.judges_pauses and both.judges_barge_ins and both.max_silence_ms == 4000
    assert both.silence_ms(D.Pause(AUDIO, text)) == silence
    loop = asyncio.new_event_loop()
    try:
        words = loop.create_future()
        words.set_result(text)
        assert loop.run_until_complete(D.judge(both, AUDIO, words)) == silence
        assert loop.run_until_complete(D.judge(both, AUDIO, None)) is None  # words never came: the long wait stands
    finally:
        loop.close()


def test_audio_and_words_together_leave_barge_ins_to_the_model_that_tells_backchannels():
    rule = D.WordsDecide(EAGERNESS["medium"])
    assert not D.BothDecide((D.ModelDecides(Scripted(backchannel=0.9), EAGERNESS["medium"]), rule)).interrupts(AUDIO)
    assert D.BothDecide((D.ModelDecides(Scripted(backchannel=0.1), EAGERNESS["medium"]), rule)).interrupts(AUDIO)
    assert not D.BothDecide((D.ModelDecides(Scripted(backchannel=0.1), EAGERNESS["medium"]), rule)).interrupts(
        AUDIO, early=True)  # early, only a sure interruption counts
    with pytest.raises(ValueError, match="at least two"):
        D.BothDecide((rule,))


def test_session_update_chooses_audio_and_words_together():
    td = SessionConfig().updated({"audio": {"input": {"turn_detection": {
        "type": "semantic_vad", "turn_model": "learned+rule"}}}}).turn_detection
    assert td.turn_model == "learned+rule" and isinstance(td.detector, D.BothDecide)
    assert [type(d) for d in td.detector.detectors] == [D.ModelDecides, D.WordsDecide]


def test_a_failing_detector_falls_back_to_server_vad_and_logs_it(caplog):
    detector = D.ModelDecides(Scripted(fail=True), EAGERNESS["medium"])
    with caplog.at_level(logging.ERROR, logger="thinkspeak.serve"):
        silence = asyncio.run(D.judge(detector, AUDIO, None))
        verdict = asyncio.run(D.confirms_barge_in(detector, AUDIO))
    assert silence == D.FALLBACK_SILENCE_MS and verdict is True
    assert "model broke" in caplog.text and "server_vad" in caplog.text


def test_a_detector_that_hangs_falls_back_too(monkeypatch):
    import threading

    release = threading.Event()

    class Hanging(Scripted):
        def probability(self, audio):
            release.wait(5)
            return 1.0

    monkeypatch.setattr(D, "JUDGE_TIMEOUT_S", 0.05)
    try:
        silence = asyncio.run(D.judge(D.ModelDecides(Hanging(), EAGERNESS["medium"]), AUDIO, None))
    finally:
        release.set()
    assert silence == D.FALLBACK_SILENCE_MS


def test_the_rule_waits_for_the_words_and_gives_up_on_a_discarded_hearing():
    rule = D.TURN_MODELS.create("rule", TurnDetection(type="semantic_vad", eagerness="high"))

    async def main():
        loop = asyncio.get_running_loop()
        heard, dropped = loop.create_future(), loop.create_future()
        heard.set_result("What is six times seven?")
        dropped.cancel()
        return await D.judge(rule, AUDIO, heard), await D.judge(rule, AUDIO, dropped)

    assert asyncio.run(main()) == (EAGERNESS["high"].complete_ms, None)


def judging_machine() -> TurnMachine:
    td = TurnDetection(type="semantic_vad", turn_model="scripted")
    td.__dict__["detector"] = D.ModelDecides(Scripted(), EAGERNESS["medium"])  # the cached detector
    machine = TurnMachine(td)
    machine.push(F.ResponseStartFrame())
    return machine


def test_a_detector_that_tells_backchannels_judges_the_barge_in_at_its_pause():
    machine = judging_machine()
    assert kinds(machine.push(F.SpeechStartFrame(10, 0))) == [F.HoldOutputAction]
    assert machine.push(F.SpeechLongFrame(300)) == []  # length alone does not interrupt
    judged = machine.push(pause(450))
    assert kinds(judged) == [F.JudgeBargeInAction] and judged[0].end_ms == 450
    out = machine.push(F.BargeInVerdictFrame(450, interrupts=False))
    assert out == [F.EndPauseAction(450, 0)]  # a backchannel: its speech ends now ...
    assert machine.state is TurnState.POSSIBLE_BARGE_IN
    out = machine.push(F.SpeechEndFrame(546, 450, AUDIO))
    assert out == [F.ReleaseOutputAction(false_interruption=True)]  # ... as a false interruption
    assert machine.state is TurnState.RESPONDING


def test_a_real_interruption_is_announced_and_its_pause_is_heard():
    machine = judging_machine()
    machine.push(F.SpeechStartFrame(10, 0))
    machine.push(pause(700))
    out = machine.push(F.BargeInVerdictFrame(700, interrupts=True))
    assert kinds(out) == [F.AnnounceAction, F.InterruptAction, F.HearPauseAction]
    assert machine.state is TurnState.PAUSED


def test_a_stale_backchannel_verdict_is_ignored_when_the_speech_went_on():
    machine = judging_machine()
    machine.push(F.SpeechStartFrame(10, 0))
    machine.push(pause(400))
    machine.push(F.SpeechResumeFrame(600))
    assert machine.push(F.BargeInVerdictFrame(400, interrupts=False)) == []
    assert machine.state is TurnState.POSSIBLE_BARGE_IN


def test_an_early_verdict_interrupts_before_any_pause():
    machine = judging_machine()
    machine.push(F.SpeechStartFrame(10, 0))
    speech_id = machine.speech.item_id
    judged = machine.push(F.SpeechVoicedFrame(810, AUDIO))
    assert kinds(judged) == [F.JudgeBargeInAction] and judged[0].item_id == speech_id and judged[0].early
    out = machine.push(F.BargeInVerdictFrame(810, interrupts=True, item_id=speech_id))
    assert kinds(out) == [F.AnnounceAction, F.InterruptAction]
    assert machine.state is TurnState.USER_SPEAKING


def test_an_early_not_an_interruption_waits_for_the_pause_verdict():
    machine = judging_machine()
    machine.push(F.SpeechStartFrame(10, 0))
    speech_id = machine.speech.item_id
    machine.push(F.SpeechVoicedFrame(810, AUDIO))
    assert machine.push(F.BargeInVerdictFrame(810, interrupts=False, item_id=speech_id)) == []
    assert machine.state is TurnState.POSSIBLE_BARGE_IN
    assert kinds(machine.push(pause(1200))) == [F.JudgeBargeInAction]
    assert kinds(machine.push(F.BargeInVerdictFrame(1200, interrupts=True, item_id=speech_id))) == [
        F.AnnounceAction, F.InterruptAction, F.HearPauseAction]


def test_a_pause_judged_while_an_early_verdict_interrupts_becomes_the_users_pause():
    """The early verdict lands after the speech paused: it interrupts, and the pending pause's verdict then
    hears the pause as the user's own (the turn can still end on it)."""
    machine = judging_machine()
    machine.push(F.SpeechStartFrame(10, 0))
    speech_id = machine.speech.item_id
    machine.push(F.SpeechVoicedFrame(810, AUDIO))
    assert kinds(machine.push(pause(900))) == [F.JudgeBargeInAction]
    assert kinds(machine.push(F.BargeInVerdictFrame(810, True, speech_id))) == [F.AnnounceAction, F.InterruptAction]
    assert kinds(machine.push(F.BargeInVerdictFrame(900, False, speech_id))) == [F.HearPauseAction]
    assert machine.state is TurnState.PAUSED


def test_an_early_verdict_interrupts_only_when_the_model_is_sure():
    """At a pause P(other) < 0.5 interrupts; before it (speech still going on) only P(other) < 0.02 does, and an
    unsure early verdict waits for the pause's."""
    unsure = D.ModelDecides(Scripted(backchannel=0.1), EAGERNESS["medium"])
    sure = D.ModelDecides(Scripted(backchannel=0.001), EAGERNESS["medium"])
    assert unsure.interrupts(AUDIO) and not unsure.interrupts(AUDIO, early=True)
    assert sure.interrupts(AUDIO, early=True)
    assert asyncio.run(D.confirms_barge_in(unsure, AUDIO, early=True)) is False
    assert asyncio.run(D.confirms_barge_in(unsure, AUDIO)) is True


def test_a_verdict_on_an_earlier_speech_is_ignored():
    machine = judging_machine()
    machine.push(F.SpeechStartFrame(10, 0))
    old_id = machine.speech.item_id
    machine.push(F.SpeechVoicedFrame(810, AUDIO))
    machine.push(F.ForgetFrame())
    machine.push(F.SpeechStartFrame(2000, 1990))
    assert machine.push(F.BargeInVerdictFrame(810, interrupts=True, item_id=old_id)) == []
    assert machine.state is TurnState.POSSIBLE_BARGE_IN


def test_the_length_rule_ignores_the_verdict_span():
    machine = TurnMachine(TurnDetection(type="semantic_vad"))  # rule: no backchannel verdicts
    machine.push(F.ResponseStartFrame())
    machine.push(F.SpeechStartFrame(10, 0))
    assert machine.push(F.SpeechVoicedFrame(810, AUDIO)) == []


def test_without_a_backchannel_verdict_a_short_barge_in_ends_after_server_vads_silence():
    machine = TurnMachine(TurnDetection(type="semantic_vad"))  # rule: 4 s would hold the answer that long
    machine.push(F.ResponseStartFrame())
    machine.push(F.SpeechStartFrame(10, 0))
    assert machine.push(pause(200)) == [F.EndPauseAction(200, D.FALLBACK_SILENCE_MS)]
    assert kinds(machine.push(F.SpeechLongFrame(300))) == [F.AnnounceAction, F.InterruptAction]


def test_a_session_whose_detector_raises_falls_back_to_server_vad_and_answers(server, say, caplog):
    """Over the wire: a turn model that raises at every pause; the turn still ends within 1.2 s of silence (the
    VAD counts audio, and semantic_vad would wait 4 s: the fallback is server_vad's 500 ms) and is answered, and
    the failure is logged."""
    from serve_helpers import Client, silence

    broken = D.ModelDecides(Scripted(fail=True), EAGERNESS["medium"])
    question = say("What is six times seven?")

    async def main():
        client = await Client.connect(server.url)
        await client.send({"type": "session.update", "session": {"type": "realtime", "audio": {"input": {
            "turn_detection": {"type": "semantic_vad", "turn_model": "broken"}}}}})
        updated = await client.wait_for("session.updated", timeout=120)
        await client.stream(np.concatenate([silence(0.3), question, silence(1.2)]))  # then no more audio
        stopped = await client.wait_for("input_audio_buffer.speech_stopped", timeout=120)
        done = await client.wait_for("response.done", timeout=120)
        await client.close()
        return updated, stopped, done

    D.TURN_MODELS.register("broken", lambda td: broken)
    try:
        with caplog.at_level(logging.ERROR, logger="thinkspeak.serve"):
            updated, stopped, done = asyncio.run(main())
    finally:
        D.TURN_MODELS._factories.pop("broken")
    assert updated["session"]["audio"]["input"]["turn_detection"]["turn_model"] == "broken"
    assert stopped["type"] == "input_audio_buffer.speech_stopped" and done["response"]["status"] == "completed"
    assert "model broke" in caplog.text
