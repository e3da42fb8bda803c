"""The turn state machine on its own: push speech and response frames, assert the actions that come out (pipecat's
``run_test`` style: no sockets, no Whisper, no Silero, no clock)."""

from __future__ import annotations

import numpy as np
import pytest

from thinkspeak.serve import frames as F
from thinkspeak.serve.config import TurnDetection
from thinkspeak.serve.turns import TurnMachine, TurnState

AUDIO = np.zeros(1600, np.float32)


def run(machine: TurnMachine, *frames: object) -> list[type]:
    """Push ``frames`` in order; the types of every action that came out."""
    return [type(action) for frame in frames for action in machine.push(frame)]


def pause(end_ms: int) -> F.SpeechPauseFrame:
    return F.SpeechPauseFrame(end_ms + 96, end_ms, AUDIO, arrived=1.0)


def end(end_ms: int) -> F.SpeechEndFrame:
    return F.SpeechEndFrame(end_ms + 500, end_ms, AUDIO, arrived=1.0)


START = F.SpeechStartFrame(100, start_ms=0)


def test_a_plain_turn_speculates_at_the_pause_and_the_speculation_goes_live():
    machine = TurnMachine(TurnDetection())
    assert run(machine, START) == [F.AnnounceAction]
    assert machine.state is TurnState.USER_SPEAKING
    actions = machine.push(pause(900))
    assert [type(a) for a in actions] == [F.SpeculateAction] and machine.state is TurnState.SPECULATING
    spec = actions[0].spec
    assert not actions[0].endpoint  # server_vad: a fixed silence ends the turn
    out = machine.push(end(900))
    assert [type(a) for a in out] == [F.StoppedAction, F.CommitSpeechAction]
    assert out[1].spec is spec and not out[1].respond and out[1].item_id == spec.item_id
    assert machine.state is TurnState.IDLE


def test_speculation_discarded_when_the_user_goes_on():
    machine = TurnMachine(TurnDetection())
    first = [a for a in (machine.push(START) + machine.push(pause(900))) if isinstance(a, F.SpeculateAction)][0]
    out = machine.push(F.SpeechResumeFrame(1100))
    assert [type(a) for a in out] == [F.DiscardAction] and out[0].spec is first.spec
    assert machine.state is TurnState.USER_SPEAKING
    run(machine, pause(2000))
    commit = machine.push(end(2000))[-1]
    assert isinstance(commit, F.CommitSpeechAction) and commit.spec is not first.spec
    assert commit.spec.end_ms == 2000


def test_a_speculation_for_another_end_is_discarded_and_a_new_response_starts():
    machine = TurnMachine(TurnDetection())
    run(machine, START, pause(900))
    out = machine.push(end(950))
    assert [type(a) for a in out] == [F.StoppedAction, F.DiscardAction, F.CommitSpeechAction]
    assert out[-1].spec is None and out[-1].respond


def test_barge_in_holds_output_then_interrupts_when_the_speech_is_long():
    machine = TurnMachine(TurnDetection())
    run(machine, F.ResponseStartFrame())
    assert machine.state is TurnState.RESPONDING
    assert run(machine, START) == [F.HoldOutputAction]
    assert machine.state is TurnState.POSSIBLE_BARGE_IN
    assert run(machine, pause(300)) == []  # no speculation on an unconfirmed interruption
    assert run(machine, F.SpeechLongFrame(350)) == [F.AnnounceAction, F.InterruptAction]
    run(machine, F.ResponseEndFrame())
    assert machine.state is TurnState.USER_SPEAKING
    assert run(machine, pause(900), end(900)) == [F.SpeculateAction, F.StoppedAction, F.CommitSpeechAction]


def test_false_interruption_releases_the_answer_and_drops_the_noise():
    machine = TurnMachine(TurnDetection())
    run(machine, F.ResponseStartFrame())
    out = run(machine, START, end(120))
    assert out == [F.HoldOutputAction, F.ReleaseOutputAction]
    assert machine.state is TurnState.RESPONDING


def test_playing_audio_counts_as_audible_after_the_response_ended():
    playing = [True]
    machine = TurnMachine(TurnDetection(), playing=lambda: playing[0])
    assert run(machine, START) == [F.HoldOutputAction]
    playing[0] = False
    run(machine, end(100))
    assert run(machine, START) == [F.AnnounceAction]


def test_no_interruption_when_the_session_forbids_it():
    machine = TurnMachine(TurnDetection(interrupt_response=False))
    run(machine, F.ResponseStartFrame())
    assert run(machine, START) == [F.AnnounceAction]
    out = machine.push(pause(900)) + machine.push(end(900))
    assert [type(a) for a in out] == [F.StoppedAction, F.CommitSpeechAction]  # responding: no speculation
    assert not out[-1].respond


@pytest.mark.parametrize("create", [True, False])
def test_semantic_end_hears_the_pause_and_reuses_that_hearing(create):
    machine = TurnMachine(TurnDetection(type="semantic_vad", create_response=create))
    run(machine, START)
    out = machine.push(pause(900))
    if create:  # the speculation's transcript decides the end of turn
        assert [type(a) for a in out] == [F.SpeculateAction] and out[0].endpoint
    else:
        assert [type(a) for a in out] == [F.HearPauseAction]
        assert machine.state is TurnState.PAUSED
        commit = machine.push(end(900))[-1]
        assert commit.pause is out[0].pause and not commit.respond  # one ASR pass for the turn


def test_a_stale_pause_hearing_is_dropped_on_resume_and_on_another_end():
    machine = TurnMachine(TurnDetection(type="semantic_vad", create_response=False))
    run(machine, START, pause(900))
    assert run(machine, F.SpeechResumeFrame(1000)) == [F.DropPauseAction]
    run(machine, pause(1500))
    out = machine.push(end(1600))
    assert [type(a) for a in out] == [F.StoppedAction, F.DropPauseAction, F.CommitSpeechAction]
    assert out[-1].pause is None


def test_a_response_start_discards_a_pending_speculation():
    machine = TurnMachine(TurnDetection())
    run(machine, START, pause(900))
    assert run(machine, F.ResponseStartFrame()) == [F.DiscardAction]


def test_client_commit_and_forget_drop_what_was_under_way():
    machine = TurnMachine(TurnDetection())
    run(machine, START, pause(900))
    out = machine.push(F.CommitFrame())
    assert [type(a) for a in out] == [F.DiscardAction, F.CommitBufferAction]
    assert machine.state is TurnState.IDLE
    run(machine, F.ResponseStartFrame(), START)
    assert run(machine, F.ForgetFrame()) == [F.ReleaseOutputAction]  # the held answer flows again
    assert machine.state is TurnState.RESPONDING


def test_without_turn_detection_speech_frames_do_nothing():
    machine = TurnMachine(None)
    assert run(machine, START, pause(900), end(900)) == []
    assert isinstance(machine.push(F.CommitFrame())[-1], F.CommitBufferAction)


class OwnsFloor:
    """A detector that owns the floor, as ``type: duplex``'s does (the machine reads only these attributes)."""

    owns_floor = judges_barge_ins = True
    judges_pauses = hears_words = False
    max_silence_ms = 2000


def duplex_machine() -> TurnMachine:
    td = TurnDetection(type="server_vad")
    td.__dict__["detector"] = OwnsFloor()  # the cached_property's slot: no model is loaded
    return TurnMachine(td)


def test_duplex_barge_in_holds_no_output_and_the_models_yield_interrupts():
    machine = duplex_machine()
    run(machine, F.ResponseStartFrame())
    assert run(machine, START) == []  # no output held: a backchannel must not stop the answer
    assert machine.state is TurnState.POSSIBLE_BARGE_IN
    assert run(machine, F.SpeechLongFrame(350)) == []  # the speech's length decides nothing
    assert run(machine, pause(400)) == []  # nor its pause: the model keeps the floor or yields
    assert run(machine, F.FloorYieldFrame(420)) == [F.AnnounceAction, F.InterruptAction]
    assert machine.state is TurnState.USER_SPEAKING
    assert run(machine, F.FloorYieldFrame(500)) == []  # once


def test_duplex_kept_floor_drops_the_speech_as_a_false_interruption():
    machine = duplex_machine()
    run(machine, F.ResponseStartFrame(), START, pause(400))
    out = machine.push(end(400))
    assert [type(a) for a in out] == [F.ReleaseOutputAction] and out[0].false_interruption
    assert machine.state is TurnState.RESPONDING


def test_duplex_turn_speculates_at_the_pause_without_judging_it():
    machine = duplex_machine()
    run(machine, START)
    actions = machine.push(pause(900))
    assert [type(a) for a in actions] == [F.SpeculateAction] and not actions[0].endpoint
    out = machine.push(end(900))  # the listener ends the speech when the model takes the floor
    assert [type(a) for a in out] == [F.StoppedAction, F.CommitSpeechAction] and out[1].spec is actions[0].spec


def test_floor_state_goes_to_the_client_in_any_state():
    machine = duplex_machine()
    out = machine.push(F.FloorStateFrame(160, True, 0.7))
    assert out == [F.FloorAction(160, True, 0.7)] and machine.state is TurnState.IDLE
