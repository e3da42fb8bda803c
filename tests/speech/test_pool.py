"""SynthesisPool: order, determinism, augmentation, worker processes."""

import numpy as np
import pytest

from parts import needs_espeak, needs_festival, needs_flite
from thinkspeak.speech.pool import SynthesisPool, SynthesisRequest, synthesize_request

pytestmark = [needs_espeak, needs_flite, needs_festival]

VOICES = ("espeak:en-us+m3:rate=170", "flite:kal16", "festival:kal")


def _requests(n: int) -> list[SynthesisRequest]:
    return [
        SynthesisRequest(
            f"What is {i} plus {i + 2}?",
            VOICES[i % 3],
            seed=i,
            noise_snr_db=(15.0 if i % 2 else None),
            reverb_rt60=(0.3 if i % 4 == 0 else None),
            noise_kind=("pink", "babble", "white")[i % 3],
        )
        for i in range(n)
    ]


def test_in_process_results_are_ordered_and_deterministic():
    requests = _requests(9)
    first = SynthesisPool(1).map(requests)
    again = SynthesisPool(1).map(requests)
    assert [r.voice for r in first] == ["espeak:en-us+m3:rate=170", "flite:kal16", "festival:kal"] * 3
    assert [r.engine for r in first] == ["espeak", "flite", "festival"] * 3
    for a, b, request in zip(first, again, requests, strict=True):
        assert a.sample_rate == 16000 and a.pcm.dtype == np.float32
        np.testing.assert_array_equal(a.pcm, b.pcm)
        clean = synthesize_request(SynthesisRequest(request.text, request.voice))
        assert a.pcm.size == clean.pcm.size
        assert np.array_equal(a.pcm, clean.pcm) == (
            request.noise_snr_db is None and request.reverb_rt60 is None
        )
    assert first[2].words is not None and first[0].words is None


def test_noise_is_added_at_the_requested_snr():
    request = SynthesisRequest(
        "Seven times six.", "flite:slt", seed=5, noise_snr_db=10.0, noise_kind="babble"
    )
    noisy = synthesize_request(request).pcm.astype(np.float64)
    clean = synthesize_request(SynthesisRequest(request.text, request.voice)).pcm.astype(np.float64)
    snr = 10 * np.log10(np.mean(clean**2) / np.mean((noisy - clean) ** 2))
    assert snr == pytest.approx(10.0, abs=0.01)


def test_seed_changes_only_the_augmentation():
    a, b = (
        synthesize_request(SynthesisRequest("Two plus two.", "flite:slt", seed=s, noise_snr_db=5.0))
        for s in (1, 2)
    )
    assert a.pcm.size == b.pcm.size and not np.array_equal(a.pcm, b.pcm)


@pytest.mark.slow
def test_worker_processes_match_in_process_results():
    requests = _requests(12)
    expected = SynthesisPool(1).map(requests)
    with SynthesisPool(2, batch_size=5) as pool:
        got = pool.map(requests)
        assert pool.map(requests[:2])[1].voice == "flite:kal16"
    assert [r.voice for r in got] == [r.voice for r in expected]
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a.pcm, b.pcm)
        assert a.words == b.words


def test_sample_rate_per_request():
    (result,) = SynthesisPool(1).map([SynthesisRequest("Hello.", "espeak:en-us", sample_rate=24000)])
    assert result.sample_rate == 24000


@pytest.mark.parametrize(
    ("request_", "match"),
    [
        (SynthesisRequest("", "flite:slt"), r"requests\[0\]\.text"),
        (SynthesisRequest("hi", "flite:slt", seed=-1), r"requests\[0\]\.seed"),
        (SynthesisRequest("hi", "flite:slt", noise_kind="brown"), "noise_kind"),
        (SynthesisRequest("hi", "flite:slt", sample_rate=0), "sample_rate"),
        (SynthesisRequest("hi", "flite:nobody"), "not a flite voice"),
    ],
)
def test_bad_requests_fail_before_any_work(request_, match):
    with pytest.raises(ValueError, match=match):
        SynthesisPool(1).map([request_])


def test_bad_pool_arguments():
    with pytest.raises(ValueError, match="workers"):
        SynthesisPool(0)
    with pytest.raises(ValueError, match="batch_size"):
        SynthesisPool(2, batch_size=0)
    with pytest.raises(ValueError, match="start_method"):
        SynthesisPool(2, start_method="threads")
