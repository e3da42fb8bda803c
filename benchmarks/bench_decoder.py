"""Decoder speed on one model: transformers' generate() vs thinkspeak's streaming decoder.

    .venv/bin/python benchmarks/bench_decoder.py [--model PATH] [--steps 256] [--repeats 7] [--threads 1]

Rows (median over ``--repeats`` runs, the methods interleaved run by run so machine load hits all alike):

* ``generate()``: ``Qwen2ForCausalLM.generate`` on the same 'tis' prompt, greedy, KV cache, at most ``--steps``
  new tokens (it stops at ``<|end|>`` like the decoder);
* ``decoder, unconstrained``: TiSDecoder in 'no-think' mode (no masks; the lean forward + event plumbing);
* ``decoder, step by step``: TiSDecoder in 'tis' mode with one forward pass per token (forced pads included);
* ``decoder, forced runs``: TiSDecoder in 'tis' mode feeding each run of forced think pads in one forward;
* ``decoder, batch-parallel``: 'tis' with Mini-Omni-style batch-parallel decoding (a think-first row supplies
  the reasoning; two rows per step, only the spoken stream's tokens counted);
* ``batched, B=n``: n different questions decoded together in 'tis' mode, one forward per step (all rows'
  tokens counted).

tokens/s = generated stream tokens (pads included) / wall time of the whole call, prompt pass included.
The model is ``--model``, else the shipped default, else a random Thinker of the default's size (said so in
the output; a random model seldom ends its reasoning, so forced runs then hardly ever happen).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import torch

from thinkspeak.decode import Request, TiSDecoder
from thinkspeak.model import Thinker

QUESTIONS = [
    "What is 12 times 7?",
    "Tom has 23 apples and gives away 9. How many are left?",
    "A train travels 60 miles per hour for 3 hours. How far does it go?",
    "What is 144 divided by 12?",
    "Sara buys 4 pens at 3 dollars each and a book for 11 dollars. How much does she spend?",
    "What is 45 plus 38?",
    "If 5 boxes hold 40 cookies, how many cookies are in 8 boxes?",
    "What is 1000 minus 256?",
]


def load_model(path: str | None) -> tuple[Thinker, str]:
    """The Thinker to measure and how to describe it."""
    if path is not None:
        return Thinker.load(path), f"model at {path}"
    try:
        return Thinker.load(None), "shipped default Thinker"
    except ValueError:
        return random_default_size(), "RANDOM Thinker of the default size (no shipped default found)"


def random_default_size() -> Thinker:
    """A random Thinker shaped like the default recipe's model, with a BPE of its vocabulary size trained on
    random pseudo-words."""
    from thinkspeak.model import BackboneShape
    from thinkspeak.model.tokenizer import train_tokenizer
    from thinkspeak.train.recipe import load_recipe

    m = load_recipe("default").model
    shape = BackboneShape(layers=m.layers, d_model=m.d_model, heads=m.heads, kv_heads=m.kv_heads, ffn=m.ffn,
                          max_positions=m.max_positions)
    rng = random.Random(0)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) for _ in range(3000)]
    texts = [" ".join(rng.choice(words) for _ in range(20)) for _ in range(2000)] + QUESTIONS
    return Thinker.build(train_tokenizer(texts, vocab_size=m.vocab_size), shape, seed=0).eval()


def time_generate(thinker: Thinker, question: str, steps: int) -> float:
    ids = torch.tensor([thinker.prompt_ids(question, "tis")])
    start = time.perf_counter()
    with torch.inference_mode():
        out = thinker.model.generate(ids, max_new_tokens=steps, do_sample=False, use_cache=True,
                                     pad_token_id=thinker.ids.pad, eos_token_id=thinker.ids.end)
    return (out.shape[1] - ids.shape[1]) / (time.perf_counter() - start)


def time_decoder(decoder: TiSDecoder, question: str) -> float:
    start = time.perf_counter()
    done = decoder.answer(text=question)
    return done.stats.steps / (time.perf_counter() - start)


def time_batch(decoder: TiSDecoder, questions: list[str]) -> float:
    start = time.perf_counter()
    dones = decoder.answer_batch([Request(text=q) for q in questions])
    return sum(d.stats.steps for d in dones) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="Thinker folder (default: shipped default, else random)")
    parser.add_argument("--steps", type=int, default=256, help="stream length per call (default 256)")
    parser.add_argument("--repeats", type=int, default=7, help="runs per method (default 7)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads for every method (default 1, as `thinkspeak ask`)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    thinker, label = load_model(args.model)
    n_params = sum(p.numel() for p in thinker.model.parameters()) / 1e6
    cfg = thinker.model.config
    print(f"{label}: {cfg.num_hidden_layers} layers, d={cfg.hidden_size}, vocab {cfg.vocab_size}, "
          f"{n_params:.1f}M parameters; {torch.get_num_threads()} torch threads; {args.steps} steps per call")

    def decoder(**kw) -> TiSDecoder:
        return TiSDecoder(thinker, p=thinker.config.p, q=thinker.config.q, max_steps=args.steps, **kw)

    free, stepwise, chunked = decoder(mode="no-think"), decoder(forced_runs=False), decoder()
    paired = decoder(batch_parallel=True)
    methods = {
        "generate() (transformers, greedy, KV cache)": lambda q: time_generate(thinker, q, args.steps),
        "decoder, unconstrained ('no-think')": lambda q: time_decoder(free, q),
        "decoder, 'tis', step by step": lambda q: time_decoder(stepwise, q),
        "decoder, 'tis', forced runs": lambda q: time_decoder(chunked, q),
        "decoder, 'tis', batch-parallel": lambda q: time_decoder(paired, q),
    }
    batched = {b: (lambda qs: time_batch(chunked, qs)) for b in (1, 2, 4, 8)}
    results: dict[str, list[float]] = {name: [] for name in [*methods, *(f"batched 'tis', B={b}" for b in batched)]}
    for run in methods.values():  # warm-up
        run(QUESTIONS[0])
    for r in range(args.repeats):
        question = QUESTIONS[r % len(QUESTIONS)]
        for name, run in methods.items():
            results[name].append(run(question))
        for b, run in batched.items():
            results[f"batched 'tis', B={b}"].append(run([QUESTIONS[(r + i) % len(QUESTIONS)] for i in range(b)]))
    base = statistics.median(results[next(iter(methods))])
    print(f"\n{'method':48s} {'tokens/s (median)':>18s} {'min':>8s} {'max':>8s} {'x generate()':>13s}")
    for name, values in results.items():
        median = statistics.median(values)
        print(f"{name:48s} {median:18.0f} {min(values):8.0f} {max(values):8.0f} {median / base:13.2f}")


if __name__ == "__main__":
    main()
