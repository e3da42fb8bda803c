"""Streaming token-Talker sessions on a small random Talker (behaviour, not quality)."""

import numpy as np
import pytest
import torch

pytest.importorskip("pycodec2")

from thinkspeak.codecs import get_codec  # noqa: E402
from thinkspeak.decode.talker import TalkerOptions, TalkerSession, TokenTalker, speak  # noqa: E402
from thinkspeak.model.talker import Talker, TalkerConfig  # noqa: E402

FRAME = 160  # codec2 samples per frame at 8 kHz


@pytest.fixture(scope="module")
def talker():
    torch.manual_seed(0)
    return Talker(TalkerConfig(layers=1, d_model=32, heads=2, ffn=64))


def test_empty_text_gives_empty_audio(talker):
    assert speak(talker, get_codec(), "").size == 0
    assert speak(talker, get_codec(), "  ... ").size == 0


def test_speech_is_whole_frames_and_bounded(talker):
    pcm = speak(talker, get_codec(), "The answer is 42.", options=TalkerOptions(max_seconds=1.0, seed=1))
    assert pcm.dtype == np.float32 and pcm.size > 0
    assert pcm.size % (2 * FRAME) == 0 and pcm.size <= 8000 * 1.0 + 4 * 2 * FRAME


def test_audio_starts_a_few_steps_after_the_first_word(talker):
    s = TalkerSession(talker, get_codec(), options=TalkerOptions(max_seconds=2.0))
    assert s.step() is None  # nothing to say yet
    s.push_text("Hello ")
    out, steps = [], 0
    while not out and steps < 10:
        pcm = s.step()
        steps += 1
        if pcm is not None and pcm.size:
            out.append(pcm)
    assert out and steps == max(talker.config.delays)  # the first frame after max(delays) forward passes


def test_waits_for_text_then_continues_and_cancel_stops(talker):
    s = TalkerSession(talker, get_codec(), out_rate=16000, options=TalkerOptions(max_seconds=5.0))
    s.push_text("one two")  # 'two' may continue ('twenty'): it waits for a space or end_text
    chunks = list(s.stream())
    assert not s.finished and s._partial == "two"
    waited = s.steps
    assert s.step() is None and s.steps == waited  # waiting does not advance
    s.push_text(" three")
    s.step()
    s.cancel()
    assert s.step() is None and s.cancelled
    assert all(c.dtype == np.float32 for c in chunks)


def test_codec_mismatch_and_bad_options_are_named(talker, tmp_path):
    small = Talker(TalkerConfig(codebook_sizes=(4, 4), delays=(1, 1), layers=1, d_model=32, heads=2, ffn=64))
    with pytest.raises(ValueError, match="the Talker was trained for"):
        TalkerSession(small, get_codec())
    with pytest.raises(ValueError, match="temperature must be in"):
        TalkerOptions(temperature=-1)
    talker.save(tmp_path / "t")
    tk = TokenTalker.load(str(tmp_path / "t"))
    with pytest.raises(ValueError, match="push_text after end_text"):
        s = tk.session()
        s.end_text()
        s.push_text("more")


class Oracle(torch.nn.Module):
    """A scripted Talker that knows one utterance's training streams: at position ``t`` it records the inputs
    the session feeds and puts all the mass on the training targets ``text[t+1]``, ``audio[t+1]``. A session
    decoding it greedily must feed exactly the training inputs and push exactly the utterance's frames. With
    ``depth`` it also checks that stream ``j`` is predicted from the embeddings of streams ``< j`` of the
    training targets, as :meth:`Talker.forward` teaches it."""

    def __init__(self, config, streams, depth=False):
        super().__init__()
        self.config, self.s, self.seen, self.bad_prefix = config, streams, [], []
        self.offsets = torch.tensor(np.concatenate([[0], np.cumsum(config.stream_sizes)[:-1]]))
        self.depth = True if depth else None  # the session asks for fast_depth() when set

    def new_cache(self):
        return []

    def hidden(self, text, audio, cond=None, cache=None, start=0):
        self.seen.append((start, int(text[0, -1]), audio[0, -1].numpy().copy()))
        return torch.tensor([[[float(min(start + 1, len(self.s.text) - 1))]]])

    def text_head(self, h):
        out = torch.full((self.config.text_vocab,), -10.0)
        out[self.s.text[int(h[0])]] = 10.0
        return out

    def audio_head(self, h):
        out = torch.full((sum(self.config.stream_sizes),), -10.0)
        out[self.offsets + torch.from_numpy(self.s.audio[int(h[0])])] = 10.0
        return out

    # the depth interface (FastDepth's): the state is (step, codes chosen so far in this step)
    def fast_depth(self):
        return self

    def start(self, h):
        return int(h[0]), []

    def logits(self, g, j):
        t, chosen = g
        if chosen != list(self.s.audio[t][:j]):
            self.bad_prefix.append((t, j))
        lo = int(self.offsets[j])
        return self.audio_head(torch.tensor([float(t)])).numpy()[lo:lo + self.config.stream_sizes[j]]

    def push(self, g, j, code):
        return g[0], g[1] + [code]


@pytest.mark.parametrize("depth", [False, True])
@pytest.mark.parametrize("alignment", ["moshi", "miniomni"])
@pytest.mark.parametrize("starts", [[0.01, 0.4, 0.9], [0.07, 0.3, 1.3], [0.1, 0.2, 0.3]])
def test_session_feeds_the_training_layout_and_decodes_the_training_frames(alignment, starts, depth):
    """Decoding and training agree step for step (no shift by one, delays and EOA as trained): greedy decoding
    of an oracle of one utterance's training streams reproduces its inputs and its codec frames."""
    from thinkspeak.model.talker import build_streams

    c = TalkerConfig(alignment=alignment, layers=1, d_model=32, heads=2, ffn=64)
    rng = np.random.default_rng(len(starts))
    codes = np.stack([rng.integers(0, s, 91) for s in c.codebook_sizes], axis=1)  # 1.82 s, odd frame count
    words = ["one", "twenty", "three."]
    s = build_streams(c, words, starts, codes)
    oracle = Oracle(c, s, depth)
    session = TalkerSession(oracle, get_codec(), options=TalkerOptions(temperature=0, max_tail_s=9, max_pause_s=9))
    pushed = []
    push = session._decoder.push
    session._decoder.push = lambda frames: (pushed.append(np.array(frames)), push(frames))[1]
    session.push_text(" ".join(words))
    session.end_text()
    list(session.stream())
    assert session.finished
    got = np.concatenate(pushed)
    assert got.shape == (92, 14) and (got[:91] == codes).all()  # the spare frame of the last step repeats
    assert [t for t, _, _ in oracle.seen] == list(range(len(oracle.seen)))
    for t, text_in, audio_in in oracle.seen:
        assert text_in == s.text[t], f"text slot at step {t}"
        assert (audio_in == s.audio[t]).all(), f"audio at step {t}"
    assert not oracle.bad_prefix


def test_guards_bound_pauses_and_the_end_of_a_talker_that_would_never_end():
    """A Talker that always waits (PAD) and never emits EOA: the pause guard starts each queued word, the tail
    guard ends the audio; without them it runs to max_seconds."""
    torch.manual_seed(0)
    c = TalkerConfig(layers=1, d_model=32, heads=2, ffn=64)
    stubborn = Talker(c)
    stubborn.text_head = torch.nn.Linear(c.d_model, c.text_vocab)
    stubborn.audio_head = torch.nn.Linear(c.d_model, sum(c.stream_sizes))
    for head in (stubborn.text_head, stubborn.audio_head):
        torch.nn.init.zeros_(head.weight)
        torch.nn.init.zeros_(head.bias)
    with torch.no_grad():
        stubborn.text_head.bias[0] = 5.0  # PAD
        stubborn.audio_head.bias[np.cumsum(c.stream_sizes) - 1] = -5.0  # every EOA
    text = "one two three."
    guarded = speak(stubborn, get_codec(), text, options=TalkerOptions(max_seconds=8.0))
    assert 0 < guarded.size / 8000 < 6.0
    unguarded = speak(stubborn, get_codec(), text, options=TalkerOptions(max_seconds=8.0, max_pause_s=100,
                                                                         max_tail_s=100))
    assert unguarded.size / 8000 > 7.5  # max_seconds counts steps, the delayed streams' last frames are cut
