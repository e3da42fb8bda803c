"""Mini-Omni layout: golden prompt, delayed output round trip, streaming de-layerer, SNAC mapping."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkspeak.layouts import miniomni as mo
from thinkspeak.layouts.miniomni import VOCAB

small = mo.MiniOmniVocab(text_vocab=50, text_specials=8, audio_vocab=20, audio_specials=6, n_layers=7)


def test_golden_a1a2_t3():
    streams = mo.build_prompt("A1A2", 3)
    assert len(streams) == 8
    assert streams[0] == [156098, 156097, 156097, 156097, 156096, 156099]
    assert streams[7] == [151938, 151937, 151937, 151937, 151936, 151939]


def test_default_vocabulary_sizes_and_shift():
    assert (VOCAB.text_size, VOCAB.audio_size, VOCAB.size) == (152000, 4160, 181120)
    assert (VOCAB.eot, VOCAB.pad_t, VOCAB.input_t, VOCAB.answer_t, VOCAB.asr) == (151936, 151937, 151938, 151939,
                                                                                  151940)
    assert (VOCAB.eoa, VOCAB.pad_a, VOCAB.input_a, VOCAB.answer_a, VOCAB.split) == (4096, 4097, 4098, 4099, 4100)
    assert VOCAB.shift(5, 0) == 152005
    assert VOCAB.shift(5, 6) == 5 + 152000 + 6 * 4160
    assert VOCAB.unshift(VOCAB.shift(4099, 3), 3) == 4099


def test_every_layer_is_shifted_by_its_index():
    streams = mo.build_prompt("A1A2", 2)
    for layer in range(7):
        assert [VOCAB.unshift(t, layer) for t in streams[layer]] == [4098, 4097, 4097, 4096, 4099]


@pytest.mark.parametrize(
    ("task", "x_a", "x_t"),
    [("A1A2", 4099, 151939), ("A1T2", 4097, 151939), ("ASR", 4097, 151940)],
)
def test_audio_input_prompts(task, x_a, x_t):
    streams = mo.build_prompt(task, 4)
    for layer in range(7):
        assert [VOCAB.unshift(t, layer) for t in streams[layer]] == [4098, *[4097] * 4, 4096, x_a]
    assert streams[7] == [151938, *[151937] * 4, 151936, x_t]


def test_text_input_prompts():
    ids = [11, 22, 33]
    t1a2 = mo.build_prompt("T1A2", text_ids=ids)
    t1t2 = mo.build_prompt("T1T2", text_ids=ids)
    for streams, last in ((t1a2, 4099), (t1t2, 4097)):
        assert streams[7] == [151938, 11, 22, 33, 151936, 151939]
        for layer in range(7):
            assert [VOCAB.unshift(t, layer) for t in streams[layer]] == [4097] * 5 + [last]


def test_audio_len_for_ms_and_positions():
    assert mo.audio_len_for_ms(0) == 1
    assert mo.audio_len_for_ms(59.9) == 3
    assert mo.audio_len_for_ms(1000) == 51
    assert list(mo.audio_input_positions(3)) == [1, 2, 3]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"task": "A2A1"}, "task must be one of"),
        ({"task": "A1A2", "audio_len": 0}, "audio_len must be an int >= 1"),
        ({"task": "A1A2", "audio_len": 2, "text_ids": [1]}, "text_ids must be empty"),
        ({"task": "T1A2", "audio_len": 3, "text_ids": [1]}, "audio_len must be 0"),
        ({"task": "T1T2"}, "at least one text token"),
        ({"task": "T1A2", "text_ids": [151936]}, r"text_ids\[0\] must be a text token"),
        ({"task": "T1A2", "text_ids": [-1]}, r"text_ids\[0\]"),
    ],
)
def test_build_prompt_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mo.build_prompt(**kwargs)


def test_bad_vocab_and_shift_arguments():
    with pytest.raises(ValueError, match="n_layers must be an int >= 1, got 0"):
        mo.MiniOmniVocab(n_layers=0)
    with pytest.raises(ValueError, match="text_specials must be an int >= 5"):
        mo.MiniOmniVocab(text_specials=4)
    with pytest.raises(ValueError, match="layer must be an audio layer index"):
        VOCAB.shift(1, 7)
    with pytest.raises(ValueError, match="token must be a raw code of audio layer 0"):
        VOCAB.shift(4160, 0)
    with pytest.raises(ValueError, match="token_id must be an id of audio layer 1"):
        VOCAB.unshift(VOCAB.shift(3, 0), 1)
    with pytest.raises(ValueError, match="duration_ms must be a number >= 0"):
        mo.audio_len_for_ms(-1)


def test_delayed_output_layout_positions():
    text = [5, 6]
    frames = [tuple(range(10 * f, 10 * f + 7)) for f in range(3)]
    streams = mo.encode_output(text, frames)
    length = 3 + 7 + 1
    assert all(len(s) == length for s in streams)
    assert streams[7] == [5, 6, VOCAB.eot] + [VOCAB.pad_t] * (length - 3)
    for layer in range(7):
        raw = [VOCAB.unshift(t, layer) for t in streams[layer]]
        for f, frame in enumerate(frames):
            assert raw[f + layer + 1] == frame[layer]  # frame f of layer i at step f + i + 1
        assert raw[: layer + 1] == [VOCAB.pad_a] * (layer + 1)
        assert raw[3 + layer + 1] == VOCAB.eoa
        assert set(raw[3 + layer + 2:]) <= {VOCAB.pad_a}


def test_text_longer_than_audio_extends_the_output():
    streams = mo.encode_output(list(range(20)), [tuple(range(7))])
    assert len(streams[7]) == 21 and streams[7][20] == VOCAB.eot
    assert mo.decode_output(streams).text == list(range(20))


texts = st.lists(st.integers(0, small.text_vocab - 1), max_size=15)
frame_lists = st.lists(st.tuples(*[st.integers(0, small.audio_vocab - 1)] * 7), max_size=12)


@given(texts, frame_lists)
def test_decode_inverts_encode(text, frames):
    out = mo.decode_output(mo.encode_output(text, frames, small), small)
    assert out.text == text
    assert out.frames == frames


@given(texts, frame_lists, st.data())
def test_streaming_equals_batch_for_any_split(text, frames, data):
    streams = mo.encode_output(text, frames, small)
    steps = mo.output_steps(streams)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(steps)), max_size=6)))
    decoder = mo.OutputDecoder(small)
    got = mo.DecodedOutput()
    for a, b in zip([0, *cuts], [*cuts, len(steps)], strict=True):
        got.extend(decoder.feed(steps[a:b]))
    decoder.close()
    assert got == mo.decode_output(streams, small)


@given(texts, frame_lists)
def test_each_frame_arrives_with_its_last_layer(text, frames):
    decoder = mo.OutputDecoder(small)
    for s, step in enumerate(mo.output_steps(mo.encode_output(text, frames, small))):
        out = decoder.push(step)
        f = s - small.n_layers
        assert out.frames == ([frames[f]] if 0 <= f < len(frames) else [])
        assert decoder.audio_done == (s >= len(frames) + small.n_layers)


def _corrupt(streams, layer, step, value):
    rows = [list(r) for r in streams]
    rows[layer][step] = value
    return rows


@pytest.mark.parametrize(
    ("layer", "step", "raw", "match"),
    [
        (2, 1, 5, "audio layer 2 must be PAD_A .* during its delay"),
        (1, 4, 4096, "layer 1 emits EOA but layer 0 has not ended"),  # EOA one frame early
        (1, 5, 5, "audio layer 1 must emit EOA"),  # the EOA of layer 1 replaced by a code
        (0, 2, 4099, "audio layer 0 must hold a code or EOA, got special 4099"),
        (0, 9, 3, "after its EOA"),
    ],
)
def test_decoder_rejects_broken_audio_layout(layer, step, raw, match):
    streams = mo.encode_output([1, 2], [tuple(range(7))] * 3)
    bad = _corrupt(streams, layer, step, VOCAB.shift(raw, layer))
    with pytest.raises(ValueError, match=match):
        mo.decode_output(bad)


def test_decoder_rejects_bad_text_and_shapes():
    streams = mo.encode_output([1, 2], [tuple(range(7))])
    with pytest.raises(ValueError, match="text id must be PAD_T"):
        mo.decode_output(_corrupt(streams, 7, 5, 3))
    with pytest.raises(ValueError, match="must be a text token or EOT before EOT"):
        mo.decode_output(_corrupt(streams, 7, 0, VOCAB.pad_t))
    with pytest.raises(ValueError, match="id of audio layer 3"):
        mo.decode_output(_corrupt(streams, 3, 0, VOCAB.shift(VOCAB.pad_a, 2)))
    with pytest.raises(ValueError, match="streams must hold 8 rows"):
        mo.decode_output(streams[:7])
    with pytest.raises(ValueError, match="same length"):
        mo.decode_output([*streams[:7], streams[7][:-1]])
    with pytest.raises(ValueError, match="audio layer 6 has no EOA"):
        mo.decode_output([s[:-1] for s in streams])
    decoder = mo.OutputDecoder()
    decoder.feed(mo.output_steps(streams))
    with pytest.raises(ValueError, match="after every stream has ended"):
        decoder.push(mo.output_steps(streams)[-1])
    with pytest.raises(ValueError, match=r"frames\[0\] must hold 7 codes"):
        mo.encode_output([], [(1, 2, 3)])
    with pytest.raises(ValueError, match=r"frames\[0\]\[6\] must be a code of audio layer 6"):
        mo.encode_output([], [(0, 0, 0, 0, 0, 0, 4096)])


def test_snac_mapping_exact():
    frame = (10, 11, 12, 13, 14, 15, 16)
    assert mo.frames_to_snac([frame]) == ([10], [11, 14], [12, 13, 15, 16])


@given(st.lists(st.tuples(*[st.integers(0, 4095)] * 7), max_size=10))
def test_snac_round_trip_and_rates(frames):
    coarse, mid, fine = mo.frames_to_snac(frames)
    assert (len(coarse), len(mid), len(fine)) == (len(frames), 2 * len(frames), 4 * len(frames))
    assert mo.snac_to_frames(coarse, mid, fine) == frames


def test_snac_rejects_bad_lengths():
    with pytest.raises(ValueError, match="mid must hold 2 codes per coarse code"):
        mo.snac_to_frames([1], [1], [1, 2, 3, 4])
    with pytest.raises(ValueError, match="fine must hold 4 codes per coarse code"):
        mo.snac_to_frames([1], [1, 2], [1])
    with pytest.raises(ValueError, match=r"frames\[0\] must hold 7 codes"):
        mo.frames_to_snac([(1, 2)])


@given(st.lists(st.tuples(st.integers(0, 9)), max_size=30), st.integers(1, 6))
def test_chunker_keeps_every_frame_including_the_tail(frames, size):
    chunks = mo.chunk_frames(frames, size)
    assert [f for chunk in chunks for f in chunk] == frames
    assert all(len(c) == size for c in chunks[:-1])
    assert not chunks or 1 <= len(chunks[-1]) <= size


def test_first_chunk_after_eleven_forward_passes_and_tail_is_flushed():
    frames = [tuple([f] * 7) for f in range(6)]
    decoder, chunker = mo.OutputDecoder(), mo.FrameChunker(4)
    ready = []
    for s, step in enumerate(mo.output_steps(mo.encode_output([1], frames))):
        for frame in decoder.push(step).frames:
            ready += [(s, chunk) for chunk in chunker.push(frame)]
        if decoder.audio_done:
            ready += [(s, chunk) for chunk in chunker.close()]
            break
    assert ready[0] == (10, frames[:4])  # steps 0..10 = 11 forward passes
    assert ready[1][1] == frames[4:]  # the 2 tail frames the public code drops
    with pytest.raises(ValueError, match="frames_per_chunk must be an int >= 1"):
        mo.FrameChunker(0)
