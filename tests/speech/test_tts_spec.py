"""Voice specs and streaming text chunks (parsers: property tests)."""

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from parts import needs_espeak, needs_festival, needs_flite, needs_piper, require_module
from thinkspeak.speech.tts import VoiceSpec, list_voices, parse_spec, split_for_streaming, split_sentences
from thinkspeak.speech.tts.spec import split_spec

words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789',.;:!?-", min_size=1, max_size=12)


@given(st.lists(words, max_size=40), st.integers(1, 10), st.integers(1, 5))
@example(["?'", "0"], 1, 1)  # a closing quote after a sentence end was dropped by the splitter
def test_chunks_rebuild_the_text(tokens, first_max, min_rest):
    text = "  ".join(tokens)
    chunks = split_for_streaming(text, first_max, min_rest)
    assert " ".join(chunks).split() == text.split()
    assert all(chunk.strip() == chunk and chunk for chunk in chunks)
    if chunks:
        assert len(chunks[0].split()) <= first_max + min_rest - 1


def test_first_chunk_is_a_short_clause_then_sentences():
    text = "Well, let me think about that for a moment. Twelve times three is thirty six. The answer is 36."
    assert split_for_streaming(text) == [
        "Well,",
        "let me think about that for a moment.",
        "Twelve times three is thirty six.",
        "The answer is 36.",
    ]
    assert split_for_streaming("The answer to your question is exactly forty two.") == [
        "The answer to your question is",
        "exactly forty two.",
    ]
    assert split_for_streaming("The answer to your question is forty two.") == [
        "The answer to your question is forty two."
    ]
    assert split_sentences("It costs 2.5 dollars. Really? Yes!") == [
        "It costs 2.5 dollars.",
        "Really?",
        "Yes!",
    ]
    assert split_for_streaming("   ") == []


@given(
    engine=st.sampled_from(["espeak", "flite", "piper"]),
    voice=st.none() | st.from_regex(r"[a-z][a-z0-9+\-]{0,8}", fullmatch=True),
    options=st.dictionaries(
        st.from_regex(r"[a-z_]{1,8}", fullmatch=True),
        st.from_regex(r"[0-9.]{1,4}", fullmatch=True),
        max_size=3,
    ),
)
def test_split_spec_round_trips(engine, voice, options):
    spec = ":".join([engine] + ([voice] if voice else []) + [f"{k}={v}" for k, v in options.items()])
    assert split_spec(spec) == (engine, voice, options)


@needs_espeak
def test_espeak_spec_is_validated_and_canonical():
    spec = parse_spec("espeak:en-us+f3:rate=160:pitch=60")
    assert spec == VoiceSpec("espeak", "en-us+f3", {"rate": 160, "pitch": 60})
    assert spec.canonical() == "espeak:en-us+f3:pitch=60:rate=160"
    assert parse_spec("espeak-ng:en+m7").canonical() == "espeak:en+m7"
    assert parse_spec("espeak").voice == "en-us"
    assert "en-gb+f3" in list_voices("espeak") and "en-us" in list_voices("espeak")


@needs_piper
def test_piper_spec():
    assert parse_spec("piper").canonical() == "piper:joe"
    assert parse_spec("piper:length_scale=1.1").options == {"length_scale": 1.1}
    assert list_voices("piper") == ["joe"]


@needs_flite
@needs_festival
def test_flite_and_festival_voices():
    assert set(list_voices("flite")) >= {"kal", "kal16", "awb", "rms", "slt"}
    assert parse_spec("flite:slt").canonical() == "flite:slt"
    assert "kal" in list_voices("festival")
    assert parse_spec("festival:kal").canonical() == "festival:kal"
    assert parse_spec("festival:kal_diphone").voice == "kal_diphone"


@needs_espeak
@needs_flite
@needs_festival
@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("", "spec must be"),
        ("sam", "engine must be one of"),
        ("espeak:xx-yy", "language 'xx-yy'"),
        ("espeak:en-us+nosuchvariant", "variant 'nosuchvariant'"),
        ("espeak:en-us:rate=fast", "rate must be an integer"),
        ("espeak:en-us:rate=1000", r"rate must be an integer in \[80, 450\]"),
        ("espeak:en-us:speed=100", "no option 'speed'"),
        ("espeak:en-us:rate=100:rate=120", "repeated"),
        ("espeak:en-us:en-gb", "single voice"),
        ("espeak:en-us:rate=", "malformed"),
        ("flite:alan", "not a flite voice"),
        ("flite:awb_time", "not a flite voice"),
        ("flite:slt:f0_mean=10", "f0_mean"),
        ("festival:nobody", "not an installed festival voice"),
        ("piper:nobody", "piper voice must be"),
        ("piper:noise_scale=-1", "noise_scale"),
    ],
)
def test_bad_specs_raise_value_error(spec, match):
    if spec.startswith("piper"):
        require_module("piper", "piper")
    with pytest.raises(ValueError, match=match):
        parse_spec(spec)


def test_unknown_engine_in_list_voices():
    with pytest.raises(ValueError, match="engine must be one of"):
        list_voices("sapi")
