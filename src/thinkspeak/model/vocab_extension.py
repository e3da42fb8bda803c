"""Add special tokens to a Hugging Face tokenizer and model, initialising each new row from a description.

New tokens (``<|say_pad|>``, ``<|think_pad|>``, ...) start life as rows of the embedding matrix and of the
output head. Random rows barely move when fine-tuning data is scarce, so each new row is set to the mean of
the existing rows of the tokens of a short description of what the token means (e.g. ``<|say_pad|>`` ->
"silence in the spoken response"): ``E[new] = mean(E[w_1], ..., E[w_n])`` and likewise for an untied output
head ``W[new]`` (and its bias). This is the recipe of the seed tutorial on adding tokens to transformers
models; Mini-Omni (§3.1) likewise extends Qwen2's vocabulary with its text and audio specials.

The embedding is grown only when the new ids do not fit: Qwen2 checkpoints already carry unused padded rows
(151936 rows for ~151665 tokenizer ids), which new tokens then reuse; it is never shrunk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from tokenizers import AddedToken
from transformers import PreTrainedModel, PreTrainedTokenizerBase


@dataclass(frozen=True)
class Extension:
    """What :func:`extend_vocabulary` did: the id of every requested token and which of them are new."""

    ids: dict[str, int]
    added: tuple[str, ...]
    embedding_rows: int


def _description_ids(tokenizer: PreTrainedTokenizerBase, token: str, description: str) -> list[int]:
    if not isinstance(description, str) or not description.strip():
        raise ValueError(f"the description of {token!r} must be a non-empty string, got {description!r}")
    ids = tokenizer(description, add_special_tokens=False)["input_ids"]
    if not ids:
        raise ValueError(f"the description of {token!r} ({description!r}) tokenizes to no tokens")
    return list(ids)


def extend_vocabulary(
    tokenizer: PreTrainedTokenizerBase,
    model: PreTrainedModel,
    descriptions: Mapping[str, str],
    *,
    pad_to_multiple_of: int | None = None,
) -> Extension:
    """Add ``descriptions``' keys as special tokens and initialise their rows from the descriptions.

    Tokens already in the vocabulary keep their id and rows (so a second call changes nothing). The
    descriptions are tokenized before anything is added, so they only use existing tokens. Works for tied
    and untied output heads. ``pad_to_multiple_of`` rounds the embedding size up when it has to grow.
    """
    if not isinstance(descriptions, Mapping) or not descriptions:
        raise ValueError(f"descriptions must be a non-empty mapping token -> description, got {descriptions!r}")
    for token in descriptions:
        if not isinstance(token, str) or not token or token != token.strip():
            raise ValueError(f"each token must be a non-empty string without surrounding spaces, got {token!r}")
    if pad_to_multiple_of is not None and (not isinstance(pad_to_multiple_of, int) or pad_to_multiple_of < 1):
        raise ValueError(f"pad_to_multiple_of must be None or an int >= 1, got {pad_to_multiple_of!r}")

    vocab = tokenizer.get_vocab()
    new = [token for token in descriptions if token not in vocab]
    sources = {token: _description_ids(tokenizer, token, descriptions[token]) for token in new}
    tokenizer.add_tokens([AddedToken(token, special=True, normalized=False) for token in new],
                         special_tokens=True)
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in descriptions}

    embeddings = model.get_input_embeddings()
    needed = max(len(tokenizer), *[i + 1 for i in ids.values()])
    if needed > embeddings.weight.shape[0]:
        model.resize_token_embeddings(needed, pad_to_multiple_of=pad_to_multiple_of, mean_resizing=False)
        embeddings = model.get_input_embeddings()
    head = model.get_output_embeddings()
    tied = head is None or head.weight is embeddings.weight
    with torch.no_grad():
        for token in new:
            rows = torch.tensor(sources[token], dtype=torch.long)
            embeddings.weight[ids[token]] = embeddings.weight[rows].mean(dim=0)
            if not tied:
                head.weight[ids[token]] = head.weight[rows].mean(dim=0)
            if head is not None and getattr(head, "bias", None) is not None:
                head.bias[ids[token]] = head.bias[rows].mean(dim=0)
    return Extension(ids=ids, added=tuple(new), embedding_rows=embeddings.weight.shape[0])


def add_tool_tokens(tokenizer: PreTrainedTokenizerBase, model: PreTrainedModel) -> Extension:
    """Give a Thinker's tokenizer and model the tool-call tokens (:mod:`thinkspeak.layouts.toolcalls`), each
    row initialised from its description, so a trained Thinker can be fine-tuned to call tools (issue 12)."""
    from thinkspeak.layouts.toolcalls import TOOL_DESCRIPTIONS

    return extend_vocabulary(tokenizer, model, TOOL_DESCRIPTIONS)
