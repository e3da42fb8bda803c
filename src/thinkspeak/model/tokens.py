"""The Thinker's special tokens and the prompt/target formats built from them.

Prompt format (one user turn, Mini-Omni §3.3 "input/answer markers", Mini-Omni-Reasoner §3 modes)::

    <|user|> question tokens <|assistant|> <|MODE|>            typed question
    <|user|> <|audio|> x N <|assistant|> <|MODE|>               spoken question (N adapter frames)

then the target stream, which depends on MODE:

* ``<|tis|>``: thinking-in-speaking, 2 response tokens / 8 reasoning tokens interleaved, ``<|say_pad|>`` and
  ``<|think_pad|>`` fill empty slots, ``<|end|>`` closes the stream (``thinkspeak.layouts.interleave``);
* ``<|think_first|>``: reasoning ``<|think_end|>`` response ``<|end|>``;
* ``<|no_think|>``: response ``<|end|>``;
* ``<|asr|>``: the transcript of the question ``<|end|>`` (modality alignment, Mini-Omni §3.4 stage 1).

Earlier turns come first, each as ``<|user|> question <|assistant|> spoken answer <|end|>``.

Tool calls in the reasoning stream use six more tokens (:mod:`thinkspeak.layouts.toolcalls`,
docs/tools.md); they are optional: :meth:`ToolIds.from_tokenizer` is None for a Thinker trained without them,
and :func:`thinkspeak.model.vocab_extension.add_tool_tokens` adds them to one.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from thinkspeak.layouts.toolcalls import TOOL_TOKENS

PAD = "<|pad|>"
USER = "<|user|>"
AUDIO = "<|audio|>"
ASSISTANT = "<|assistant|>"
TIS = "<|tis|>"
THINK_FIRST = "<|think_first|>"
NO_THINK = "<|no_think|>"
ASR = "<|asr|>"
SAY_PAD = "<|say_pad|>"
THINK_PAD = "<|think_pad|>"
END = "<|end|>"
THINK_END = "<|think_end|>"

SPECIAL_TOKENS: tuple[str, ...] = (
    PAD, USER, AUDIO, ASSISTANT, TIS, THINK_FIRST, NO_THINK, ASR, SAY_PAD, THINK_PAD, END, THINK_END,
)

# Plain-word meanings used to initialise the rows of these tokens in a foreign (pretrained) checkpoint
# (thinkspeak.model.vocab_extension: new row = mean embedding of the description's tokens).
DESCRIPTIONS: dict[str, str] = {
    PAD: "padding",
    USER: "the user says",
    AUDIO: "spoken audio from the user",
    ASSISTANT: "the assistant answers",
    TIS: "think while speaking",
    THINK_FIRST: "think first, then speak",
    NO_THINK: "answer without thinking",
    ASR: "transcribe the speech",
    SAY_PAD: "silence in the spoken answer",
    THINK_PAD: "no more reasoning",
    END: "end of the answer",
    THINK_END: "end of the reasoning",
}

# Modes a user can ask for (layouts.interleave.MODES) plus the ASR task used for modality alignment.
MODE_TOKENS: dict[str, str] = {"tis": TIS, "think-first": THINK_FIRST, "no-think": NO_THINK, "asr": ASR}
MODES: tuple[str, ...] = tuple(MODE_TOKENS)


def check_mode(mode: object) -> str:
    """Return ``mode`` if it is a known mode, else raise a ValueError naming the allowed values."""
    if mode not in MODE_TOKENS:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    return mode  # type: ignore[return-value]


@dataclass(frozen=True)
class SpecialIds:
    """Token ids of the special tokens in one tokenizer."""

    pad: int
    user: int
    audio: int
    assistant: int
    tis: int
    think_first: int
    no_think: int
    asr: int
    say_pad: int
    think_pad: int
    end: int
    think_end: int

    @classmethod
    def from_tokenizer(cls, tokenizer) -> SpecialIds:
        """Look the special tokens up in a transformers tokenizer; raise if one is missing."""
        ids = {}
        for field, token in zip(fields(cls), SPECIAL_TOKENS, strict=True):
            tid = tokenizer.convert_tokens_to_ids(token)
            if tid is None or tid == tokenizer.unk_token_id or tokenizer.convert_ids_to_tokens(tid) != token:
                raise ValueError(f"tokenizer has no special token {token!r}; extend its vocabulary first")
            ids[field.name] = int(tid)
        return cls(**ids)

    def mode(self, mode: str) -> int:
        """The id of the mode token for ``mode`` ('tis', 'think-first', 'no-think' or 'asr')."""
        check_mode(mode)
        return {"tis": self.tis, "think-first": self.think_first, "no-think": self.no_think, "asr": self.asr}[mode]

    def all(self) -> tuple[int, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))


@dataclass(frozen=True)
class ToolIds:
    """Token ids of the tool-call tokens (:data:`thinkspeak.layouts.toolcalls.TOOL_TOKENS`) in one tokenizer."""

    call: int
    args: int
    call_end: int
    result: int
    result_end: int
    tool_wait: int

    @classmethod
    def from_tokenizer(cls, tokenizer) -> ToolIds | None:
        """The ids, or None when the tokenizer has none of the tool tokens; ValueError if it has only some."""
        vocab = tokenizer.get_vocab()
        present = [t for t in TOOL_TOKENS if t in vocab]
        if not present:
            return None
        if len(present) != len(TOOL_TOKENS):
            missing = [t for t in TOOL_TOKENS if t not in vocab]
            raise ValueError(f"tokenizer has the tool tokens {present} but not {missing}; add all of them")
        return cls(*(int(vocab[t]) for t in TOOL_TOKENS))

    def all(self) -> tuple[int, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))

    @property
    def model_written(self) -> tuple[int, ...]:
        """The tokens a model may choose in a think slot (the decoder writes results and waits itself)."""
        return (self.call, self.args, self.call_end)

