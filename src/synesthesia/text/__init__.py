"""synesthesia.text."""

from synesthesia.text.tokenizer import (
    TOKENIZER_NAME,
    ByteTokenizer,
    CharTokenizer,
    load_tokenizer,
)

__all__ = ["TOKENIZER_NAME", "ByteTokenizer", "CharTokenizer", "load_tokenizer"]
