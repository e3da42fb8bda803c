"""Pure sequence layouts of the seed systems (no torch, no numpy).

One module per system: ``miniomni`` (8-stream text-first delayed layout), ``interleave``
(thinking-in-speaking p:q stream), ``syncllm`` (time-chunked two-speaker units), ``omniflatten``
(flattened 4/3/2-stream full duplex) and ``moshi`` (inner-monologue text alignment). Each has an encoder,
a batch decoder and a streaming decoder. ``render`` turns any of them into a grid (rows = streams,
columns = steps) for ``thinkspeak layout``; it imports rich only when printing.
"""
