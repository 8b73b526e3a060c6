"""Symbol tables and the text → token-id front end of text-to-speech.

:class:`SymbolTable` maps symbols (ARPAbet phonemes or characters, plus padding,
end-of-sequence, unknown, space and punctuation) to ids and back, and saves itself as JSON.
:class:`TextProcessor` chains normalisation, phonemisation (or characters) and the table:
``processor("Hello!")`` → LongTensor (L,) ending in the end-of-sequence id.

References:
    Keith Ito's tacotron / NVIDIA/tacotron2 ``text/symbols.py`` (pad, punctuation, letters,
    ARPAbet); torchaudio ``TACOTRON2_*`` bundles' ``get_text_processor()`` (tokens + lengths).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

import torch
from torch import Tensor

from synesthesia.errors import ParameterError
from synesthesia.text.normalize import normalize_text
from synesthesia.text.phonemes import (
    ARPABET_SYMBOLS,
    ESPEAK_IPA_SYMBOLS,
    text_to_ipa,
    text_to_phonemes,
)
from synesthesia.utils import atomic_write_json, read_json

__all__ = ["PAD", "EOS", "UNK", "PUNCTUATION", "SymbolTable", "TextProcessor"]

PAD = "<pad>"
EOS = "<eos>"
UNK = "<unk>"
PUNCTUATION = (",", ".", "!", "?", ";", ":")
_CHARACTERS = tuple("abcdefghijklmnopqrstuvwxyz'-")
_MODES = ("phonemes", "characters", "espeak")
_CONTENT = {"phonemes": ARPABET_SYMBOLS, "characters": _CHARACTERS, "espeak": ESPEAK_IPA_SYMBOLS}


class SymbolTable:
    """Symbols ↔ ids. Id 0 is padding, 1 end-of-sequence, 2 unknown, 3 space.

    Args:
        symbols: the content symbols (phonemes or characters and punctuation), in order.
        unknown: what :meth:`encode` does with a symbol not in the table: ``"map"`` (to the
            unknown id) or ``"error"`` (raise ParameterError).
    """

    def __init__(self, symbols: Sequence[str], *, unknown: str = "map") -> None:
        symbols = list(symbols)
        if not symbols or not all(isinstance(s, str) and s for s in symbols):
            raise ParameterError(f"symbols={symbols!r} must be a non-empty list of strings")
        if unknown not in ("map", "error"):
            raise ParameterError(f"unknown={unknown!r} must be 'map' or 'error'")
        self.symbols = [PAD, EOS, UNK, " "] + [s for s in symbols if s not in (PAD, EOS, UNK, " ")]
        if len(set(self.symbols)) != len(self.symbols):
            raise ParameterError(f"symbols={symbols!r} contains duplicates")
        self.unknown = unknown
        self._ids = {s: i for i, s in enumerate(self.symbols)}

    pad_id = 0
    eos_id = 1
    unk_id = 2
    space_id = 3

    @classmethod
    def for_mode(cls, mode: str, *, unknown: str = "map") -> SymbolTable:
        """The default table of a :class:`TextProcessor` mode (one of ``"phonemes"``,
        ``"characters"``, ``"espeak"``)."""
        if mode not in _MODES:
            raise ParameterError(f"mode={mode!r} must be one of {_MODES}")
        return cls(list(PUNCTUATION) + list(_CONTENT[mode]), unknown=unknown)

    def __len__(self) -> int:
        return len(self.symbols)

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._ids

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SymbolTable) and self.symbols == other.symbols

    def encode(self, symbols: Iterable[str], *, add_eos: bool = True) -> list[int]:
        """Symbols (a list, or a string for characters) → ids, ending in ``eos_id``."""
        ids = []
        for s in symbols:
            i = self._ids.get(s)
            if i is None or i in (self.pad_id, self.eos_id):
                if self.unknown == "error":
                    raise ParameterError(f"symbol {s!r} is not in the symbol table")
                i = self.unk_id
            ids.append(i)
        if add_eos:
            ids.append(self.eos_id)
        return ids

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Ids → symbols; stops at the first end-of-sequence and skips padding."""
        out = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(self.symbols):
                raise ParameterError(f"id {i} must be in [0, {len(self.symbols)})")
            if i == self.eos_id:
                break
            if i != self.pad_id:
                out.append(self.symbols[i])
        return out

    def to_dict(self) -> dict:
        return {"symbols": self.symbols, "unknown": self.unknown}

    @classmethod
    def from_dict(cls, data: dict) -> SymbolTable:
        if not isinstance(data, dict) or data.get("symbols", [None])[:4] != [PAD, EOS, UNK, " "]:
            raise ParameterError("symbol table JSON must hold 'symbols' starting with the specials")
        return cls(data["symbols"][4:], unknown=data.get("unknown", "map"))

    def save(self, path: str | os.PathLike) -> None:
        """Write the table as JSON (atomically)."""
        atomic_write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike) -> SymbolTable:
        """Read a table written by :meth:`save`."""
        return cls.from_dict(read_json(path))


class TextProcessor:
    """Text → token ids: normalisation, then phonemes (CMUdict + eSpeak NG, or eSpeak NG's
    IPA) or characters.

    Args:
        mode: ``"phonemes"`` (ARPAbet with stress: CMUdict, eSpeak NG for words it lacks),
            ``"espeak"`` (eSpeak NG's IPA in context, one symbol per character: the faithful
            input for a voice trained on eSpeak NG's audio) or ``"characters"`` (a-z, ' and -).
        symbol_table: the table (default :meth:`SymbolTable.for_mode`).
        voice: eSpeak NG language for out-of-dictionary words ("phonemes") or for every word
            ("espeak").

    Text with nothing to speak (empty, only spaces, emoji or punctuation) raises
    ParameterError: a TTS model cannot say it.
    """

    def __init__(
        self, mode: str = "phonemes", *, symbol_table: SymbolTable | None = None,
        voice: str = "en-us",
    ) -> None:  # fmt: skip
        if mode not in _MODES:
            raise ParameterError(f"mode={mode!r} must be one of {_MODES}")
        self.mode = mode
        self.voice = voice
        self.symbol_table = SymbolTable.for_mode(mode) if symbol_table is None else symbol_table

    def symbols(self, text: str) -> list[str]:
        """The symbol sequence of ``text`` (before ids and end-of-sequence)."""
        normalized = normalize_text(text)
        if not any(c.isalnum() for c in normalized):
            raise ParameterError(f"text={text!r} has nothing to speak after normalisation")
        if self.mode == "characters":
            return list(normalized)
        if self.mode == "espeak":
            return text_to_ipa(normalized, voice=self.voice)
        return text_to_phonemes(normalized, voice=self.voice)

    def __call__(self, text: str) -> Tensor:
        """Token ids (L,), int64, ending in ``symbol_table.eos_id``."""
        return torch.tensor(self.symbol_table.encode(self.symbols(text)), dtype=torch.long)

    def batch(self, texts: Sequence[str]) -> tuple[Tensor, Tensor]:
        """Padded tokens (B, L) (pad id 0) and token_lengths (B,)."""
        if isinstance(texts, str) or not texts:
            raise ParameterError(f"texts={texts!r} must be a non-empty list of strings")
        items = [self(t) for t in texts]
        lengths = torch.tensor([len(t) for t in items], dtype=torch.long)
        tokens = torch.nn.utils.rnn.pad_sequence(
            items, batch_first=True, padding_value=self.symbol_table.pad_id
        )
        return tokens, lengths

    def save(self, path: str | os.PathLike) -> None:
        """Write mode, voice and symbol table as JSON (atomically)."""
        atomic_write_json(path, {"mode": self.mode, "voice": self.voice,
                                 **self.symbol_table.to_dict()})  # fmt: skip

    @classmethod
    def load(cls, path: str | os.PathLike) -> TextProcessor:
        data = read_json(path)
        if not isinstance(data, dict) or "mode" not in data:
            raise ParameterError(f"path={str(path)!r} is not a saved TextProcessor")
        table = SymbolTable.from_dict(data)
        return cls(data["mode"], symbol_table=table, voice=data.get("voice", "en-us"))
