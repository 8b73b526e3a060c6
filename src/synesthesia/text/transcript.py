"""Transcripts for word error rates: numbers spelled in dictionary words, recogniser-style words.

:func:`number_to_words` spells 342 as "three hundred forty two" (no "and", no hyphens), unlike
:func:`synesthesia.text.normalize.number_to_words` (a TTS front end's "three hundred
forty-two"): every word here is a dictionary word a speech recogniser can output.
:func:`transcript_words` turns written text into the reference words of a word error rate.
"""

from __future__ import annotations

import re

import numpy as np

from synesthesia.errors import ParameterError

__all__ = ["number_to_words", "normalize_numbers", "transcript_words"]

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_to_words(number: int) -> str:
    """Spell a non-negative integer below one million in words, e.g. 342 → "three hundred
    forty two" (American style, no "and", no hyphens: every word is a dictionary word)."""
    if isinstance(number, bool) or not isinstance(number, (int, np.integer)):
        raise ParameterError(f"number={number!r} must be an integer")
    number = int(number)
    if not 0 <= number < 1_000_000:
        raise ParameterError(f"number={number} must be in [0, 1000000)")
    if number < 20:
        return _ONES[number]
    if number < 100:
        tens, ones = divmod(number, 10)
        return _TENS[tens] + ("" if ones == 0 else " " + _ONES[ones])
    if number < 1000:
        hundreds, rest = divmod(number, 100)
        return _ONES[hundreds] + " hundred" + ("" if rest == 0 else " " + number_to_words(rest))
    thousands, rest = divmod(number, 1000)
    return (
        number_to_words(thousands)
        + " thousand"
        + ("" if rest == 0 else " " + number_to_words(rest))
    )


def normalize_numbers(text: str) -> str:
    """Replace every run of digits in ``text`` by its words; everything else is kept."""
    return re.sub(r"\d+", lambda m: number_to_words(int(m.group())), text)


def transcript_words(text: str) -> list[str]:
    """Words of ``text`` as a recogniser writes them: lower case, numbers spelled out,
    hyphens as spaces, punctuation removed (apostrophes inside words are kept)."""
    if not isinstance(text, str):
        raise ParameterError(f"text={text!r} must be a string")
    text = normalize_numbers(text).lower().replace("-", " ")
    text = re.sub(r"[^a-z' ]+", " ", text)
    return [w.strip("'") for w in text.split() if w.strip("'")]
