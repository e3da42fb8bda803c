"""Mimi and SNAC from local folders, with tiny random models built here (no downloads)."""

import json

import numpy as np
import pytest
import torch

from thinkspeak.codecs import get_codec


def tone(seconds, rate):
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


@pytest.fixture(scope="module")
def mimi_dir(tmp_path_factory):
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.MimiConfig(hidden_size=32, num_filters=8, num_hidden_layers=1, num_attention_heads=2,
                                     num_key_value_heads=2, head_dim=16, intermediate_size=64, codebook_size=32,
                                     codebook_dim=16, num_quantizers=4, num_semantic_quantizers=1,
                                     upsampling_ratios=[8, 6, 5, 4], sliding_window=16,
                                     upsample_groups=32, vector_quantization_hidden_dimension=16)
    folder = tmp_path_factory.mktemp("mimi")
    transformers.MimiModel(config).save_pretrained(folder)
    return folder


def test_mimi_encodes_and_streams_like_batch(mimi_dir):
    codec = get_codec(f"mimi:{mimi_dir}")
    assert codec.info.frame_rate == 12.5 and codec.codebook_sizes == (32,) * 4
    codes = codec.encode(tone(0.8, 24000), 24000)
    assert codes.shape == (10, 4) and codes.min() >= 0 and codes.max() < 32
    batch = codec.decode(codes)
    dec = codec.stream_decoder()
    parts = [dec.push(codes[i:i + 3]) for i in range(0, len(codes), 3)] + [dec.flush()]
    assert parts[0].size == 3 * 1920  # causal: audio for every frame at once
    np.testing.assert_allclose(np.concatenate(parts), batch, atol=1e-4)


def test_mimi_wrong_config_names_file_and_field(tmp_path, mimi_dir):
    (tmp_path / "config.json").write_text(json.dumps({**json.loads((mimi_dir / "config.json").read_text()),
                                                      "model_type": "encodec"}))
    with pytest.raises(ValueError, match=r"config.json: field 'model_type' must be 'mimi'"):
        get_codec(f"mimi:{tmp_path}")
    with pytest.raises(ValueError, match="must contain config.json"):
        get_codec(f"mimi:{tmp_path / 'none'}")


@pytest.fixture(scope="module")
def snac_dir(tmp_path_factory):
    snac = pytest.importorskip("snac")
    torch.manual_seed(0)
    kwargs = dict(sampling_rate=24000, encoder_dim=8, encoder_rates=[2, 4], decoder_dim=32, decoder_rates=[4, 2],
                  attn_window_size=None, codebook_size=64, codebook_dim=4, vq_strides=[4, 2, 1], noise=False,
                  depthwise=True)
    folder = tmp_path_factory.mktemp("snac")
    torch.save(snac.SNAC(**kwargs).state_dict(), folder / "pytorch_model.bin")
    (folder / "config.json").write_text(json.dumps(kwargs))
    return folder


def test_snac_frames_are_miniomni_7_token_frames(snac_dir):
    codec = get_codec(f"snac:{snac_dir}")
    assert codec.codebook_sizes == (64,) * 7 and codec.info.frame_rate == 24000 / 32
    x = tone(0.2, 24000)
    codes = codec.encode(x, 24000)
    assert codes.shape[1] == 7 and len(codes) == 150
    batch = codec.decode(codes)
    assert batch.shape == (len(codes) * 32,)
    dec = codec.stream_decoder()
    out = np.concatenate([dec.push(codes[i:i + 4]) for i in range(0, len(codes), 4)] + [dec.flush()])
    assert out.shape == batch.shape  # not bit-equal: SNAC is not causal (chunks with left context)


def test_snac_wrong_config_names_file_and_field(tmp_path, snac_dir):
    cfg = json.loads((snac_dir / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**cfg, "vq_strides": [8, 4, 2, 1]}))
    with pytest.raises(ValueError, match=r"config.json: field 'vq_strides' must be \[4, 2, 1\]"):
        get_codec(f"snac:{tmp_path}")
    (tmp_path / "config.json").write_text(json.dumps({k: v for k, v in cfg.items() if k != "codebook_size"}))
    with pytest.raises(ValueError, match="field 'codebook_size' is missing"):
        get_codec(f"snac:{tmp_path}")
