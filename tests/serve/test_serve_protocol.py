"""Client-event parsing and session.update validation (pure; the wire tests are in test_server_*.py)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkspeak.serve.config import SessionConfig
from thinkspeak.serve.protocol import ProtocolError, error_event, parse_client_event


def test_parse_accepts_known_events_and_keeps_event_id():
    event = parse_client_event('{"type": "response.create", "event_id": "e1"}', max_bytes=1000)
    assert (event.type, event.event_id) == ("response.create", "e1")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", "invalid_json"),
        ("[1, 2]", "invalid_json"),
        ('{"event_id": "x"}', "missing_required_parameter"),
        ('{"type": "response.explode"}', "unknown_event_type"),
        ('{"type": "response.create", "pad": "' + "x" * 2000 + '"}', "message_too_large"),
    ],
)
def test_parse_rejects(raw, code):
    with pytest.raises(ProtocolError) as info:
        parse_client_event(raw, max_bytes=1000)
    assert info.value.code == code
    wire = error_event(info.value)
    assert wire["type"] == "error" and wire["error"]["code"] == code and wire["event_id"].startswith("event_")


@given(st.text(max_size=200))
def test_parse_never_raises_anything_but_protocol_errors(raw):
    try:
        parse_client_event(raw, max_bytes=150)
    except ProtocolError:
        pass


def test_field_checks_types_and_names_the_field():
    event = parse_client_event(json.dumps({"type": "conversation.item.truncate", "item_id": 3}), max_bytes=10_000)
    with pytest.raises(ProtocolError, match="item_id") as info:
        event.field("item_id", str)
    assert info.value.param == "item_id"
    with pytest.raises(ProtocolError) as info:
        event.field("audio_end_ms", int)
    assert info.value.code == "missing_required_parameter"


def test_session_update_applies_only_present_fields():
    base = SessionConfig()
    update = {"type": "realtime", "instructions": "Be brief.",
              "audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000},
                                  "turn_detection": {"type": "server_vad", "silence_duration_ms": 300}}}}
    new = base.updated(update)
    assert new.instructions == "Be brief." and new.input_rate == 16000 and new.output_rate == 24000
    assert new.turn_detection.silence_duration_ms == 300 and new.turn_detection.threshold == 0.5
    wire = new.to_wire("sess_1")
    assert wire["audio"]["input"]["turn_detection"]["silence_duration_ms"] == 300
    assert base.updated({"audio": {"input": {"turn_detection": None}}}).turn_detection is None


def test_semantic_vad_round_trips_and_switches_back():
    td = SessionConfig().updated({"audio": {"input": {"turn_detection": {"type": "semantic_vad",
                                                                         "eagerness": "high"}}}}).turn_detection
    assert td.semantic and td.eagerness == "high" and td.max_silence_ms == 2000
    wire = td.to_wire()
    assert wire == {"type": "semantic_vad", "eagerness": "high", "turn_model": "rule", "create_response": True,
                    "interrupt_response": True}
    config = SessionConfig(turn_detection=td)
    same = config.updated({"audio": {"input": {"turn_detection": {"type": "semantic_vad",
                                                                  "create_response": False}}}}).turn_detection
    assert same.eagerness == "high" and not same.create_response  # fields not given keep their values
    back = config.updated({"audio": {"input": {"turn_detection": {"type": "server_vad"}}}}).turn_detection
    assert not back.semantic and back.silence_duration_ms == 500 and back.max_silence_ms == 500


@pytest.mark.parametrize(
    ("update", "param"),
    [
        ({"audio": {"input": {"format": {"type": "audio/pcmu"}}}}, "session.audio.input.format.type"),
        ({"audio": {"output": {"format": {"type": "audio/pcm", "rate": 44100}}}}, "session.audio.output.format.rate"),
        ({"audio": {"input": {"turn_detection": {"type": "server_vad", "threshold": 1.5}}}},
         "session.audio.input.turn_detection.threshold"),
        ({"audio": {"input": {"turn_detection": {"type": "smart_vad"}}}}, "session.audio.input.turn_detection.type"),
        ({"audio": {"input": {"turn_detection": {"type": "semantic_vad", "eagerness": "eager"}}}},
         "session.audio.input.turn_detection.eagerness"),
        ({"audio": {"input": {"turn_detection": {"type": "semantic_vad", "silence_duration_ms": 300}}}},
         "session.audio.input.turn_detection.silence_duration_ms"),
        ({"output_modalities": ["audio", "text"]}, "session.output_modalities"),
        ({"temperature_of_the_sun": 1}, "session.temperature_of_the_sun"),
    ],
)
def test_session_update_rejects_with_the_parameter_path(update, param):
    with pytest.raises(ProtocolError) as info:
        SessionConfig().updated(update, "evt")
    assert info.value.param == param and info.value.event_id == "evt"
