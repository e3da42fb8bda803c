"""OmniFlatten layouts: 4-stream turns, 3- and 2-stream chunked full duplex, streaming decoders."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkspeak.layouts import omniflatten as of

V = of.FlatVocab(text_size=100, speech_size=50)
SIL, END = V.speech_silence, V.text_silence_end
US, UT, AT, AS = (V.tags[name] for name in of.TURN_SEGMENTS)


def sp(*codes):
    return [V.speech(c) for c in codes]


def test_vocabulary_blocks():
    assert (V.speech_start, SIL, END) == (100, 150, 151)
    assert (US, UT, AT, AS) == (152, 153, 154, 155)
    assert V.size == 156
    assert of.VOCAB.speech(0) == 151936


def test_turn_flattening_example():
    turn = of.Turn(sp(1, 2), [10, 11], [20], sp(3, 4, 5))
    assert of.flatten_turns([turn], V) == [US, 101, 102, UT, 10, 11, AT, 20, AS, 103, 104, 105]


def test_three_stream_example_pads_text_with_silence_end():
    user = sp(1, 2, 3) + [SIL] * 3
    assistant = [SIL] * 3 + sp(7, 8, 9)
    seq = of.flatten_duplex(user, assistant, [20, 21, 22], speech_chunk=3, text_chunk=2, vocab=V)
    assert seq == [*sp(1, 2, 3), 20, 21, SIL, SIL, SIL, SIL, SIL, SIL, 22, END, *sp(7, 8, 9)]
    back = of.unflatten_duplex(seq, True, speech_chunk=3, text_chunk=2, vocab=V)
    assert back == of.DuplexStreams(tuple(user), tuple(assistant), (20, 21, 22, END))


def test_two_stream_example():
    seq = of.flatten_duplex(sp(1, 2, 3, 4), sp(5, 6, 7, 8), speech_chunk=2, vocab=V)
    assert seq == sp(1, 2, 5, 6, 3, 4, 7, 8)


def test_paper_chunk_sizes_are_the_defaults():
    schedule = of.chunk_schedule(True)
    assert schedule == (("user_speech", 10), ("assistant_text", 2), ("assistant_speech", 10))
    assert of.chunk_schedule(False) == (("user_speech", 10), ("assistant_speech", 10))


speech_tok = st.one_of(st.integers(0, 49).map(V.speech), st.just(SIL))
text_tok = st.integers(0, 99)
segment = st.lists(text_tok, max_size=4)
turns = st.lists(st.builds(of.Turn, st.lists(speech_tok, max_size=5), segment, segment,
                           st.lists(speech_tok, max_size=5)), max_size=4)


@given(turns)
def test_turns_round_trip(ts):
    assert of.unflatten_turns(of.flatten_turns(ts, V), V) == ts


@given(turns, st.data())
def test_turn_streaming_equals_batch_for_any_split(ts, data):
    seq = of.flatten_turns(ts, V)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(seq)), max_size=6)))
    decoder = of.TurnDecoder(V)
    routed = []
    for a, b in zip([0, *cuts], [*cuts, len(seq)], strict=True):
        routed += decoder.feed(seq[a:b])
    decoder.close()
    assert routed == of.TurnDecoder(V).feed(seq)
    assert [r.position for r in routed] == list(range(len(seq)))
    for t, turn in enumerate(ts):
        for name in of.TURN_SEGMENTS:
            got = [r.token for r in routed if r.group == t and r.stream == name and r.kind != "tag"]
            assert tuple(got) == getattr(turn, name)


@st.composite
def duplex(draw, with_text):
    speech_chunk = draw(st.integers(1, 5))
    text_chunk = draw(st.integers(1, 3))
    n = draw(st.integers(0, 4))
    user = draw(st.lists(speech_tok, min_size=n * speech_chunk, max_size=n * speech_chunk))
    assistant = draw(st.lists(speech_tok, min_size=n * speech_chunk, max_size=n * speech_chunk))
    text = None
    if with_text:
        text = draw(st.lists(st.one_of(text_tok, st.just(END)), max_size=n * text_chunk))
    return user, assistant, text, speech_chunk, text_chunk


@given(st.booleans().flatmap(duplex))
def test_duplex_round_trip(sample):
    user, assistant, text, speech_chunk, text_chunk = sample
    seq = of.flatten_duplex(user, assistant, text, speech_chunk=speech_chunk, text_chunk=text_chunk, vocab=V)
    back = of.unflatten_duplex(seq, text is not None, speech_chunk=speech_chunk, text_chunk=text_chunk, vocab=V)
    assert back.user_speech == tuple(user)
    assert back.assistant_speech == tuple(assistant)
    if text is None:
        assert back.assistant_text is None
    else:
        n_chunks = len(user) // speech_chunk
        assert back.assistant_text == tuple(text) + (END,) * (n_chunks * text_chunk - len(text))


@given(st.booleans().flatmap(duplex), st.data())
def test_duplex_streaming_equals_batch_for_any_split(sample, data):
    user, assistant, text, speech_chunk, text_chunk = sample
    with_text = text is not None
    seq = of.flatten_duplex(user, assistant, text, speech_chunk=speech_chunk, text_chunk=text_chunk, vocab=V)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(seq)), max_size=6)))
    decoder = of.DuplexDecoder(with_text, speech_chunk=speech_chunk, text_chunk=text_chunk, vocab=V)
    routed = []
    for a, b in zip([0, *cuts], [*cuts, len(seq)], strict=True):
        routed += decoder.feed(seq[a:b])
    decoder.close()
    batch = of.unflatten_duplex(seq, with_text, speech_chunk=speech_chunk, text_chunk=text_chunk, vocab=V)
    assert tuple(r.token for r in routed if r.stream == "user_speech") == batch.user_speech
    assert tuple(r.token for r in routed if r.stream == "assistant_speech") == batch.assistant_speech
    if with_text:
        assert tuple(r.token for r in routed if r.stream == "assistant_text") == batch.assistant_text
    chunk_size = 2 * speech_chunk + (text_chunk if with_text else 0)
    assert [r.group for r in routed] == [i // chunk_size for i in range(len(seq))]
    assert all((r.kind == "silence") == (r.token in (SIL, END)) for r in routed)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"user_speech": sp(1, 2, 3), "assistant_speech": sp(1, 2, 3), "speech_chunk": 2},
         "speech_chunk 2 does not fit"),
        ({"user_speech": sp(1, 2), "assistant_speech": sp(1)}, "same length"),
        ({"user_speech": sp(1, 2), "assistant_speech": sp(1, 2), "speech_chunk": 0},
         "speech_chunk must be an int >= 1, got 0"),
        ({"user_speech": sp(1, 2), "assistant_speech": sp(1, 2), "assistant_text": [1], "speech_chunk": 2,
          "text_chunk": 0}, "text_chunk must be an int >= 1, got 0"),
        ({"user_speech": sp(1, 2), "assistant_speech": sp(1, 2), "assistant_text": [1, 2, 3], "speech_chunk": 2},
         "assistant_text has 3 tokens but 1 chunks of text_chunk 2 hold only 2"),
        ({"user_speech": [5, 101], "assistant_speech": sp(1, 2), "speech_chunk": 2},
         r"user_speech\[0\]: user_speech token must be a speech id"),
        ({"user_speech": sp(1, 2), "assistant_speech": sp(1, 2), "assistant_text": [SIL], "speech_chunk": 2},
         r"assistant_text\[0\]: assistant_text token must be a text id"),
    ],
)
def test_flatten_duplex_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        of.flatten_duplex(**kwargs, vocab=V)


def test_unflatten_rejects_broken_sequences():
    with pytest.raises(ValueError, match="ends inside a chunk of 4 tokens"):
        of.unflatten_duplex(sp(1, 2, 3), False, speech_chunk=2, vocab=V)
    with pytest.raises(ValueError, match="position 2: assistant_text token must be a text id"):
        of.unflatten_duplex([*sp(1, 2), 120, 5, *sp(3, 4)], True, speech_chunk=2, vocab=V)
    with pytest.raises(ValueError, match="must start with the user_speech tag"):
        of.unflatten_turns([101], V)
    with pytest.raises(ValueError, match="expected the user_text tag"):
        of.unflatten_turns([US, AT], V)
    with pytest.raises(ValueError, match="position 2: user_text token must be a text id"):
        of.unflatten_turns([US, UT, 101], V)
    with pytest.raises(ValueError, match="ended in the assistant_text segment of turn 0"):
        of.unflatten_turns([US, UT, AT, 5], V)
    with pytest.raises(ValueError, match=r"turns\[0\].assistant_speech\[0\]"):
        of.flatten_turns([of.Turn(assistant_speech=[5])], V)
    with pytest.raises(ValueError, match=r"turns\[0\] must be a Turn"):
        of.flatten_turns([[1, 2]], V)
    with pytest.raises(ValueError, match="speech_size must be an int >= 1"):
        of.FlatVocab(speech_size=0)
