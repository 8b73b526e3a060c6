"""synesthesia.text."""

from synesthesia.text.tokenizer import (
    TOKENIZER_NAME,
    ByteTokenizer,
    CharTokenizer,
    load_tokenizer,
)

__all__ = ["TOKENIZER_NAME", "ByteTokenizer", "CharTokenizer", "load_tokenizer"]

from synesthesia.text.vocab import Vocabulary, tokenize_caption  # noqa: E402

__all__ += ["Vocabulary", "tokenize_caption"]
