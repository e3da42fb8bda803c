"""Retrieval on the shipped fact base: recall@1 / recall@5 and speed, all-MiniLM-L6-v2 vs TF-IDF (issue 12).

    .venv/bin/python benchmarks/bench_retrieval.py [--repeats 3]

Labelled set: every fact of ``assets/facts/facts.tsv`` asked two ways, the query a tool trace writes
("legs of a spider", :attr:`Fact.query`) and a question a person asks ("How many legs does a spider have?");
a query is recalled at k when its fact's sentence is among the k passages returned. Methods on the same
passages: the shipped index (all-MiniLM-L6-v2 from its wheel, faiss inner product) and the named baseline,
TF-IDF word and bigram cosine (scikit-learn). Speed: median ms per query (embed + search) over ``--repeats``
passes, and the time to embed the whole fact base.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from thinkspeak.tools.embed import default_embedder
from thinkspeak.tools.facts import build_facts_index, facts_index, load_facts


def question(fact) -> str:
    if fact.relation == "has":
        return f"How many {fact.unit} does {fact.one} have?"
    return f"How many {fact.unit} are in {fact.one}?"


def recall(ranked: list[list[int]], truth: list[int], k: int) -> float:
    return sum(t in r[:k] for r, t in zip(ranked, truth, strict=True)) / len(truth)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    facts = load_facts()
    sentences = [f.sentence for f in facts]
    row = {s: i for i, s in enumerate(sentences)}
    embedder = default_embedder()
    t0 = time.perf_counter()
    build_facts_index(embedder)
    build_s = time.perf_counter() - t0
    index = facts_index(embedder)

    from sklearn.feature_extraction.text import TfidfVectorizer

    tfidf = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(sentences)
    matrix = tfidf.transform(sentences)
    print(f"{len(facts)} facts; embedding the fact base took {build_s:.2f} s\n")
    print(f"{'queries':10s} {'method':22s} {'recall@1':>9s} {'recall@5':>9s} {'ms/query':>9s}")
    for kind, queries in (("trace", [f.query for f in facts]), ("question", [question(f) for f in facts])):
        truth = list(range(len(facts)))
        times = {"all-MiniLM-L6-v2": [], "TF-IDF (baseline)": []}
        ranked = {}
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            ranked["all-MiniLM-L6-v2"] = [[row[h.text] for h in index.search(q, 5)] for q in queries]
            times["all-MiniLM-L6-v2"].append((time.perf_counter() - t0) / len(queries))
            t0 = time.perf_counter()
            sims = (tfidf.transform(queries) @ matrix.T).toarray()
            ranked["TF-IDF (baseline)"] = np.argsort(-sims, axis=1, kind="stable")[:, :5].tolist()
            times["TF-IDF (baseline)"].append((time.perf_counter() - t0) / len(queries))
        for method, r in ranked.items():
            print(f"{kind:10s} {method:22s} {recall(r, truth, 1):9.3f} {recall(r, truth, 5):9.3f} "
                  f"{1000 * statistics.median(times[method]):9.2f}")
    print("\n(recall over all facts; ms/query: median over the passes, one query at a time for MiniLM, a batch "
          "for TF-IDF)")


if __name__ == "__main__":
    main()
