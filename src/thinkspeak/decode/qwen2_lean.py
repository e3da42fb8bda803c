"""A lean Qwen2 forward pass over a preallocated KV cache, for fast incremental decoding.

At the Thinker's size (a few layers, d = 256-384, a 1-2k vocabulary) one decoding step is a few MFLOP, so
the wall time of ``transformers``' ``generate()`` is mostly per-step Python: cache objects, mask builders,
logits processors, output dataclasses. :class:`LeanQwen2` is the Qwen2 decoder (Qwen2 tech report §2.1:
pre-RMSNorm blocks, rotary position embeddings, grouped-query attention with q/k/v biases, SwiGLU MLP, tied
or untied output head) written as a short straight-line function that *reads the weights of a loaded*
``Qwen2ForCausalLM``; nothing is trained or stored here.

What makes it fast on a CPU:

* q, k and v come from one fused matrix product, gate and up from another (the fused weights are built
  once, at construction);
* rotary embeddings are one complex multiplication: the rows of the q and k projections are permuted so that
  the pairs ``(i, i + head_dim/2)`` that HF's ``rotate_half`` rotates together sit side by side. Attention
  scores are dot products over the head dimension, so permuting q and k identically changes nothing else;
* keys and values go into a :class:`KVCache` allocated once at its full length and written in place;
* attention is PyTorch's fused ``scaled_dot_product_attention`` with native grouped-query support, and a
  single query over a fully valid prefix needs no mask at all;
* only the last position goes through the output head unless all logits are asked for.

The weights are snapshotted when the object is built: rebuild it after changing the model's weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Qwen2Shape:
    """The dimensions of a Qwen2 decoder that the forward pass needs."""

    layers: int
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int
    rms_eps: float
    rope_theta: float

    @classmethod
    def from_config(cls, config) -> Qwen2Shape:
        """Read a ``Qwen2Config`` (transformers 4.x ``rope_theta`` or 5.x ``rope_parameters``)."""
        rope = dict(getattr(config, "rope_parameters", None) or {})
        scaling = getattr(config, "rope_scaling", None) or {}
        rope_type = rope.get("rope_type") or scaling.get("rope_type") or scaling.get("type") or "default"
        if rope_type != "default":
            raise ValueError(f"rope_type must be 'default' (plain RoPE), got {rope_type!r}")
        layer_types = getattr(config, "layer_types", None) or []
        if getattr(config, "use_sliding_window", False) and "sliding_attention" in layer_types:
            raise ValueError("use_sliding_window must be False: sliding-window attention is not implemented")
        heads = config.num_attention_heads
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
        if getattr(config, "hidden_act", "silu") != "silu":
            raise ValueError(f"hidden_act must be 'silu' (SwiGLU), got {config.hidden_act!r}")
        if head_dim % 2:
            raise ValueError(f"head_dim must be even for rotary embeddings, got {head_dim}")
        return cls(
            layers=config.num_hidden_layers,
            hidden=config.hidden_size,
            heads=heads,
            kv_heads=config.num_key_value_heads or heads,
            head_dim=head_dim,
            vocab=config.vocab_size,
            rms_eps=config.rms_norm_eps,
            rope_theta=float(rope.get("rope_theta", getattr(config, "rope_theta", 10000.0))),
        )


@dataclass(frozen=True)
class _Layer:
    """One decoder block's weights, transposed to ``[in, out]`` with the RMSNorm gains folded in."""

    qkv: torch.Tensor
    qkv_bias: torch.Tensor | None
    o: torch.Tensor
    gate_up: torch.Tensor
    down: torch.Tensor


def _pair_rotated_halves(w: torch.Tensor, n_heads: int, head_dim: int) -> torch.Tensor:
    """Reorder each head's output rows from ``[x_0..x_{h-1}, y_0..y_{h-1}]`` to ``[x_0, y_0, x_1, y_1, ...]``."""
    half = head_dim // 2
    return w.reshape(n_heads, 2, half, *w.shape[1:]).transpose(1, 2).reshape(w.shape)


class KVCache:
    """Keys and values of every layer, ``[layers, batch, kv_heads, max_len, head_dim]``, written in place.

    ``length`` columns are filled. Rows of a batch share columns; with left padding (:meth:`left_pad`) each
    row has its own offset, so its token positions are ``column - offset`` and its padded columns are never
    attended to.
    """

    def __init__(self, engine: LeanQwen2, batch: int, max_len: int):
        if not isinstance(batch, int) or batch < 1:
            raise ValueError(f"batch must be an int >= 1, got {batch!r}")
        if not isinstance(max_len, int) or max_len < 1:
            raise ValueError(f"max_len must be an int >= 1, got {max_len!r}")
        s = engine.shape
        size = (s.layers, batch, s.kv_heads, max_len, s.head_dim)
        self.k = torch.empty(size, dtype=engine.dtype, device=engine.device)  # columns are read only once written
        self.v = torch.empty(size, dtype=engine.dtype, device=engine.device)
        self.batch, self.max_len = batch, max_len
        self.rope = engine.rope_table(max_len)
        self.length = 0
        self.offsets: torch.Tensor | None = None
        self.key_valid: torch.Tensor | None = None

    def left_pad(self, lengths: list[int]) -> int:
        """Declare per-row prompt lengths of a left-padded batch; returns the padded prompt length."""
        if len(lengths) != self.batch or any(n < 1 for n in lengths):
            raise ValueError(f"lengths must be {self.batch} ints >= 1, got {lengths!r}")
        width = max(lengths)
        pads = [width - n for n in lengths]
        if any(pads):
            device = self.k.device
            self.offsets = torch.tensor(pads, device=device)
            self.key_valid = torch.arange(self.max_len, device=device)[None, :] >= self.offsets[:, None]
        return width


class LeanQwen2:
    """Incremental Qwen2 forward over a :class:`KVCache`, reading the weights of a ``Qwen2ForCausalLM``."""

    def __init__(self, model):
        self.shape = s = Qwen2Shape.from_config(model.config)
        base = model.model
        self.embed_weight = base.embed_tokens.weight.detach()
        self.dtype, self.device = self.embed_weight.dtype, self.embed_weight.device
        self.head = _folded(model.lm_head.weight, base.norm.weight)
        self.layers = [self._fuse(layer) for layer in base.layers]
        self._rope = torch.empty(0, s.head_dim // 2, dtype=torch.complex64, device=self.device)

    def _fuse(self, layer) -> _Layer:
        s = self.shape
        attn, mlp = layer.self_attn, layer.mlp
        q = _pair_rotated_halves(attn.q_proj.weight.detach(), s.heads, s.head_dim)
        k = _pair_rotated_halves(attn.k_proj.weight.detach(), s.kv_heads, s.head_dim)
        biases = [
            None if attn.q_proj.bias is None else _pair_rotated_halves(attn.q_proj.bias.detach(), s.heads, s.head_dim),
            None if attn.k_proj.bias is None else _pair_rotated_halves(attn.k_proj.bias.detach(), s.kv_heads, s.head_dim),
            None if attn.v_proj.bias is None else attn.v_proj.bias.detach(),
        ]
        sizes = (q.shape[0], k.shape[0], attn.v_proj.weight.shape[0])
        qkv_bias = None
        if any(b is not None for b in biases):
            qkv_bias = torch.cat([torch.zeros(n, dtype=self.dtype, device=self.device) if b is None else b
                                  for b, n in zip(biases, sizes, strict=True)])
        return _Layer(
            qkv=_folded(torch.cat([q, k, attn.v_proj.weight.detach()]), layer.input_layernorm.weight),
            qkv_bias=qkv_bias,
            o=attn.o_proj.weight.detach().t().contiguous(),
            gate_up=_folded(torch.cat([mlp.gate_proj.weight, mlp.up_proj.weight]), layer.post_attention_layernorm.weight),
            down=mlp.down_proj.weight.detach().t().contiguous(),
        )

    def rope_table(self, length: int) -> torch.Tensor:
        """``exp(i * position * inv_freq)`` for positions ``0..length-1``, complex ``[length, head_dim/2]``."""
        if self._rope.shape[0] < length:
            s = self.shape
            inv_freq = 1.0 / (s.rope_theta ** (torch.arange(0, s.head_dim, 2, dtype=torch.float32) / s.head_dim))
            angles = torch.outer(torch.arange(length, dtype=torch.float32), inv_freq)
            self._rope = torch.polar(torch.ones_like(angles), angles).to(self.device)
        return self._rope[:length]

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        """Token embeddings ``[..., hidden]`` of token ids."""
        return F.embedding(ids, self.embed_weight)

    @torch.inference_mode()
    def forward(self, x: torch.Tensor, cache: KVCache, *, all_logits: bool = False) -> torch.Tensor:
        """Run ``x`` (embeddings ``[batch, T, hidden]``) after the ``cache.length`` cached columns.

        Appends the T new keys/values to the cache and returns the logits of the last position
        ``[batch, vocab]`` (or of every position, ``[batch, T, vocab]``, with ``all_logits``).
        """
        s = self.shape
        b, t, _ = x.shape
        start, end = cache.length, cache.length + t
        if end > cache.max_len:
            raise ValueError(f"the KV cache holds {cache.max_len} positions; {end} are needed")
        if b != cache.batch:
            raise ValueError(f"x has batch {b} but the cache was built for batch {cache.batch}")
        if cache.offsets is None:
            rope = cache.rope[start:end, None, :]
        else:
            positions = (torch.arange(start, end, device=x.device)[None, :] - cache.offsets[:, None]).clamp_(min=0)
            rope = cache.rope[positions].unsqueeze(2)
        mask = self._mask(cache, start, end)
        n_qk, hd, d = s.heads + s.kv_heads, s.head_dim, s.hidden
        h = x.reshape(b * t, d).to(self.dtype)
        for layer, k_cache, v_cache in zip(self.layers, cache.k, cache.v, strict=True):
            a = F.rms_norm(h, (d,), None, s.rms_eps)
            qkv = (torch.mm(a, layer.qkv) if layer.qkv_bias is None else torch.addmm(layer.qkv_bias, a, layer.qkv))
            qkv = qkv.view(b, t, n_qk + s.kv_heads, hd)
            self._rotate_(qkv[:, :, :n_qk], rope)
            k_cache[:, :, start:end] = qkv[:, :, s.heads : n_qk].transpose(1, 2)
            v_cache[:, :, start:end] = qkv[:, :, n_qk:].transpose(1, 2)
            att = F.scaled_dot_product_attention(
                qkv[:, :, : s.heads].transpose(1, 2),
                k_cache[:, :, :end],
                v_cache[:, :, :end],
                attn_mask=mask,
                scale=hd**-0.5,
                enable_gqa=s.heads != s.kv_heads,
            )
            h = torch.addmm(h, att.transpose(1, 2).reshape(b * t, s.heads * hd), layer.o)
            gate, up = torch.mm(F.rms_norm(h, (d,), None, s.rms_eps), layer.gate_up).chunk(2, -1)
            h = torch.addmm(h, F.silu(gate).mul_(up), layer.down)
        cache.length = end
        h = h.view(b, t, d)
        if not all_logits:
            h = h[:, -1]
        return torch.matmul(F.rms_norm(h, (d,), None, s.rms_eps), self.head)

    def _rotate_(self, x: torch.Tensor, rope: torch.Tensor) -> None:
        """Rotary embedding of ``x`` ``[b, t, heads, head_dim]`` (pairs adjacent), in place, as a complex product."""
        if self.dtype == torch.float32:
            torch.view_as_complex(x.unflatten(-1, (-1, 2))).mul_(rope)
        else:
            x.copy_(torch.view_as_real(torch.view_as_complex(x.float().unflatten(-1, (-1, 2))) * rope).flatten(-2))

    @staticmethod
    def _mask(cache: KVCache, start: int, end: int) -> torch.Tensor | None:
        """Boolean attention mask (True = attend), or None when every query may see every key."""
        t, device = end - start, cache.k.device
        if cache.key_valid is None:
            return None if t == 1 else torch.ones(t, end, dtype=torch.bool, device=device).tril_(start)
        mask = cache.key_valid[:, None, None, :end]
        if t == 1:
            return mask
        causal = torch.ones(t, end, dtype=torch.bool, device=device).tril_(start)
        # A padded query sees no valid key; letting it see itself keeps softmax finite (its output is unused).
        itself = torch.arange(end, device=device)[None, :] == torch.arange(start, end, device=device)[:, None]
        return (mask & causal) | itself


def _folded(weight: torch.Tensor, norm_gain: torch.Tensor) -> torch.Tensor:
    """``[out, in]`` weight preceded by an RMSNorm gain -> one ``[in, out]`` matrix: ``(x * g) W^T = x (g * W^T)``."""
    return (weight.detach() * norm_gain.detach()[None, :]).t().contiguous()
