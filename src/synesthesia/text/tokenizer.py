"""Byte- and character-level tokenizers for the language models, saved as JSON.

A model folder stores its tokenizer as ``tokenizer.json`` (:data:`TOKENIZER_NAME`) beside
``config.json`` and ``model.safetensors``; :func:`load_tokenizer` reads either kind.

- :class:`ByteTokenizer`: the 256 UTF-8 byte values; never unknown; ``decode`` replaces
  invalid UTF-8 sequences with U+FFFD.
- :class:`CharTokenizer`: the sorted distinct characters of a text plus one *unknown* token
  (``unknown``, default "?"), whose id every character outside the vocabulary maps to.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from synesthesia.errors import ParameterError
from synesthesia.utils import atomic_write_json, read_json

__all__ = ["TOKENIZER_NAME", "ByteTokenizer", "CharTokenizer", "load_tokenizer"]

TOKENIZER_NAME = "tokenizer.json"


def _check_text(text: object) -> str:
    if not isinstance(text, str):
        raise ParameterError(f"text of type {type(text).__name__} must be a str")
    return text


def _check_ids(ids: Iterable[int], vocab_size: int) -> list[int]:
    if hasattr(ids, "tolist"):
        ids = ids.tolist()
    ids = list(ids)
    for i in ids:
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < vocab_size:
            raise ParameterError(f"token id {i!r} must be an integer in [0, {vocab_size})")
    return ids


class ByteTokenizer:
    """UTF-8 bytes as tokens: ``vocab_size`` = 256, id = byte value.

    References:
        Radford et al., 2019 (GPT-2's byte-level base vocabulary); ByT5 (Xue et al., 2022).
    """

    vocab_size = 256

    def encode(self, text: str) -> list[int]:
        """``text`` → its UTF-8 bytes."""
        return list(_check_text(text).encode("utf-8"))

    def decode(self, ids: Iterable[int]) -> str:
        """Bytes → text; invalid UTF-8 becomes U+FFFD (errors="replace")."""
        return bytes(_check_ids(ids, self.vocab_size)).decode("utf-8", errors="replace")

    def to_dict(self) -> dict:
        """JSON form."""
        return {"type": "byte"}

    def save(self, path: str | os.PathLike) -> Path:
        """Write the JSON form to ``path`` atomically (a folder gets ``tokenizer.json``)."""
        return _save(self.to_dict(), path)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ByteTokenizer)

    def __repr__(self) -> str:
        return "ByteTokenizer()"


class CharTokenizer:
    """Characters as tokens: sorted distinct characters, then the unknown token.

    Characters outside the vocabulary encode to :attr:`unknown_id` (decoded as ``unknown``).

    Args:
        chars: the vocabulary characters (distinct single characters).
        unknown: the character standing for unknown input; if it is in ``chars`` its id is
            reused, otherwise it is appended.
    """

    def __init__(self, chars: Iterable[str], *, unknown: str = "?") -> None:
        chars = list(chars)
        if not isinstance(unknown, str) or len(unknown) != 1:
            raise ParameterError(f"unknown={unknown!r} must be a single character")
        for c in chars:
            if not isinstance(c, str) or len(c) != 1:
                raise ParameterError(f"chars entry {c!r} must be a single character")
        if len(set(chars)) != len(chars):
            raise ParameterError("chars must be distinct characters")
        if unknown not in chars:
            chars.append(unknown)
        self.chars = chars
        self.unknown = unknown
        self._ids = {c: i for i, c in enumerate(chars)}
        self.unknown_id = self._ids[unknown]

    @classmethod
    def from_text(cls, text: str, *, unknown: str = "?") -> CharTokenizer:
        """Vocabulary = sorted distinct characters of ``text`` (+ ``unknown`` if absent)."""
        return cls(sorted(set(_check_text(text))), unknown=unknown)

    @property
    def vocab_size(self) -> int:
        """Number of ids (characters + the unknown token)."""
        return len(self.chars)

    def encode(self, text: str) -> list[int]:
        """``text`` → ids; characters outside the vocabulary → :attr:`unknown_id`."""
        ids, unknown_id = self._ids, self.unknown_id
        return [ids.get(c, unknown_id) for c in _check_text(text)]

    def decode(self, ids: Iterable[int]) -> str:
        """ids → text."""
        return "".join(self.chars[i] for i in _check_ids(ids, self.vocab_size))

    def to_dict(self) -> dict:
        """JSON form."""
        return {"type": "char", "chars": self.chars, "unknown": self.unknown}

    def save(self, path: str | os.PathLike) -> Path:
        """Write the JSON form to ``path`` atomically (a folder gets ``tokenizer.json``)."""
        return _save(self.to_dict(), path)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, CharTokenizer)
            and self.chars == other.chars
            and self.unknown == other.unknown
        )

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size}, unknown={self.unknown!r})"


def _save(payload: dict, path: str | os.PathLike) -> Path:
    path = Path(path)
    if path.is_dir():
        path = path / TOKENIZER_NAME
    atomic_write_json(path, payload)
    return path


def load_tokenizer(path: str | os.PathLike) -> ByteTokenizer | CharTokenizer:
    """Read a tokenizer saved by ``save`` (a file, or a model folder with tokenizer.json).

    Raises:
        ParameterError: missing or malformed file, or an unknown ``type``.
    """
    path = Path(path)
    if path.is_dir():
        path = path / TOKENIZER_NAME
    payload = read_json(path)
    kind = payload.get("type") if isinstance(payload, dict) else None
    if kind == "byte":
        return ByteTokenizer()
    if kind == "char":
        try:
            return CharTokenizer(payload["chars"], unknown=payload["unknown"])
        except KeyError as exc:
            raise ParameterError(f"tokenizer file {str(path)!r} lacks {exc}") from None
    raise ParameterError(
        f"tokenizer file {str(path)!r} has type={kind!r}; must be 'byte' or 'char'"
    )
