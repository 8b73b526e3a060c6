"""Caption tokenisation and a word vocabulary with special tokens.

Tokenisation follows the captioning convention (Karpathy's preprocessing and the COCO caption
evaluation's PTB tokenizer with punctuation removal): lower-case, punctuation removed, split on
white space. Contractions are not split (the PTB tokenizer would turn "don't" into "do n't");
apostrophes are removed instead, so "don't" becomes "dont". This is the training vocabulary's
tokenisation only: caption metrics use :func:`synesthesia.text.ptb.ptb_tokenize`, which gives
coco-caption's PTBTokenizer tokens exactly.

References:
    Karpathy & Fei-Fei, "Deep Visual-Semantic Alignments for Generating Image Descriptions",
    CVPR 2015 (neuraltalk2 ``prepro_labels.py``); Chen et al., "Microsoft COCO Captions: Data
    Collection and Evaluation Server", 2015 (coco-caption ``PTBTokenizer``).
"""

from __future__ import annotations

import os
import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence

from synesthesia.errors import ParameterError
from synesthesia.utils import atomic_write_json, read_json

__all__ = ["tokenize_caption", "Vocabulary", "PAD", "START", "END", "UNK"]

PAD, START, END, UNK = "<pad>", "<start>", "<end>", "<unk>"
SPECIAL_TOKENS = (PAD, START, END, UNK)
_APOSTROPHES = re.compile(r"['\u2019`]")
_PUNCTUATION = re.compile("[" + re.escape(string.punctuation) + "\u2018\u201c\u201d\u2014\u2013]")


def tokenize_caption(text: str) -> list[str]:
    """Lower-case, strip punctuation and split a caption into words.

    Args:
        text: a caption, e.g. ``"A dog's ball, on the grass."``.

    Returns:
        The words, e.g. ``["a", "dogs", "ball", "on", "the", "grass"]``.
    """
    if not isinstance(text, str):
        raise ParameterError(f"text={text!r} must be a string")
    text = _APOSTROPHES.sub("", text.lower())
    return _PUNCTUATION.sub(" ", text).split()


class Vocabulary:
    """Word ↔ id mapping with ``<pad>`` = 0, ``<start>`` = 1, ``<end>`` = 2, ``<unk>`` = 3.

    Words not in the vocabulary encode to ``<unk>``; a caption made only of unknown words
    therefore encodes to ``<start> <unk> ... <unk> <end>`` (documented, not an error).

    Example:
        >>> vocab = Vocabulary.build(["a dog runs", "a cat sits"], min_count=1)
        >>> vocab.decode(vocab.encode("A dog sits."))
        'a dog sits'
    """

    def __init__(self, words: Sequence[str]) -> None:
        words = list(words)
        if list(words[: len(SPECIAL_TOKENS)]) != list(SPECIAL_TOKENS):
            raise ParameterError(
                f"words={words[:4]!r} must start with the special tokens {list(SPECIAL_TOKENS)}"
            )
        if len(set(words)) != len(words):
            raise ParameterError("words must not contain duplicates")
        self.words = words
        self.index = {w: i for i, w in enumerate(words)}

    pad_id, start_id, end_id, unk_id = 0, 1, 2, 3

    @classmethod
    def build(cls, captions: Iterable[str], *, min_count: int = 1) -> Vocabulary:
        """Build a vocabulary of every word occurring at least ``min_count`` times.

        Words are ordered by decreasing count, ties alphabetically (deterministic).

        Raises:
            ParameterError: ``min_count`` below 1, or no word reaches ``min_count``.
        """
        if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
            raise ParameterError(f"min_count={min_count!r} must be a positive integer")
        counts: Counter[str] = Counter()
        for caption in captions:
            counts.update(tokenize_caption(caption))
        kept = sorted(
            (w for w, c in counts.items() if c >= min_count and w not in SPECIAL_TOKENS),
            key=lambda w: (-counts[w], w),
        )
        if not kept:
            raise ParameterError(
                f"min_count={min_count} leaves no words (the captions have {len(counts)} "
                "distinct words); lower min_count or pass more captions"
            )
        return cls([*SPECIAL_TOKENS, *kept])

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.index

    def encode(self, text: str | Sequence[str], *, add_special: bool = True) -> list[int]:
        """Token ids of a caption (a string, tokenised first, or a list of words).

        Args:
            text: the caption.
            add_special: wrap in ``<start>`` ... ``<end>``.
        """
        words = tokenize_caption(text) if isinstance(text, str) else list(text)
        ids = [self.index.get(w, self.unk_id) for w in words]
        return [self.start_id, *ids, self.end_id] if add_special else ids

    def decode(self, ids: Iterable[int], *, keep_unknown: bool = True) -> str:
        """Words of ``ids`` up to the first ``<end>``, skipping ``<pad>`` and ``<start>``."""
        out = []
        for i in ids:
            i = int(i)
            if i == self.end_id:
                break
            if i in (self.pad_id, self.start_id) or (i == self.unk_id and not keep_unknown):
                continue
            if not 0 <= i < len(self.words):
                raise ParameterError(f"token id {i} is outside the vocabulary of {len(self)}")
            out.append(self.words[i])
        return " ".join(out)

    def save(self, path: str | os.PathLike) -> None:
        """Write ``{"words": [...]}`` as JSON atomically."""
        atomic_write_json(path, {"words": self.words})

    @classmethod
    def load(cls, path: str | os.PathLike) -> Vocabulary:
        """Read a vocabulary written by :meth:`save`."""
        payload = read_json(path)
        if not isinstance(payload, dict) or not isinstance(payload.get("words"), list):
            raise ParameterError(f"path={str(path)!r} is not a vocabulary file (no 'words' list)")
        return cls(payload["words"])
