"""A deterministic bag-of-words embedder for testing the index and search mechanics without the model."""

import hashlib
import re

import numpy as np
import pytest


class WordsEmbedder:
    name = "test/bag-of-words"
    dim = 256

    def encode(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1
            out[i] /= max(np.linalg.norm(out[i]), 1e-9)
        return out


@pytest.fixture
def words_embedder():
    return WordsEmbedder()
