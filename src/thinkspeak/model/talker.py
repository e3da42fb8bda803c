"""The token Talker: text in as it arrives, codec tokens out (issue 11).

A small causal transformer over time steps. Each step packs ``frames_per_step`` codec frames (Codec2's
50 Hz frames two at a time: 25 steps a second) and reads one *text slot* plus ``S = frames_per_step * K``
audio streams; the input is the SUM of the streams' embeddings (Moshi §3.4.1; Mini-Omni averages, the same up
to a scale), one linear head per stream (Mini-Omni §3.3's parallel heads, fused into one matrix). Audio
field ``k`` is delayed ``delays[k]`` steps behind the text (Mini-Omni's delayed layout: codebook ``i`` of
frame ``f`` sits at step ``f + delay``), which gives the streams of one frame an order (pitch and energy
before the spectrum) and the audio a short look ahead at the text.

Two text-to-audio alignments (``alignment``):

* ``moshi`` -- the text slot follows the words' start times (``layouts.moshi.align_text``: a word's
  characters from its start frame on, PAD between words, EPAD just before a word). The Talker predicts the
  slot too: at inference it chooses PAD (wait) or EPAD (the next queued word starts), so it times the words
  itself and can speak each word as soon as the word arrives.
* ``miniomni`` -- all text first (Mini-Omni §3.3): the characters one per step from step 0, then EOT and
  PAD; the audio follows, delayed; no timing targets (the text is given, the slot is not predicted).

Text tokens are characters (:mod:`thinkspeak.text.speakable`), so the Talker does not depend on one
Thinker's tokenizer (conditioning on text keeps it valid when the Thinker is retrained); ``cond_dim > 0`` adds
a projection of per-step Thinker hidden states (Mini-Omni-Reasoner §4's variant).

Streams of one step: Mini-Omni's parallel heads predict them independently given the step's state
(``depth = 0``). Codec2's fields are far from independent (ten LSP *differences* add up to one spectrum), so
``depth > 0`` adds Moshi's depth idea in its smallest form (Moshi §3.4.1, the Depth Transformer, here a
residual MLP of width ``depth``): stream ``j`` of a step is predicted from the step's state plus the
embeddings of streams ``0..j-1`` of the same step, so a step's fields are sampled one after another as a joint.
Training stays one parallel pass (the earlier streams are the targets: a prefix sum of their embeddings).

``audio_history = False`` drops the audio streams from the input: each step reads the text slot only (with
the delays' look-ahead), so free-running decoding sees exactly the inputs it was trained on; measured
better than feeding back its own codes on the small data of this project (docs/talker.md, "Diagnosis").
``input_noise`` (training only) moves a share of the input codes by one or two codes.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from thinkspeak.text.speakable import CHARSET

PAD, EPAD, EOT, SPACE = 0, 1, 2, 3
TEXT_SPECIALS = 4
ALIGNMENTS = ("moshi", "miniomni")


@dataclass(frozen=True)
class TalkerConfig:
    """Shape of a Talker and of its streams; ``codebook_sizes`` and ``frame_rate`` describe the codec."""

    codec: str = "codec2"
    codebook_sizes: tuple[int, ...] = (2, 2, 128, 32) + (32,) * 10
    frame_rate: float = 50.0
    frames_per_step: int = 2
    delays: tuple[int, ...] = (2, 2, 2, 2) + (3,) * 10
    alignment: str = "moshi"
    charset: str = CHARSET
    layers: int = 6
    d_model: int = 256
    heads: int = 4
    ffn: int = 768
    cond_dim: int = 0
    depth: int = 0
    input_noise: float = 0.0
    audio_history: bool = True
    trained_with: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "codebook_sizes", tuple(int(x) for x in self.codebook_sizes))
        object.__setattr__(self, "delays", tuple(int(x) for x in self.delays))
        if not self.codebook_sizes or any(s < 1 for s in self.codebook_sizes):
            raise ValueError(f"codebook_sizes must be a non-empty list of sizes >= 1, got {self.codebook_sizes}")
        if len(self.delays) != len(self.codebook_sizes) or any(d < 1 for d in self.delays):
            raise ValueError(f"delays must give one delay >= 1 per codebook ({len(self.codebook_sizes)}), "
                             f"got {self.delays}")
        if self.alignment not in ALIGNMENTS:
            raise ValueError(f"alignment must be one of {list(ALIGNMENTS)}, got {self.alignment!r}")
        if not 0 <= self.input_noise < 1:
            raise ValueError(f"input_noise must be a probability in [0, 1), got {self.input_noise!r}")
        if not isinstance(self.depth, int) or self.depth < 0:
            raise ValueError(f"depth must be an int >= 0 (0: parallel heads), got {self.depth!r}")
        for name in ("frames_per_step", "layers", "d_model", "heads", "ffn"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be an int >= 1, got {getattr(self, name)!r}")
        if self.d_model % self.heads or (self.d_model // self.heads) % 2:
            raise ValueError(f"d_model ({self.d_model}) must be a multiple of 2 * heads ({self.heads})")

    @property
    def step_rate(self) -> float:
        return self.frame_rate / self.frames_per_step

    @property
    def stream_sizes(self) -> tuple[int, ...]:
        """Vocabulary of each audio stream: the codebook plus PAD_A (= size) and EOA (= size + 1)."""
        return tuple(s + 2 for s in self.codebook_sizes) * self.frames_per_step

    @property
    def stream_delays(self) -> tuple[int, ...]:
        return self.delays * self.frames_per_step

    @property
    def text_vocab(self) -> int:
        return TEXT_SPECIALS + len(self.charset)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict, where: str = "talker config") -> TalkerConfig:
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"{where} has unknown key(s) {unknown}; allowed: {sorted(known)}")
        return cls(**data)


def encode_word(word: str, charset: str = CHARSET) -> list[int]:
    """Character tokens of one word; ValueError names any character outside ``charset``."""
    bad = sorted({c for c in word if c not in charset})
    if bad or not word:
        raise ValueError(f"word must be non-empty text in the Talker's characters, got {word!r} (bad: {bad})")
    return [TEXT_SPECIALS + charset.index(c) for c in word]


@dataclass
class Streams:
    """One training example: ``text [T]``, ``audio [T, S]`` inputs and the audio loss mask ``[T, S]``."""

    text: np.ndarray
    audio: np.ndarray
    audio_mask: np.ndarray


def build_streams(config: TalkerConfig, words: list[str], starts: list[float], codes: np.ndarray) -> Streams:
    """The Talker's streams for one utterance (``codes [frames, K]`` at the codec frame rate).

    Audio: frames packed ``frames_per_step`` to a step, then one EOA step; field ``k`` delayed
    ``delays[k]`` steps (PAD_A before). Text: see the module docstring; EOT is queued after the last word
    (``moshi``: at the last word's start, queued behind it, so the Talker learns that the text has ended).
    ``moshi`` moves the words' times by less than one step so that the first word starts at step 1 after an
    EPAD at step 0: a session starts its first word that way as soon as it has one.
    """
    from thinkspeak.layouts.moshi import align_text

    fps, k = config.frames_per_step, len(config.codebook_sizes)
    frames = -(-len(codes) // fps) * fps
    packed = np.full((frames, k), 0, dtype=np.int64)
    packed[:len(codes)] = codes
    if frames > len(codes):  # the last step's spare frame repeats the final frame (silence at utterance end)
        packed[len(codes):] = codes[-1] if len(codes) else 0
    steps_a = frames // fps
    audio_steps = packed.reshape(steps_a, fps * k)
    eoa = np.array(config.stream_sizes) - 1
    audio_steps = np.vstack([audio_steps, eoa[None]])  # the EOA step
    delays = np.array(config.stream_delays)
    t_audio = steps_a + 1 + int(delays.max())
    tokens = [encode_word(w, config.charset) for w in words]
    if config.alignment == "moshi":
        rate = config.step_rate
        if starts:  # the first word starts at step 1, after the EPAD a session opens with (decoding's layout)
            shift = (1 - math.floor(round(starts[0] * rate, 9))) / rate
            starts = [s + shift for s in starts]
        queued = [(tok, s, s) for tok, s in zip(tokens, starts, strict=True)]
        if words:
            queued.append(([EOT], starts[-1], starts[-1]))
        n_text = sum(len(t) for t in tokens) + 2
        length = max(t_audio, int(math.ceil(max(starts, default=0) * rate)) + n_text)
        text = np.array(align_text(queued, duration=length / rate, frame_rate=rate, pad=PAD, epad=EPAD))
    else:
        flat = [t for i, tok in enumerate(tokens) for t in ([SPACE] if i else []) + tok] + [EOT]
        text = np.array(flat, dtype=np.int64)
    T = max(t_audio, len(text))
    text = np.concatenate([text, np.full(T - len(text), PAD)]).astype(np.int64)
    pad_a = eoa - 1
    audio = np.tile(pad_a, (T, 1))
    mask = np.zeros((T, len(delays)), dtype=bool)
    for s, d in enumerate(delays):
        audio[d:d + steps_a + 1, s] = audio_steps[:, s]
        mask[d:d + steps_a + 1, s] = True
    return Streams(text, audio, mask)


class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope(x: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
    """Rotary positions (RoFormer) on ``x [B, H, T, D]`` at positions ``pos [T]``."""
    d = x.shape[-1] // 2
    inv = 1.0 / (10000 ** (torch.arange(d, device=x.device, dtype=torch.float32) / d))
    ang = pos.float()[:, None] * inv[None]
    cos, sin = ang.cos().to(x.dtype), ang.sin().to(x.dtype)
    x1, x2 = x[..., :d], x[..., d:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


class Block(nn.Module):
    def __init__(self, c: TalkerConfig):
        super().__init__()
        self.heads = c.heads
        self.norm1, self.norm2 = RMSNorm(c.d_model), RMSNorm(c.d_model)
        self.qkv = nn.Linear(c.d_model, 3 * c.d_model, bias=False)
        self.out = nn.Linear(c.d_model, c.d_model, bias=False)
        self.up = nn.Linear(c.d_model, 2 * c.ffn, bias=False)
        self.down = nn.Linear(c.ffn, c.d_model, bias=False)

    def forward(self, x: torch.Tensor, pos: torch.Tensor, cache: list | None) -> torch.Tensor:
        B, T, D = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(B, T, 3, self.heads, D // self.heads).permute(2, 0, 3, 1, 4)
        q, k = rope(q, pos), rope(k, pos)
        if cache is not None:
            if cache:
                k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
            cache[:] = [k, v]
        att = F.scaled_dot_product_attention(q, k, v, is_causal=T > 1)
        x = x + self.out(att.transpose(1, 2).reshape(B, T, D))
        gate, up = self.up(self.norm2(x)).chunk(2, -1)
        return x + self.down(F.silu(gate) * up)


class DepthMLP(nn.Module):
    """Stream ``j`` of a step: ``z = norm(g + W2 silu(W1 norm(g)))``, ``g = h + pos[j] + sum_{i<j} emb[x_i]``."""

    def __init__(self, c: TalkerConfig):
        super().__init__()
        self.emb = nn.Embedding(sum(c.stream_sizes), c.d_model)
        self.pos = nn.Parameter(torch.zeros(len(c.stream_sizes), c.d_model))
        self.norm_in, self.norm_out = RMSNorm(c.d_model), RMSNorm(c.d_model)
        self.up = nn.Linear(c.d_model, c.depth, bias=False)
        self.down = nn.Linear(c.depth, c.d_model, bias=False)

    def prefix(self, columns: torch.Tensor) -> torch.Tensor:
        """``[B, T, S]`` fused-vocabulary columns -> exclusive prefix sums of their embeddings ``[B, T, S, d]``."""
        e = self.emb(columns)
        return e.cumsum(-2) - e

    def forward(self, g: torch.Tensor) -> torch.Tensor:
        return self.norm_out(g + self.down(F.silu(self.up(self.norm_in(g)))))


class Talker(nn.Module):
    """Streams in, next-step logits out: ``forward(text [B,T], audio [B,T,S]) -> (text [B,T,Vt], audio
    [B,T,sum(stream sizes)])``; with ``cache`` (a list from :meth:`new_cache`) it continues a sequence."""

    def __init__(self, config: TalkerConfig):
        super().__init__()
        self.config = config
        sizes = config.stream_sizes
        self.register_buffer("offsets", torch.tensor(np.cumsum((0,) + sizes[:-1]), dtype=torch.long),
                             persistent=False)
        self.text_emb = nn.Embedding(config.text_vocab, config.d_model)
        self.audio_emb = nn.EmbeddingBag(sum(sizes), config.d_model, mode="sum") if config.audio_history else None
        self.cond = nn.Linear(config.cond_dim, config.d_model) if config.cond_dim else None
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.layers))
        self.norm = RMSNorm(config.d_model)
        self.text_head = nn.Linear(config.d_model, config.text_vocab, bias=False)
        self.audio_head = nn.Linear(config.d_model, sum(sizes), bias=False)
        self.depth = DepthMLP(config) if config.depth else None
        self.apply(self._init)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, nn.Linear | nn.Embedding | nn.EmbeddingBag):
            nn.init.normal_(m.weight, std=0.02)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)

    def new_cache(self) -> list[list]:
        return [[] for _ in self.blocks]

    def forward(self, text: torch.Tensor, audio: torch.Tensor, cond: torch.Tensor | None = None,
                cache: list | None = None, start: int = 0, targets: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Text and audio logits of the next step; with a depth MLP the audio logits need the next step's
        ``targets [B, T, S]`` (teacher forcing; decoding calls :meth:`hidden` and :meth:`depth_logits`)."""
        h = self.hidden(text, audio, cond, cache, start)
        if self.depth is None:
            return self.text_head(h), self.audio_head(h)
        if targets is None:
            raise ValueError("a Talker with depth > 0 needs the next step's targets for its audio logits")
        z = self.depth(h.unsqueeze(-2) + self.depth.pos + self.depth.prefix(targets + self.offsets))
        heads = self.audio_head.weight.split(self.config.stream_sizes, dim=0)
        return self.text_head(h), torch.cat([z[..., j, :] @ w.T for j, w in enumerate(heads)], dim=-1)

    def fast_depth(self) -> FastDepth:
        """The depth MLP for decoding, one stream at a time (:class:`FastDepth`)."""
        return FastDepth(self)

    def hidden(self, text: torch.Tensor, audio: torch.Tensor, cond: torch.Tensor | None = None,
               cache: list | None = None, start: int = 0) -> torch.Tensor:
        """The final (normalised) state of every step ``[B, T, d]``."""
        B, T, S = audio.shape
        x = self.text_emb(text)
        if self.audio_emb is not None:
            x = x + self.audio_emb((audio + self.offsets).reshape(B * T, S)).view(B, T, -1)
        if self.cond is not None and cond is not None:
            x = x + self.cond(cond)
        pos = torch.arange(start, start + text.shape[1], device=text.device)
        for i, block in enumerate(self.blocks):
            x = block(x, pos, None if cache is None else cache[i])
        return self.norm(x)

    def split_audio(self, logits: torch.Tensor) -> list[torch.Tensor]:
        """The fused audio logits ``[..., sum(sizes)]`` as one tensor per stream."""
        return list(logits.split(self.config.stream_sizes, dim=-1))

    def save(self, folder: str | Path, dtype: torch.dtype = torch.float32) -> Path:
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        save_file({k: v.detach().to(dtype).contiguous() for k, v in self.state_dict().items()},
                  str(folder / "talker.safetensors"))
        (folder / "talker.json").write_text(json.dumps(self.config.to_dict(), indent=2) + "\n")
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> Talker:
        from safetensors.torch import load_file

        folder = Path(folder)
        cfg_path = folder / "talker.json"
        if not cfg_path.is_file() or not (folder / "talker.safetensors").is_file():
            raise ValueError(f"talker must be a folder with talker.json and talker.safetensors, got {str(folder)!r}")
        try:
            config = TalkerConfig.from_dict(json.loads(cfg_path.read_text()), where=str(cfg_path))
        except (TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{cfg_path} is not a valid Talker config: {exc}") from exc
        model = cls(config)
        state = {k: v.float() for k, v in load_file(str(folder / "talker.safetensors")).items()}
        model.load_state_dict(state)
        return model.eval()


class FastDepth:
    """A Talker's depth MLP for decoding, one stream at a time, in numpy (28 tiny steps per frame pair: torch's
    per-call overhead would cost more than the arithmetic); the norms' weights are folded into the matrices.
    ``g = start(h)``; then per stream ``logits(g, j)`` and ``g = push(g, j, code)``. Gives the logits of
    :meth:`Talker.forward` with the chosen codes as targets (tested)."""

    def __init__(self, talker: Talker) -> None:
        d = talker.depth
        f = {k: v.detach().float().numpy() for k, v in d.state_dict().items()}
        self.eps = d.norm_in.eps
        self.pos, self.emb = f["pos"], f["emb.weight"]
        self.up = (f["up.weight"] * f["norm_in.weight"][None]).T.copy()
        self.down = f["down.weight"].T.copy()
        head = talker.audio_head.weight.detach().float().numpy() * f["norm_out.weight"][None]
        self.heads = [w.T.copy() for w in np.split(head, np.cumsum(talker.config.stream_sizes)[:-1])]
        self.offsets = talker.offsets.numpy()

    def logits(self, g: np.ndarray, j: int) -> np.ndarray:
        u = (g / np.sqrt((g * g).mean() + self.eps)) @ self.up
        z = g + (u / (1.0 + np.exp(-u))) @ self.down
        return (z / np.sqrt((z * z).mean() + self.eps)) @ self.heads[j]

    def start(self, h: torch.Tensor) -> np.ndarray:
        return h.detach().float().numpy() + self.pos[0]

    def push(self, g: np.ndarray, j: int, code: int) -> np.ndarray:
        """The input of stream ``j + 1``: stream ``j``'s choice embedded, the next position."""
        return g + self.emb[self.offsets[j] + code] + self.pos[j + 1] - self.pos[j]
