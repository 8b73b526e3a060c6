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

from synesthesia.text.normalize import normalize_text, split_sentences  # noqa: E402
from synesthesia.text.phonemes import text_to_ipa, text_to_phonemes, word_to_phonemes  # noqa: E402
from synesthesia.text.symbols import SymbolTable, TextProcessor  # noqa: E402

__all__ += [
    "SymbolTable",
    "TextProcessor",
    "normalize_text",
    "split_sentences",
    "text_to_ipa",
    "text_to_phonemes",
    "word_to_phonemes",
]
