"""The token Talker: stream layout (delays, alignments), KV-cache decoding, streaming sessions."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from thinkspeak.layouts.moshi import align_text
from thinkspeak.model.talker import EOT, EPAD, PAD, SPACE, Talker, TalkerConfig, build_streams, encode_word

TINY = dict(layers=2, d_model=32, heads=2, ffn=64)


def random_codes(frames, sizes, seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(0, s, frames) for s in sizes], axis=1)


@given(frames=st.integers(1, 12), fps=st.integers(1, 3),
       delays=st.lists(st.integers(1, 4), min_size=3, max_size=3), seed=st.integers(0, 100))
def test_delayed_layout_puts_field_k_of_step_f_at_f_plus_delay(frames, fps, delays, seed):
    c = TalkerConfig(codebook_sizes=(4, 8, 16), delays=tuple(delays), frames_per_step=fps, **TINY)
    codes = random_codes(frames, c.codebook_sizes, seed)
    s = build_streams(c, ["hi", "there."], [0.0, 0.1], codes)
    steps = -(-frames // fps)
    sizes = np.array(c.stream_sizes)
    for j, d in enumerate(c.stream_delays):
        r, k = divmod(j, 3)
        got = s.audio[d:d + steps, j]
        want = [codes[min(f * fps + r, frames - 1), k] for f in range(steps)]
        assert list(got) == want
        assert (s.audio[:d, j] == sizes[j] - 2).all()  # PAD_A before the delay
        assert s.audio[d + steps, j] == sizes[j] - 1  # EOA after the last step
        assert s.audio_mask[:, j].sum() == steps + 1
    assert len(s.text) == len(s.audio) == len(s.audio_mask)


def test_moshi_text_slot_is_align_text_of_the_words_with_eot():
    c = TalkerConfig(codebook_sizes=(4,), delays=(1,), frames_per_step=2, **TINY)
    codes = random_codes(100, (4,))  # 2 s at 50 Hz -> 50 steps
    s = build_streams(c, ["ab", "c."], [0.1, 1.0], codes)
    a, b, dot = (encode_word(x)[0] for x in ("a", "b", "."))
    shift = -1 / 25  # 0.1 s = step 2.5: the words move one step earlier, so that the first starts at step 1
    want = align_text([([a, b], 0.1 + shift, 0.1), (encode_word("c."), 1.0 + shift, 1.0), ([EOT], 1.0 + shift, 1.0)],
                      duration=len(s.text) / 25, frame_rate=25, pad=PAD, epad=EPAD)
    assert list(s.text) == want
    assert list(s.text[:4]) == [EPAD, a, b, PAD]
    assert dot in s.text


def test_miniomni_text_is_all_text_first():
    c = TalkerConfig(codebook_sizes=(4,), delays=(1,), alignment="miniomni", **TINY)
    s = build_streams(c, ["ab", "c"], [0.5, 1.0], random_codes(60, (4,)))
    want = encode_word("ab") + [SPACE] + encode_word("c") + [EOT]
    assert list(s.text[:5]) == want and (s.text[5:] == PAD).all()


def test_bad_config_and_words_are_named():
    with pytest.raises(ValueError, match="delays must give one delay >= 1 per codebook"):
        TalkerConfig(codebook_sizes=(4, 4), delays=(1,))
    with pytest.raises(ValueError, match="alignment must be one of"):
        TalkerConfig(alignment="nope")
    with pytest.raises(ValueError, match="Talker's characters"):
        encode_word("Caf\u00e9")
    with pytest.raises(ValueError, match="unknown key"):
        TalkerConfig.from_dict({"layerz": 2})


def test_kv_cache_steps_equal_the_full_forward():
    torch.manual_seed(0)
    c = TalkerConfig(codebook_sizes=(4, 8), delays=(1, 2), **TINY)
    model = Talker(c).eval()
    s = build_streams(c, ["hello", "you."], [0.0, 0.3], random_codes(40, (4, 8)))
    text, audio = torch.from_numpy(s.text)[None], torch.from_numpy(s.audio)[None]
    with torch.no_grad():
        full_t, full_a = model(text, audio)
        cache = model.new_cache()
        steps = [model(text[:, i:i + 1], audio[:, i:i + 1], cache=cache, start=i) for i in range(text.shape[1])]
    torch.testing.assert_close(torch.cat([x[1] for x in steps], 1), full_a, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(torch.cat([x[0] for x in steps], 1), full_t, atol=1e-4, rtol=1e-4)


def test_save_load_round_trip_and_bad_folder(tmp_path):
    model = Talker(TalkerConfig(**TINY))
    model.save(tmp_path / "t")
    again = Talker.load(tmp_path / "t")
    for (k, v), (_, w) in zip(model.state_dict().items(), again.state_dict().items(), strict=True):
        assert torch.equal(v, w), k
    with pytest.raises(ValueError, match="talker.json and talker.safetensors"):
        Talker.load(tmp_path)
    (tmp_path / "t" / "talker.json").write_text('{"layers": 0}')
    with pytest.raises(ValueError, match="layers must be an int >= 1"):
        Talker.load(tmp_path / "t")


def test_depth_decoding_gives_the_logits_training_teaches():
    """FastDepth (numpy, one stream at a time) = Talker.forward's teacher-forced depth logits."""
    torch.manual_seed(0)
    c = TalkerConfig(depth=24, **TINY)
    talker = Talker(c).eval()
    for p in talker.parameters():  # away from the initial ones (norm weights 1, zero positions)
        p.data += 0.1 * torch.randn_like(p)
    s = build_streams(c, ["ab", "c"], [0.1, 0.3], random_codes(20, c.codebook_sizes, 3))
    text, audio = torch.from_numpy(s.text)[None], torch.from_numpy(s.audio)[None]
    with torch.no_grad():
        _, want = talker(text[:, :-1], audio[:, :-1], targets=audio[:, 1:])
        h = talker.hidden(text[:, :-1], audio[:, :-1])[0]
    fast = talker.fast_depth()
    for t in (0, 5, len(s.text) - 2):
        g = fast.start(h[t])
        rows = []
        for j, code in enumerate(s.audio[t + 1]):
            rows.append(fast.logits(g, j))
            if j + 1 < len(c.stream_sizes):
                g = fast.push(g, j, int(code))
        np.testing.assert_allclose(np.concatenate(rows), want[0, t].numpy(), rtol=1e-4, atol=1e-4)


def test_depth_needs_targets():
    c = TalkerConfig(depth=8, **TINY)
    s = build_streams(c, ["ab"], [0.1], random_codes(4, c.codebook_sizes))
    with pytest.raises(ValueError, match="needs the next step's targets"):
        Talker(c)(torch.from_numpy(s.text)[None], torch.from_numpy(s.audio)[None])


def test_without_audio_history_the_audio_inputs_do_not_matter():
    torch.manual_seed(0)
    c = TalkerConfig(audio_history=False, **TINY)
    talker = Talker(c).eval()
    s = build_streams(c, ["ab", "c"], [0.1, 0.3], random_codes(20, c.codebook_sizes, 3))
    text, audio = torch.from_numpy(s.text)[None], torch.from_numpy(s.audio)[None]
    other = torch.from_numpy(build_streams(c, ["ab", "c"], [0.1, 0.3], random_codes(20, c.codebook_sizes, 4)).audio)
    with torch.no_grad():
        a, b = talker(text, audio)[1], talker(text, other[None, :text.shape[1]])[1]
    assert torch.equal(a, b)
    assert not any("audio_emb" in k for k in talker.state_dict())
