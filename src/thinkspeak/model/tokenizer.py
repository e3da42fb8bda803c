"""The small default tokenizer: a byte-level BPE trained on the corpus text with single-digit numbers.

Numbers are split into single digits (as in LLaMA/Qwen tokenizers, so the model sees place value digit by
digit instead of memorising arbitrary multi-digit merges); a leading space stays with the first digit
(``" 12"`` -> ``" 1" "2"``), which keeps numbers one token per digit. The special tokens of
:mod:`thinkspeak.model.tokens` take ids ``0..11`` so they are identical in every default tokenizer.
"""

from __future__ import annotations

from collections.abc import Iterable

from thinkspeak.model.tokens import END, PAD, SPECIAL_TOKENS

# GPT-2's pre-tokenisation pattern with ``\p{N}+`` replaced by one digit at a time.
PRETOKENIZE_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def train_tokenizer(texts: Iterable[str], vocab_size: int = 1536, min_frequency: int = 2):
    """Train a byte-level BPE of ``vocab_size`` entries (specials included) on ``texts``.

    Returns a ``transformers.PreTrainedTokenizerFast`` with ``pad_token=<|pad|>`` and ``eos_token=<|end|>``.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

    base = 256 + len(SPECIAL_TOKENS)
    if not isinstance(vocab_size, int) or vocab_size < base:
        raise ValueError(f"vocab_size must be an int >= {base} (bytes + special tokens), got {vocab_size!r}")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_PATTERN), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return wrap_tokenizer(tok)


def wrap_tokenizer(tok):
    """Wrap a ``tokenizers.Tokenizer`` holding our special tokens as a ``PreTrainedTokenizerFast``."""
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token=PAD,
        eos_token=END,
        extra_special_tokens=[t for t in SPECIAL_TOKENS if t not in (PAD, END)],
        clean_up_tokenization_spaces=False,
    )
