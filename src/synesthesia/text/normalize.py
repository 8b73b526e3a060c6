"""English text normalisation for text-to-speech: Unicode → ASCII, numbers → words.

``normalize_text`` turns written English into the words a speaker says: Unicode is
transliterated to ASCII (NFKD decomposition plus a small table for quotes, dashes and letters
such as ß, æ, ø; emoji and other symbols are dropped), currency ("$3.50" → "three dollars,
fifty cents"), percentages, ordinals ("21st" → "twenty-first"), years ("1984" → "nineteen
eighty-four"), decimals ("3.14" → "three point one four"), negatives and cardinals are spelled
out, common abbreviations are expanded, prosodic punctuation ``, . ! ? ; :`` is kept and
whitespace is collapsed. The result is lower case.

References:
    Keith Ito's tacotron ``text/cleaners.py`` and ``numbers.py`` (english_cleaners), the
    pipeline this follows; NVIDIA/tacotron2 ships the same cleaners.
"""

from __future__ import annotations

import re
import unicodedata

from synesthesia.errors import ParameterError

__all__ = ["normalize_text", "number_to_words", "split_sentences"]

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ["", "thousand", "million", "billion", "trillion", "quadrillion"]
_ORDINAL_IRREGULAR = {
    "one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
    "nine": "ninth", "twelve": "twelfth",
}  # fmt: skip

# characters NFKD does not decompose to ASCII
_TRANSLITERATION = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"', "\u2033": '"',
    "\u2013": "-", "\u2014": " - ", "\u2012": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-",
    "\u2026": "...", "\u00df": "ss", "\u00e6": "ae", "\u00c6": "Ae", "\u00f8": "o",
    "\u00d8": "O", "\u0153": "oe", "\u0152": "Oe", "\u0111": "d", "\u0110": "D",
    "\u0142": "l", "\u0141": "L", "\u00fe": "th", "\u00de": "Th", "\u00f0": "d", "\u00d0": "D",
    "\u0131": "i", "\u00a0": " ", "\u00bf": "", "\u00a1": "",
}  # fmt: skip

_ABBREVIATIONS = [
    (re.compile(rf"\b{re.escape(abbreviation)}", re.IGNORECASE), expansion)
    for abbreviation, expansion in [
        ("mrs.", "missus"), ("mr.", "mister"), ("dr.", "doctor"), ("st.", "saint"),
        ("co.", "company"), ("jr.", "junior"), ("sr.", "senior"), ("prof.", "professor"),
        ("capt.", "captain"), ("gen.", "general"), ("lt.", "lieutenant"), ("sgt.", "sergeant"),
        ("mt.", "mount"), ("ltd.", "limited"), ("ft.", "fort"), ("vs.", "versus"),
        ("etc.", "et cetera"), ("e.g.", "for example"), ("i.e.", "that is"), ("no.", "number"),
    ]
]  # fmt: skip
_CURRENCY = {"$": ("dollar", "dollars", "cent", "cents"), "£": ("pound", "pounds", "penny",
             "pence"), "€": ("euro", "euros", "cent", "cents")}  # fmt: skip

_INT = r"\d+(?:,\d{3})*"
_CURRENCY_RE = re.compile(rf"([$£€])\s?({_INT})(?:\.(\d+))?")
_PERCENT_RE = re.compile(rf"(-?{_INT}(?:\.\d+)?)\s?%")
_ORDINAL_RE = re.compile(rf"\b({_INT})(st|nd|rd|th)\b", re.IGNORECASE)
_DECIMAL_RE = re.compile(rf"(?<![\w.])(-?)({_INT})\.(\d+)")
_NUMBER_RE = re.compile(rf"(?<![\w])(-?)({_INT})")
_KEPT = re.compile(r"[^a-z0-9,.!?;:'\- ]")


def _below_thousand(n: int) -> str:
    words = []
    if n >= 100:
        words.append(_ONES[n // 100] + " hundred")
        n %= 100
    if n >= 20:
        words.append(_TENS[n // 10] + ("-" + _ONES[n % 10] if n % 10 else ""))
    elif n or not words:
        words.append(_ONES[n])
    return " ".join(words)


def number_to_words(n: int) -> str:
    """Spell out an integer ("-42" → "minus forty-two"; "1200" → "one thousand two hundred")."""
    if n < 0:
        return "minus " + number_to_words(-n)
    if n < 1000:
        return _below_thousand(n)
    groups = []
    scale = 0
    while n:
        n, group = divmod(n, 1000)
        if group:
            if scale >= len(_SCALES):
                raise ParameterError(f"n={n} is too large to spell out")
            groups.append(_below_thousand(group) + (" " + _SCALES[scale] if scale else ""))
        scale += 1
    return " ".join(reversed(groups))


def _ordinal(n: int) -> str:
    words = number_to_words(n)
    head, sep, last = words.rpartition(" ")
    prefix, hyphen, unit = last.rpartition("-")
    if unit in _ORDINAL_IRREGULAR:
        unit = _ORDINAL_IRREGULAR[unit]
    elif unit.endswith("y"):
        unit = unit[:-1] + "ieth"
    else:
        unit += "th"
    return head + sep + prefix + hyphen + unit


def _year(n: int) -> str:
    if 2000 <= n < 2010 or n % 1000 == 0:
        return number_to_words(n)
    high, low = divmod(n, 100)
    if low == 0:
        return number_to_words(high) + " hundred"
    return number_to_words(high) + (" oh " if low < 10 else " ") + number_to_words(low)


def _integer(text: str) -> int:
    return int(text.replace(",", ""))


def _currency(match: re.Match) -> str:
    unit, units, minor, minors = _CURRENCY[match.group(1)]
    whole = _integer(match.group(2))
    fraction = int((match.group(3) or "0")[:2].ljust(2, "0"))
    parts = []
    if whole or not fraction:
        parts.append(f"{number_to_words(whole)} {unit if whole == 1 else units}")
    if fraction:
        parts.append(f"{number_to_words(fraction)} {minor if fraction == 1 else minors}")
    return ", ".join(parts)


def _digits(text: str) -> str:
    return " ".join(_ONES[int(d)] for d in text)


def _decimal(match: re.Match) -> str:
    sign = "minus " if match.group(1) else ""
    return f"{sign}{number_to_words(_integer(match.group(2)))} point {_digits(match.group(3))}"


def _cardinal(match: re.Match) -> str:
    sign, digits = match.group(1), match.group(2)
    n = _integer(digits)
    if not sign and "," not in digits and len(digits) == 4 and 1100 <= n < 2100:
        return _year(n)
    return number_to_words(-n if sign else n)


def _transliterate(text: str) -> str:
    text = "".join(_TRANSLITERATION.get(c, c) for c in text)
    text = unicodedata.normalize("NFKD", text)
    # combining marks vanish; emoji, symbols and other scripts are dropped
    return "".join(c for c in text if c.isascii())


def normalize_text(text: str) -> str:
    """Written English → lower-case ASCII words with prosodic punctuation.

    Args:
        text: any Unicode string.

    Returns:
        The spoken form, e.g. ``"Dr. Smith paid $3.50 on May 21st, 1984."`` →
        ``"doctor smith paid three dollars, fifty cents on may twenty-first, nineteen
        eighty-four."``. Empty when ``text`` has nothing speakable (only emoji or spaces);
        callers that need tokens (``TextProcessor``) refuse that.

    Raises:
        ParameterError: ``text`` is not a string.
    """
    if not isinstance(text, str):
        raise ParameterError(f"text={text!r} must be a string")
    text = _CURRENCY_RE.sub(_currency, text)  # before transliteration drops £ and €
    text = _transliterate(text)
    for pattern, expansion in _ABBREVIATIONS:
        text = pattern.sub(expansion, text)
    text = text.replace("&", " and ").replace("+", " plus ").replace("@", " at ")
    text = _PERCENT_RE.sub(lambda m: m.group(1) + " percent", text)
    text = _ORDINAL_RE.sub(lambda m: _ordinal(_integer(m.group(1))), text)
    text = _DECIMAL_RE.sub(_decimal, text)
    text = _NUMBER_RE.sub(_cardinal, text)
    text = text.lower()
    text = _KEPT.sub(" ", text)
    text = re.sub(r"\s+([,.!?;:])", r"\1", text)  # no space before punctuation
    text = re.sub(r"\s+", " ", text).strip()
    return text


def split_sentences(text: str, *, max_chars: int = 300) -> list[str]:
    """Split long text into sentences of at most ``max_chars`` characters.

    Splits after ``. ! ?`` (and ``; :`` or ``,`` or spaces when a sentence is still too long),
    but not after a known abbreviation ("Dr.", "e.g." ...; "No." only before a number) or a
    single-letter initial ("J. Smith");
    a single word longer than ``max_chars`` is cut. Whitespace is collapsed; empty pieces are
    dropped, so ``"".join`` of the pieces equals the input up to whitespace.

    Args:
        text: the text (normalised or not).
        max_chars: the longest piece.

    Raises:
        ParameterError: ``max_chars`` is not a positive integer or ``text`` not a string.
    """
    if not isinstance(text, str):
        raise ParameterError(f"text={text!r} must be a string")
    if isinstance(max_chars, bool) or not isinstance(max_chars, int) or max_chars <= 0:
        raise ParameterError(f"max_chars={max_chars!r} must be a positive integer")
    text = re.sub(r"\s+", " ", text).strip()
    sentences: list[str] = []
    for piece in re.split(r"(?<=[.!?])\s+", text):
        if sentences and _continues(sentences[-1], piece):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    pieces: list[str] = []
    for sentence in sentences:
        pieces.extend(_split_long(sentence, max_chars, (r"(?<=[;:])\s+", r"(?<=,)\s+", r"\s+")))
    return [p for p in pieces if p]


_NO_SPLIT_AFTER = tuple(
    abbreviation for abbreviation in (
        "mrs.", "mr.", "dr.", "st.", "co.", "jr.", "sr.", "prof.", "capt.", "gen.", "lt.",
        "sgt.", "mt.", "ltd.", "ft.", "vs.", "etc.", "e.g.", "i.e.",
    )
)  # fmt: skip


def _continues(previous: str, piece: str) -> bool:
    """Whether ``piece`` continues the sentence ``previous`` (which ends in an abbreviation)."""
    last = previous.rsplit(" ", 1)[-1].lower()
    if last in _NO_SPLIT_AFTER or re.fullmatch(r"[a-z]\.", last):
        return not (last == "etc." and piece[:1].isupper())
    return last == "no." and piece[:1].isdigit()


def _split_long(text: str, max_chars: int, separators: tuple[str, ...]) -> list[str]:
    if len(text) <= max_chars:
        return [text]
    if not separators:
        return [text[i : i + max_chars] for i in range(0, len(text), max_chars)]
    out: list[str] = []
    current = ""
    for part in re.split(separators[0], text):
        candidate = f"{current} {part}" if current else part
        if len(candidate) <= max_chars:
            current = candidate
            continue
        if current:
            out.append(current)
        if len(part) <= max_chars:
            current = part
        else:
            out.extend(_split_long(part, max_chars, separators[1:]))
            current = ""
    if current:
        out.append(current)
    return out
