"""Measure training tokens/s of a recipe's model shape, fp32 vs bf16 autocast, on this machine.

``python -m thinkspeak.train.throughput --recipe default [--batch 32 --length 200 --steps 5]`` prints the
median tokens/s of full training steps (forward, backward, AdamW) for each precision and their ratio
(baseline: fp32 in the same run). Random tokens: the speed does not depend on the data.
"""

from __future__ import annotations

import argparse
import statistics
import time


def measure(recipe_name: str, batch: int, length: int, steps: int) -> dict[str, float]:
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from thinkspeak.train.recipe import load_recipe

    m = load_recipe(recipe_name).model
    cfg = Qwen2Config(vocab_size=m.vocab_size, hidden_size=m.d_model, intermediate_size=m.ffn,
                      num_hidden_layers=m.layers, num_attention_heads=m.heads, num_key_value_heads=m.kv_heads,
                      tie_word_embeddings=True)
    precisions = ["fp32"]
    if torch.cuda.is_available() or torch.ops.mkldnn._is_mkldnn_bf16_supported():
        precisions.append("bf16")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    out = {}
    for precision in precisions:
        torch.manual_seed(0)
        model = Qwen2ForCausalLM(cfg).to(device)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
        x = torch.randint(0, m.vocab_size, (batch, length), device=device)
        rates = []
        for i in range(steps + 1):
            t = time.perf_counter()
            with torch.autocast(device, dtype=torch.bfloat16, enabled=precision == "bf16"):
                loss = model(input_ids=x, labels=x).loss
            loss.backward()
            opt.step()
            opt.zero_grad()
            if device == "cuda":
                torch.cuda.synchronize()
            if i:  # the first step warms up kernels and allocations
                rates.append(batch * length / (time.perf_counter() - t))
        out[precision] = statistics.median(rates)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="default")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=200)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    rates = measure(args.recipe, args.batch, args.length, args.steps)
    for name, rate in rates.items():
        print(f"{name}: {rate:,.0f} tokens/s (median of {args.steps} steps, batch {args.batch} x {args.length})")
    if "bf16" in rates:
        print(f"bf16 / fp32 = {rates['bf16'] / rates['fp32']:.2f}x")


if __name__ == "__main__":
    main()
