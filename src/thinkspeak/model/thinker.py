"""The Thinker: a Qwen2-architecture causal LM that hears through an audio adapter and thinks while it speaks.

* Backbone: ``transformers.Qwen2ForCausalLM``, so the small default trained here and any local Qwen2/Qwen2.5
  checkpoint folder load with the same code (Mini-Omni §3 uses Qwen2-0.5B; Mini-Omni-Reasoner's Thinker is
  Qwen2.5-Omni's).
* Hearing (Mini-Omni §3.1): Whisper encoder features -> :class:`~thinkspeak.model.adapter.AudioAdapter` ->
  embeddings written over the ``<|audio|>`` placeholder positions of the prompt.
* Prompt and target formats: see :mod:`thinkspeak.model.tokens`.

A folder saved by :meth:`Thinker.save` holds the HF files (``config.json``, ``model.safetensors``, tokenizer
files) plus ``thinker.json`` (interleave rhythm, adapter shape) and ``adapter.safetensors``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from thinkspeak.model.adapter import AdapterConfig, AudioAdapter, n_audio_positions
from thinkspeak.model.tokens import SpecialIds, ToolIds, check_mode

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "assets" / "thinker-default"
#: the default Thinker continued on tool-calling traces (issue 12; docs/tools.md): ``Thinker.load("tools")``
TOOLS_DIR = DEFAULT_DIR.parent / "thinker-tools"
#: names of the packaged Thinkers, accepted wherever a Thinker folder is (a local folder of that name wins)
SHIPPED = {"default": DEFAULT_DIR, "tools": TOOLS_DIR}
THINKER_FILE = "thinker.json"
ADAPTER_FILE = "adapter.safetensors"

History = Sequence[tuple[str, str]]


@dataclass
class ThinkerConfig:
    """What the Thinker adds to the HF config: the p:q rhythm it was trained with and its adapter shape."""

    p: int = 2
    q: int = 8
    adapter: AdapterConfig | None = field(default_factory=AdapterConfig)
    trained_with: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "p": self.p,
            "q": self.q,
            "adapter": None if self.adapter is None else self.adapter.to_dict(),
            "trained_with": self.trained_with,
        }

    @classmethod
    def from_dict(cls, d: dict) -> ThinkerConfig:
        adapter = d.get("adapter")
        return cls(
            p=d.get("p", 2),
            q=d.get("q", 8),
            adapter=None if adapter is None else AdapterConfig(**adapter),
            trained_with=d.get("trained_with", {}),
        )


@dataclass(frozen=True)
class BackboneShape:
    """Size of a from-scratch Qwen2 backbone."""

    layers: int = 4
    d_model: int = 256
    heads: int = 4
    kv_heads: int = 2
    ffn: int = 1024
    max_positions: int = 1024
    rope_theta: float = 10000.0

    def __post_init__(self) -> None:
        for name in ("layers", "d_model", "heads", "kv_heads", "ffn", "max_positions"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"model.{name} must be an int >= 1, got {value!r}")
        if self.d_model % self.heads or self.heads % self.kv_heads:
            raise ValueError(
                f"model.d_model ({self.d_model}) must be divisible by model.heads ({self.heads}) and heads by "
                f"model.kv_heads ({self.kv_heads})"
            )


class Thinker(nn.Module):
    """Backbone + tokenizer + audio adapter; builds prompts and their input embeddings."""

    def __init__(self, model, tokenizer, adapter: AudioAdapter | None, config: ThinkerConfig):
        super().__init__()
        self.model = model
        self.adapter = adapter
        self.tokenizer = tokenizer
        self.config = config
        self.ids = SpecialIds.from_tokenizer(tokenizer)
        self.tool_ids = ToolIds.from_tokenizer(tokenizer)

    # ---------------------------------------------------------------- construction
    @classmethod
    def build(cls, tokenizer, shape: BackboneShape = BackboneShape(), config: ThinkerConfig | None = None,
              seed: int = 0) -> Thinker:
        """A randomly initialised Qwen2 backbone of ``shape`` for ``tokenizer`` (which holds our specials)."""
        from transformers import Qwen2Config, Qwen2ForCausalLM

        ids = SpecialIds.from_tokenizer(tokenizer)
        hf = Qwen2Config(
            vocab_size=len(tokenizer),
            hidden_size=shape.d_model,
            intermediate_size=shape.ffn,
            num_hidden_layers=shape.layers,
            num_attention_heads=shape.heads,
            num_key_value_heads=shape.kv_heads,
            max_position_embeddings=shape.max_positions,
            rope_theta=shape.rope_theta,
            tie_word_embeddings=True,
            pad_token_id=ids.pad,
            eos_token_id=ids.end,
            bos_token_id=None,
        )
        torch.manual_seed(seed)
        model = Qwen2ForCausalLM(hf)
        config = config or ThinkerConfig()
        adapter = None
        if config.adapter is not None:
            config.adapter = AdapterConfig(**{**config.adapter.to_dict(), "out_dim": shape.d_model})
            adapter = AudioAdapter(config.adapter)
        return cls(model, tokenizer, adapter, config)

    @classmethod
    def load(cls, path: str | Path | None = None, *, dtype: torch.dtype = torch.float32) -> Thinker:
        """Load a Thinker folder, any local Qwen2/Qwen2.5 HF folder, or a packaged Thinker by name (None or
        ``"default"``: the shipped default; ``"tools"``: the shipped Thinker with tool calls).

        A foreign checkpoint gets our special tokens through ``thinkspeak.model.vocab_extension`` and a fresh
        adapter (to be trained by the alignment stage).
        """
        from transformers import AutoTokenizer, PreTrainedTokenizerFast, Qwen2ForCausalLM

        folder = Path(path) if path is not None else DEFAULT_DIR
        if isinstance(path, str) and path in SHIPPED and not folder.exists():
            folder = SHIPPED[path]
        if not (folder / "config.json").is_file():
            raise ValueError(f"path must be a folder with config.json, safetensors and a tokenizer, or one of the "
                             f"packaged names {sorted(SHIPPED)}, got {str(folder)!r}")
        model = Qwen2ForCausalLM.from_pretrained(folder, dtype=dtype, local_files_only=True)
        if (folder / THINKER_FILE).is_file():
            # Our tokenizer.json as saved: AutoTokenizer would pick Qwen2Tokenizer (from config.json) and
            # replace the single-digit pre-tokenizer with Qwen's.
            tokenizer = PreTrainedTokenizerFast.from_pretrained(folder, local_files_only=True)
            config = ThinkerConfig.from_dict(json.loads((folder / THINKER_FILE).read_text()))
        else:
            tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
            config = ThinkerConfig(adapter=AdapterConfig(out_dim=model.config.hidden_size))
            tokenizer, model = _extend_foreign(tokenizer, model)
        adapter = None
        if config.adapter is not None:
            adapter = AudioAdapter(config.adapter)
            if (folder / ADAPTER_FILE).is_file():
                from safetensors.torch import load_file

                adapter.load_state_dict(load_file(folder / ADAPTER_FILE))
            adapter.to(dtype)
        thinker = cls(model, tokenizer, adapter, config)
        thinker.eval()
        return thinker

    def save(self, path: str | Path, dtype: torch.dtype | None = None, state_dict: dict | None = None) -> Path:
        """Write the HF folder + ``thinker.json`` + ``adapter.safetensors``.

        Weights are cast to ``dtype`` if given; ``state_dict`` (keys ``model.*``/``adapter.*``, e.g. gathered
        from FSDP shards) replaces this module's own weights in the files.
        """
        from safetensors.torch import save_file

        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        full = state_dict if state_dict is not None else self.state_dict()

        def part(prefix: str) -> dict[str, torch.Tensor]:
            return {k[len(prefix):]: (v.to(dtype) if dtype is not None else v).contiguous()
                    for k, v in full.items() if k.startswith(prefix)}

        self.model.save_pretrained(folder, state_dict=part("model."))
        self.tokenizer.save_pretrained(folder)
        (folder / THINKER_FILE).write_text(json.dumps(self.config.to_dict(), indent=2) + "\n")
        if self.adapter is not None:
            save_file(part("adapter."), folder / ADAPTER_FILE)
        return folder

    def add_tool_tokens(self) -> None:
        """Add the tool-call tokens (issue 12) to the tokenizer and the embedding, rows initialised from their
        descriptions (:func:`thinkspeak.model.vocab_extension.add_tool_tokens`); no-op when present."""
        from thinkspeak.model.vocab_extension import add_tool_tokens

        add_tool_tokens(self.tokenizer, self.model)
        self.tool_ids = ToolIds.from_tokenizer(self.tokenizer)

    # ---------------------------------------------------------------- prompts
    @property
    def d_model(self) -> int:
        return self.model.config.hidden_size

    def text_ids(self, text: str) -> list[int]:
        """Token ids of plain text (no special tokens added)."""
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def history_ids(self, history: History = ()) -> list[int]:
        """``<|user|> u <|assistant|> a <|end|>`` for each earlier (user text, spoken answer) turn."""
        out: list[int] = []
        for i, turn in enumerate(history):
            if not (isinstance(turn, (tuple, list)) and len(turn) == 2 and all(isinstance(s, str) for s in turn)):
                raise ValueError(f"history[{i}] must be a (user text, assistant text) pair of str, got {turn!r}")
            user, assistant = turn
            out += [self.ids.user, *self.text_ids(user), self.ids.assistant, *self.text_ids(assistant), self.ids.end]
        return out

    def prompt_ids(self, text: str, mode: str = "tis", history: History = ()) -> list[int]:
        """``history <|user|> text <|assistant|> <|mode|>``."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"text must be a non-empty str, got {text!r}")
        return [*self.history_ids(history), self.ids.user, *self.text_ids(text), self.ids.assistant,
                self.ids.mode(check_mode(mode))]

    def audio_prompt_ids(self, n_positions: int, mode: str = "tis", history: History = ()) -> list[int]:
        """``history <|user|> <|audio|> x n_positions <|assistant|> <|mode|>``."""
        if not isinstance(n_positions, int) or n_positions < 1:
            raise ValueError(f"n_positions must be an int >= 1, got {n_positions!r}")
        return [*self.history_ids(history), self.ids.user, *[self.ids.audio] * n_positions, self.ids.assistant,
                self.ids.mode(check_mode(mode))]

    def embed(self, input_ids: torch.Tensor, features: Sequence[torch.Tensor] = ()) -> torch.Tensor:
        """Token embeddings ``[B, L, d]`` with the ``<|audio|>`` positions replaced by the adapter's output.

        ``features`` holds one ``[T_i, D]`` tensor per audio segment in reading order (row by row); segment
        ``i`` must cover exactly ``ceil(T_i / stack)`` consecutive audio positions.
        """
        embeds = self.model.get_input_embeddings()(input_ids)
        audio_mask = input_ids == self.ids.audio
        n_audio = int(audio_mask.sum())
        if not features:
            if n_audio:
                raise ValueError(f"input_ids hold {n_audio} <|audio|> positions but no features were given")
            return embeds
        if self.adapter is None:
            raise ValueError("features were given but this Thinker has no audio adapter (config.adapter is None)")
        audio = torch.cat([self.adapter(f) for f in features], dim=0)
        if audio.shape[0] != n_audio:
            raise ValueError(
                f"features give {audio.shape[0]} audio positions (ceil(T/{self.adapter.config.stack}) each) but "
                f"input_ids hold {n_audio} <|audio|> tokens"
            )
        embeds = embeds.clone()
        embeds[audio_mask] = audio.to(embeds.dtype)
        return embeds

    def prompt_embeds(self, text: str | None = None, features=None, mode: str = "tis",
                      history: History = ()) -> torch.Tensor:
        """Input embeddings ``[1, L, d]`` of a typed (``text``) or spoken (``features`` ``[T, D]``) question."""
        if (text is None) == (features is None):
            raise ValueError("give exactly one of text= (typed question) or features= (encoder features [T, D])")
        device = self.model.get_input_embeddings().weight.device
        if text is not None:
            ids = torch.tensor([self.prompt_ids(text, mode, history)], device=device)
            with torch.no_grad():
                return self.embed(ids)
        if self.adapter is None:
            raise ValueError("features were given but this Thinker has no audio adapter (config.adapter is None)")
        feats = torch.as_tensor(features, device=device)
        self.adapter.check_features(feats)
        if feats.dim() == 3:
            if feats.shape[0] != 1:
                raise ValueError(f"features must be one utterance [T, D] or [1, T, D], got {tuple(feats.shape)}")
            feats = feats[0]
        n = n_audio_positions(feats.shape[0], self.adapter.config.stack)
        ids = torch.tensor([self.audio_prompt_ids(n, mode, history)], device=device)
        with torch.no_grad():
            return self.embed(ids, [feats])

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                features: Sequence[torch.Tensor] = ()) -> torch.Tensor:
        """Last hidden states ``[B, L, d]`` (apply ``self.model.lm_head`` for logits)."""
        embeds = self.embed(input_ids, features)
        out = self.model.model(inputs_embeds=embeds, attention_mask=attention_mask, use_cache=False)
        return out.last_hidden_state


def _extend_foreign(tokenizer, model):
    """Add our special tokens to a foreign Qwen2 checkpoint, rows initialised from their descriptions."""
    from thinkspeak.model.tokens import DESCRIPTIONS, PAD
    from thinkspeak.model.vocab_extension import extend_vocabulary

    extend_vocabulary(tokenizer, model, DESCRIPTIONS)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = PAD
    return tokenizer, model
