"""Incremental detokenisation that only ever emits complete text.

A byte-level BPE token can hold part of a UTF-8 character (an emoji or an accented letter is often split
over two or three tokens), and a tokenizer's decoder may look at neighbouring tokens (leading-space
handling). Decoding token by token would print replacement characters or drop spaces. This keeps a short
window of already-emitted tokens as context, decodes the window with and without the new tokens, and emits
the difference only when it does not end in U+FFFD (the same scheme as Hugging Face's ``TextStreamer`` and
vLLM's incremental detokenizer), so the concatenated pieces equal the decoded text.
"""

from __future__ import annotations

REPLACEMENT = "\ufffd"


class IncrementalDetokenizer:
    """Turn a growing list of token ids into text pieces; ``push(id)`` returns the newly completed text.

    ``skip_special=False`` keeps special tokens as their strings (the think stream's tool-call markers)."""

    def __init__(self, tokenizer, skip_special: bool = True):
        backend = getattr(tokenizer, "backend_tokenizer", None)
        if backend is not None:
            self._decode = lambda ids: backend.decode(ids, skip_special_tokens=skip_special)
        else:
            self._decode = lambda ids: tokenizer.decode(
                ids, skip_special_tokens=skip_special, clean_up_tokenization_spaces=False
            )
        self.ids: list[int] = []
        self._prefix = 0  # start of the context window
        self._read = 0  # tokens up to here have been emitted

    def push(self, token_id: int) -> str:
        self.ids.append(token_id)
        before = self._decode(self.ids[self._prefix : self._read])
        after = self._decode(self.ids[self._prefix :])
        if len(after) <= len(before) or after.endswith(REPLACEMENT):
            return ""
        self._prefix, self._read = self._read, len(self.ids)
        return after[len(before) :]

    @property
    def text(self) -> str:
        """All pushed tokens decoded at once (what the pieces add up to once every character is complete)."""
        return self._decode(self.ids)
