"""``thinkspeak index``: retrieval indexes for the ``retrieve`` tool (issue 12).

    thinkspeak index build PATH... --out DIR [--max-words N] [--overlap N]
    thinkspeak index facts [--out DIR]          rebuild the shipped fact-base index
    thinkspeak index query DIR "legs of a spider" [-k 5]

Files are text or Markdown (folders are searched recursively), chunked into passages and embedded with the
bundled all-MiniLM-L6-v2 (no download); DIR holds index.json, passages.jsonl and vectors.npy.
"""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("index", help="build and query retrieval indexes for the retrieve tool")
    sub = parser.add_subparsers(dest="index_command", required=True, metavar="INDEX")
    build = sub.add_parser("build", help="chunk and embed text/Markdown files into an index folder")
    build.add_argument("paths", nargs="+", metavar="PATH", help="text or Markdown files, or folders of them")
    build.add_argument("--out", required=True, metavar="DIR", help="index folder to write")
    build.add_argument("--max-words", type=int, default=120, help="longest passage in words (default 120)")
    build.add_argument("--overlap", type=int, default=20, help="words repeated between cut passages (default 20)")
    build.set_defaults(func=_build)
    facts = sub.add_parser("facts", help="rebuild the index of the shipped fact base")
    facts.add_argument("--out", default=None, metavar="DIR", help="index folder (default: the shipped one)")
    facts.set_defaults(func=_facts)
    query = sub.add_parser("query", help="print the passages of an index nearest to a query")
    query.add_argument("index", metavar="DIR")
    query.add_argument("query")
    query.add_argument("-k", type=int, default=5, help="passages to print (default 5)")
    query.set_defaults(func=_query)


def _build(args: argparse.Namespace) -> int:
    from thinkspeak.tools.embed import default_embedder
    from thinkspeak.tools.index import PassageIndex, collect_files

    collect_files(args.paths)  # bad paths fail before the embedder loads
    index = PassageIndex.from_files(args.paths, default_embedder(), max_words=args.max_words, overlap=args.overlap)
    index.save(args.out)
    print(json.dumps({"out": args.out, "passages": len(index.passages), "embedding_model": index.model}))
    return 0


def _facts(args: argparse.Namespace) -> int:
    from thinkspeak.tools.embed import default_embedder
    from thinkspeak.tools.facts import FACTS_INDEX, build_facts_index

    index = build_facts_index(default_embedder())
    index.save(args.out or FACTS_INDEX)
    print(json.dumps({"out": str(args.out or FACTS_INDEX), "passages": len(index.passages)}))
    return 0


def _query(args: argparse.Namespace) -> int:
    from thinkspeak.tools.embed import default_embedder
    from thinkspeak.tools.index import PassageIndex

    for hit in PassageIndex.load(args.index, default_embedder()).search(args.query, args.k):
        print(f"{hit.score:.3f}  {hit.text}  ({hit.source})")
    return 0
