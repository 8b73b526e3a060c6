"""Penn Treebank tokenisation of captions, as the COCO caption evaluation does it, in Python.

coco-caption (pycocoevalcap 1.2, ``tokenizer/ptbtokenizer.py``) writes the captions one per
line, runs Stanford CoreNLP 3.4.1's ``edu.stanford.nlp.process.PTBTokenizer -preserveLines
-lowerCase`` on them (Java), splits each output line on spaces and drops the tokens in its
``PUNCTUATIONS`` list. :func:`ptb_tokenize` gives the same tokens without Java. It is our own
rule set, written from the tokenizer's observed output (black-box tests against the shipped
jar), not a translation of CoreNLP's lexer. What it reproduces, as the jar does it:

- contractions and possessives split off: ``isn't`` → ``is n't``, ``can't`` → ``ca n't``,
  ``dog's`` → ``dog 's``, also ``'re 'll 'd 've 'm``, upper case and curly apostrophes;
  ``cannot gonna gotta wanna gimme lemme`` split in two; ``o'clock``, ``'90s``, ``'em`` kept;
- hyphens, slashes and underscores inside words kept (``well-known``, ``and/or``);
  ``--``, dashes and lone hyphens are punctuation and removed;
- numbers with decimals, thousands separators and times kept whole (``3.5``, ``1,000``,
  ``3:30``); fractions such as ``3 1/2`` become one token joined by a no-break space, and
  ``½`` becomes ``1/2``; ``$5`` → ``$ 5``, ``£`` → ``#``, ``€`` → ``$``, ``50%`` → ``50 %``;
- runs of ``!``/``?`` other than a single one (``!!``, ``?!``, ``!?``) are tokens that
  coco-caption does *not* remove; ``...``, ``…`` and quotes of every kind are removed;
- brackets become ``-lrb- -rrb- -lsb- -rsb- -lcb- -rcb-``: lower-cased, so coco-caption's
  list (which has the upper-case forms) does not remove them and neither do we;
- a final period is split off a word (and removed) but stays on abbreviations the jar knows
  (``mr.``, ``st.``, ``etc.``, ``u.s.``, single letters ``a.``), whose list we measured;
- emoji and every other character outside the Basic Multilingual Plane are deleted, as are
  the BMP characters the jar cannot tokenise; which BMP characters join words, stand alone
  or vanish was measured for every code point and is stored in this module;
- URLs, e-mail addresses, ``#tags``, ``<tags>``, ``AT&T``, smileys (``:)`` → ``:-rrb-``),
  phone numbers, HTML entities (``&amp;`` → ``&``).

Measured agreement with the jar (pycocoevalcap 1.2's ``stanford-corenlp-3.4.1.jar``, each
caption followed by an unrelated line): identical token lists for 2,012 of 2,012 captions of
``tests/text/test_ptb.py`` (2,000 generated captions mixing the phenomena above with plain
words, plus the 12 tricky cases of issue #19) and for all 63,454 BMP characters placed
between two letters; 11,995 of 12,000 random strings of letters, digits and ASCII
punctuation, and 12,000 of 12,000 with curly quotes, accents, emoji and symbols. Known
differences:

- a few of the jar's rules look past the end of a line into the *next* caption of its batch:
  a caption ending in a single letter and a period (``vitamin C.``) keeps ``c.`` unless the
  next caption starts with a word such as ``The`` or ``A`` (then ``c``); ``no.`` at the end
  keeps its period only if the next caption starts with a digit. ptb_tokenize tokenises each
  caption on its own (``c.``, ``no``);
- a line-breaking character (``\\r``, ``\\v``, ``\\f``, U+2028, U+2029) inside a caption
  makes coco-caption shift every later caption by a line (a bug of its Python wrapper);
  here it only separates tokens;
- the mismatches left in random strings are e-mail-like tokens with ``<`` or ``>`` and other
  symbol soups that do not occur in captions.

References:
    Chen et al., "Microsoft COCO Captions: Data Collection and Evaluation Server", 2015
    (coco-caption ``PTBTokenizer``); Manning et al., "The Stanford CoreNLP Natural Language
    Processing Toolkit", ACL 2014 (``PTBTokenizer``, version 3.4.1, as shipped in
    pycocoevalcap 1.2).
"""

from __future__ import annotations

import re

from synesthesia.errors import ParameterError

__all__ = ["ptb_tokenize", "COCO_PUNCTUATIONS"]

# The tokens coco-caption removes after tokenising (pycocoevalcap ``PUNCTUATIONS``).
COCO_PUNCTUATIONS = frozenset(
    ["''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-", ".", "?", "!", ",", ":", "-"]
    + ["--", "...", ";"]
)

# Non-ASCII BMP code points by how the jar treats one of them between two letters (measured
# on every code point): _DELETED vanish (white space or "untokenizable"), _ALONE become a
# token of their own. Every other non-ASCII BMP code point continues a word, like a letter,
# except the few that the jar rewrites (_REWRITE). Hexadecimal, "a-b" is a closed range.
_DELETED = """
81-84 86-90 95 98-a0 37f-383 38b 38d 3a2 482 488-489 528-530 557-558 560 588 58b-590
5c8-5cf 5eb-5ef 5f5-5ff 604-605 60d-613 61c-61d 65f 66b-66c 70e 7b2-7bf 7f9 7fb-7ff
816-819 81b-823 825-827 829-83f 859-89f 8a1 8ad-8ff 93a-93b 94f 956-957 970 978 980 984
98d-98e 991-992 9a9 9b1 9b3-9b5 9ba-9bb 9c5-9c6 9c9-9ca 9cf-9d6 9d8-9db 9de 9e4-9e5
9f2-a00 a04 a0b-a0e a11-a12 a29 a31 a34 a37 a3a-a3b a3d a50-a58 a5d a5f-a65 a70-a71
a75-a80 a84 a8e a92 aa9 ab1 ab4 aba-abb ad1-adf ae2-ae5 af0-b04 b0d-b0e b11-b12 b29 b31
b34 b3a-b3c b3e-b5b b5e b62-b65 b70 b72-b81 b84 b8b-b8d b91 b96-b98 b9b b9d ba0-ba2
ba5-ba7 bab-bad bba-bbd bc3-bc5 bc9 bce-bcf bd1-be5 bf0-c00 c04 c0d c11 c29 c34 c3a-c3c
c57 c5a-c5f c62-c65 c70-c84 c8d c91 ca9 cb4 cba-cbc cbe-cdd cdf ce2-ce5 cf0 cf3-d04 d0d
d11 d3b-d3c d45 d49-d4d d4f-d5f d62-d65 d70-d79 d80-d84 d97-d99 db2 dbc dbe-dbf dc7-e00
e3b-e3e e5a-e80 e83 e85-e86 e89 e8b-e8c e8e-e93 e98 ea0 ea4 ea6 ea8-ea9 eac ebe-ebf ec5
ec7 ece-ecf eda-edb ee0-eff f01-f1f f2a-f3f f48 f6d-f87 f8d-fff 102b-103e 104a-104f
1056-1059 105e-1060 1062-1064 1067-106d 1071-1074 1082-108d 108f 109a-109f 10c6
10c8-10cc 10ce-10cf 10fb 1249 124e-124f 1257 1259 125e-125f 1289 128e-128f 12b1
12b6-12b7 12bf 12c1 12c6-12c7 12d7 1311 1316-1317 135b-137f 1390-139f 13f5-1400
166d-166e 1680 169b-169f 16eb-16ff 170d 1712-171f 1732-173f 1752-175f 176d 1771-177f
17b4-17d6 17d8-17db 17dd-17df 17ea-180f 181a-181f 1878-187f 18a9 18ab-18af 18f6-18ff
191d-1945 196e-196f 1975-197f 19ac-19c0 19c8-19cf 19da-19ff 1a17-1a1f 1a55-1a7f
1a8a-1a8f 1a9a-1aa6 1aa8-1b04 1b34-1b44 1b4c-1b4f 1b5a-1b82 1ba1-1bad 1be6-1bff
1c24-1c3f 1c4a-1c4c 1c7e-1ce8 1ced 1cf2-1cf4 1cf7-1cff 1dc0-1dff 1f16-1f17 1f1e-1f1f
1f46-1f47 1f4e-1f4f 1f58 1f5a 1f5c 1f5e 1f7e-1f7f 1fb5 1fbf-1fc1 1fc5 1fcd-1fcf
1fd4-1fd5 1fdc-1fdf 1fed-1ff1 1ff5 1ffd-200f 2012 2024-2025 2027-202f 203c-203d 2043
2045-206f 2072-2073 208f 209d-209f 20a1-20a3 20a5-20ab 20ad-20ff 2150-2152 215f-2182
2185-218f 2c2f 2c5f 2ce5-2cea 2cef-2cf1 2cf4-2cff 2d26 2d28-2d2c 2d2e-2d2f 2d68-2d6e
2d70-2d7f 2d97-2d9f 2da7 2daf 2db7 2dbf 2dc7 2dcf 2dd7 2ddf-2e2e 2e30-3000 3003-3004
3007-3011 3013-3030 3036-303a 303d-3040 3097-309c 30a0 3100-3104 312e-3130 318f-319f
31bb-31ef 3200-33ff 4db6-4dff 9fcd-9fff a48d-a4cf a4fe-a4ff a60d-a60f a62c-a63f
a66f-a67e a698-a69f a6e6-a716 a720-a721 a789-a78a a78f a794-a79f a7ab-a7f7 a802 a806
a80b a823-a83f a874-a881 a8b4-a8cf a8da-a8f1 a8f8-a8fa a8fc-a8ff a926-a92f a947-a95f
a97d-a983 a9b3-a9ce a9da-a9ff aa29-aa3f aa43 aa4c-aa4f aa5a-aa5f aa77-aa79 aa7b-aa7f
aab0 aab2-aab4 aab7-aab8 aabe-aabf aac1 aac3-aada aade-aadf aaeb-aaf1 aaf5-ab00
ab07-ab08 ab0f-ab10 ab17-ab1f ab27 ab2f-abbf abe3-abef abfa-abff d7a4-d7af d7c7-d7ca
d7fc-f8ff fa6e-fa6f fada-faff fb07-fb12 fb18-fb1c fb1e fb29 fb37 fb3d fb3f fb42 fb45
fbb2-fbd2 fd3e-fd4f fd90-fd91 fdc8-fdef fdfc-fe6f fe75 fefd-ff00 ffbf-ffc1 ffc8-ffc9
ffd0-ffd1 ffd8-ffd9 ffdd-ffdf ffe2-ffe4 ffe7-ffff
"""
_ALONE = """
a1 a5-a9 ac ae-b4 b6-b9 bf d7 f7 37e 387 589 5be 5c0 5c3 5c6 5f3-5f4 600-603 606-60c 614
61b 61e-61f 66a 66d 6d4 700-70d 7f6-7f8 964-965 e3f e4f 1fbd 2016-2017 201a 201e-2023
2030-2038 203b 203e-2042 2044 2070 2074-207e 2080-208e 20a4 2100-2101 2103-2106
2108-2109 2114 2116-2118 211e-2123 2125 2127 2129 212e 213a-213b 2140-2144 214a-214d
214f 2155-215e 2190-2bff 3001-3002 3012 30fb ff01-ff0f ff1a-ff20 ff3b-ff40 ff5b-ff65
ffe0-ffe1 ffe5-ffe6
"""
# Rewritten characters: dashes, currency, ellipsis, fractions.
_REWRITE = {
    "\x80": "$", "\xa2": "cents", "\xa3": "#", "\xa4": "$", "\u20a0": "$", "\u20ac": "$",
    "\x85": "...", "\u2026": "...", "\x96": "--", "\x97": "--", "\u2013": "--",
    "\u2014": "--", "\u2015": "--", "\xbc": "1/4", "\xbd": "1/2", "\xbe": "3/4",
    "\u2153": "1/3", "\u2154": "2/3",
}  # fmt: skip

# Curly, low and angle quotes: a run of one or two is one token, each mark rewritten (the
# rewritten pair is a token coco-caption keeps unless it is `` or '').
_QUOTES = {
    "`": "`", "\u2018": "`", "\u201b": "`", "\x91": "`", "\u2039": "`", "\u2019": "'",
    "\x92": "'", "\u203a": "'", "\u201c": "``", "\x93": "``", "\xab": "``", "\u201d": "''",
    "\x94": "''", "\xbb": "''", "\u201a": "\u201a", "\u201e": "\u201e",
}  # fmt: skip

# Abbreviations whose final period the jar keeps (measured on every 1-5 letter word in lower,
# Capitalised and UPPER case, in "x WORD. y"; longer ones from a list of candidates, of which
# messrs and bancorp kept it): any case for _ABBREV_ANY_CASE, exactly as
# written for _ABBREV_EXACT; single letters in either case. _ABBREV_BEFORE_NUMBER keep it
# only before a number ("no. 5", "no.1"), in any case.
_ABBREV_ANY_CASE = """
adj adm adv al ala alex apr ariz assn asst atty aug ave bhd bldg blvd brig bros capt cf cie
cmdr co col colo conn corp cos cpl ct dak dec dept det dr drs elec ens esq est etc ext feb
fla fri ft ga gen gov govs hon inc ind insp intl invt jan jos jr jul jun kan kans ky lt ltd
maj mar md mich minn mlle mme mo mon mont mr mrs ms msgr mt natl neb nev nov oct okla penn
pfc ph plc pres prof pvt rd rep reps rev rt sen sens sep sept seq sfc sgt spc sq sr st ste
supt sys tel tenn thu tue tues univ va vs vt wed wis wisc wm wyo assoc attys calif comdr lieut
profs supts thurs treas messrs bancorp
""".split()
_ABBREV_EXACT = """
ARK AZ Ark Az DEL Del ILL Ill LA La MASS MISS Mass Mfg Miss Mtg ORE Ore PA Pa Ppte Ppty Pte
Ptes Pty Ptys TEX Tex WASH Wash mfg mtg ppte ppty pte ptes pty ptys Pptes Pptys pptes pptys
""".split()
_ABBREV_BEFORE_NUMBER = "art ca fig figs no nos op pp prop".split()
# A single letter loses its period before one of these words (capitalised, then a space) and
# at the end of the caption (measured exhaustively up to 5 letters; longer ones from a list).
_SENTENCE_STARTS = """
a an as at he if in it so we but her now one our she the yet you here last many more once
some such that then they this what when about after other since their there these while
however additionally earlier mr. ms.
""".split()


def _ranges(spec: str) -> list[tuple[int, int]]:
    out = []
    for item in spec.split():
        lo, _, hi = item.partition("-")
        out.append((int(lo, 16), int(hi or lo, 16)))
    return out


def _char_class(ranges: list[tuple[int, int]]) -> str:
    return "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )


def _word_ranges() -> list[tuple[int, int]]:
    taken = set()
    for a, b in _ranges(_DELETED) + _ranges(_ALONE):
        taken.update(range(a, b + 1))
    taken.update(ord(c) for c in _REWRITE)
    taken.update(ord(c) for c in _QUOTES)
    taken.add(0xAD)
    out: list[tuple[int, int]] = []
    for c in range(0x80, 0x10000):
        if c in taken:
            continue
        if out and out[-1][1] == c - 1:
            out[-1] = (out[-1][0], c)
        else:
            out.append((c, c))
    return out


_LETTERS = "A-Za-z" + _char_class(_word_ranges())
_L = f"[{_LETTERS}]"
_LD = f"[{_LETTERS}0-9]"
_APOS = "['\x92\u2019]"
_APOSX = "['\x92\u2019`\x91\u2018\u201b]"
_NUM = r"(?:[0-9]*(?:[.:,\xad][0-9]+)+|[0-9]+)"
# Characters that separate tokens without being a space (the jar deletes them): controls,
# everything outside the BMP and the measured deletions. They become NUL before scanning;
# only " " and U+00A0 count as the space inside "3 1/2" and phone numbers.
_DELETE = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f"
    + _char_class([r for r in _ranges(_DELETED) if r != (0x98, 0xA0)] + [(0x98, 0x9F)])
    + "\U00010000-\U0010ffff]"
)
_ALONE_RE = f"[{_char_class(_ranges(_ALONE))}]"
_BRACKETS = {"(": "-LRB-", ")": "-RRB-", "[": "-LSB-", "]": "-RSB-", "{": "-LCB-", "}": "-RCB-"}


def _any_case(words: list[str]) -> str:
    return "|".join(f"(?i:{w})" for w in sorted(words, key=len, reverse=True))


_ABBREV = (
    _any_case(_ABBREV_ANY_CASE)
    + "|"
    + "|".join(sorted(_ABBREV_EXACT, key=len, reverse=True))
    + "|[A-Za-z]"
)
_STARTS = "|".join(
    w[0].upper() + (f"(?i:{re.escape(w[1:])})" if w[1:] else "") for w in _SENTENCE_STARTS
)
_SGML = (
    r"</?[A-Za-z][A-Za-z0-9_:.-]*(?:\s+[A-Za-z_:][A-Za-z0-9_:.-]*(?:\s*=\s*(?:\"[^\"]*\""
    r"|'[^']*'))?)*\s*/?>|<!--[^>]*-->|<\?[A-Za-z][^>]*>"
)
_SLASH_PART = "[A-Za-z0-9]+(?:-[A-Za-z][A-Za-z0-9]*)*"
_THING_PART = f"(?:[dDoOlL]{_APOSX}{_LD})?{_LD}+"

# (name, token pattern, trailing-context pattern or None). Like the jar's lexer, the rule
# whose token + context is longest wins; ties go to the earlier rule. Only the token part is
# consumed.
_RULES: list[tuple[str, str, str | None]] = [
    ("split", "(?i:can(?=not)|gon(?=na)|got(?=ta)|wan(?=na)|gim(?=me)|lem(?=me))",
     "(?i:not|na|ta|me)"),
    ("keep", f"{_APOS}[tT]", "(?i:is|was)"),
    ("keep", f"[yY]{_APOS}", "(?i:all)"),
    ("keep", f"{_L}{_LD}*(?:[.!?]{_L}{_LD}*)*",
     f"{_APOS}(?:[msdMSD]|[rR][eE]|[vV][eE]|[lL][lL])"),
    ("keep", "[A-Za-z\xad]*[A-MO-Za-mo-z]\xad*", f"[nN]{_APOSX}[tT]"),
    ("redaux", "'(?:[msdMSD]|[rR][eE]|[vV][eE]|[lL][lL])", "[^A-Za-z]|$"),
    ("redaux", "[\x92\u2019](?:[msdMSD]|[rR][eE]|[vV][eE]|[lL][lL])", None),
    ("nt", f"[nN]{_APOSX}[tT]", None),
    ("keep", f"{_L}{_LD}*(?:[.!?]{_L}{_LD}*)*", None),
    ("keep", f"{_APOS}[nN]", None),
    ("keep", f"{_APOS}[nN]{_APOS}|[lLdDjJ]{_APOS}|(?:Dunkin|somethin|ol){_APOS}|{_APOS}(?i:em)"
     f"|{_APOS}[2-9]0[sS]|{_APOS}(?i:till?|cause)|[A-HJ-XZn]{_APOSX}{_L}{{2}}{_L}*"
     f"|{_L}+[aeiouyAEIOUY]{_APOSX}[aeiouA-Z]{_L}*|cont'd\\.?|'twas|nor'easter|c'mon|e'er"
     f"|s'mores|ev'ry|li'l|nat'l|O{_APOSX}o", None),
    ("keep", f"{_APOS}[0-9][0-9]", r"\s|$"),
    ("keep", r"(?i:https?)://[^\s\x00\"<>|()]*[^\s\x00\"<>|.!?(){},-]", None),
    ("keep", r"www\.(?:[^\s\x00\"<>|.!?(){},]+\.)+[a-zA-Z]{2,4}", None),
    ("keep", r"(?:[^\s\x00\"`'<>|.!?(){},\-_$]+\.)+(?:com|net|org|edu)"
     r"(?:/[^\s\x00\"<>|()]*[^\s\x00\"<>|.!?(){},-])?", None),
    ("keep", r"<?[a-zA-Z0-9][^\s\x00\"<>|(){}]*@(?:[^\s\x00\"<>|(){}.]+\.)*[^\s\x00\"<>|(){}.]+",
     None),
    ("keep", r"[0-9]{1,2}[-/][0-9]{1,2}[-/][0-9]{2,4}", None),
    ("keep", f"[-+]?{_NUM}", None),
    ("frac", r"(?:[0-9]{1,4}[- ])?[0-9]{1,4}(?:\\?/|\u2044)[0-9]{1,4}", None),
    ("keep", f"(?:{_ABBREV})\\.", None),
    ("keep", "[A-Za-z]", rf"\.\s+(?:(?:{_STARTS})(?=\s|$)|{_SGML})"),
    ("keep", r"[A-Za-z](?:\.[A-Za-z])+\.|(?i:ph|ed)\.[dD]\.", None),
    ("keep", f"(?:{_any_case(_ABBREV_BEFORE_NUMBER)})\\.", " ?[0-9]"),
    ("keep", f"{_THING_PART}(?:[-_\u058a\u2010\u2011]{_THING_PART})*\\.", "[,;:]"),
    ("keep", f"{_THING_PART}(?:[-_\u058a\u2010\u2011]{_THING_PART})*", None),
    ("keep", f"{_SLASH_PART}(?:\\\\?/{_SLASH_PART})+", None),
    ("keep", r"[\^\-~=<>']_[\^\-~=<>']", None),
    ("keep", "[A-Za-z0-9][A-Za-z0-9.,]*(?:-[A-Za-z0-9]+)+", None),
    ("thinga", r"[A-Z]+(?:(?:[+&]|&(?i:amp);)[A-Z]+)+", None),
    ("keep", r"[cC]\+\+", None),
    ("keep", f"#{_L}+|@[A-Za-z_][A-Za-z0-9_]*", None),
    ("sgml", _SGML, None),
    ("phone", r"(?:\([0-9]{2,3}\) ?|(?:\+\+?)?(?:[0-9]{2,4}[- ])?[0-9]{2,4}[- /])[0-9]{3,4}"
     r"[- ]?[0-9]{3,5}|(?:(?:\+\+?)?[0-9]{2,4}\.)?[0-9]{2,4}\.[0-9]{3,4}\.[0-9]{3,5}", None),
    ("smiley", r"[<>]?[:;=][-o*']?[()DPdpO\\{@|\[\]]", "[^A-Za-z0-9]|$"),
    ("keep", r"-(?:RRB|LRB|RCB|LCB|RSB|LSB)-", None),
    ("keep", r"[A-Z]*\$|#+|@+|_+|\*+|(?:\\\*){1,3}|<<|>>", None),
    ("amp", r"&(?i:amp|lt|gt|nbsp);|&quot;|&apos;", None),
    ("keep", r"&(?i:quot);", None),
    ("keep", r"&#[0-9]+;", None),
    ("drop", r"\.{3,5}|-{2,}|[\x96\x97\u2013\u2014\u2015]", None),
    ("quote", f"[{''.join(_QUOTES)}]{{1,2}}", None),
    ("drop", "[\"']|''", None),
    ("drop", "'", "[A-Za-z][^ ]"),
    ("keep", r"[?!]+", None),
    ("bracket", r"[()\[\]{}]", None),
    ("rewrite", "[" + "".join(_REWRITE) + "]", None),
    ("keep", f"[.,;:\\-+%&~^|\\\\<>=/]|{_ALONE_RE}", None),
    ("keep", f"{_L}", None),
]  # fmt: skip
_COMPILED = [
    (name, re.compile(token), re.compile(context) if context else None)
    for name, token, context in _RULES
]
# Fast path: an ASCII word followed by a space or the end is a token of its own, except these.
_PLAIN_WORD = re.compile("[A-Za-z]+(?= |$)")
_SPLIT_WORDS = frozenset(["cannot", "gonna", "gotta", "wanna", "gimme", "lemme"])
_AMP = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}  # &quot; &apos; &nbsp;: removed


def _emit(name: str, text: str) -> str | None:
    if name == "split" or name == "keep":
        return text
    if name == "quote":
        return "".join(_QUOTES[c] for c in text)
    if name == "redaux":
        return "'" + text[1:]
    if name == "nt":
        return "n" + ("`" if text[1] in "`\x91\u2018\u201b" else "'") + "t"
    if name == "phone":
        return text.replace(" ", "\xa0").replace("(", "-LRB-").replace(")", "-RRB-")
    if name == "sgml":
        return text.replace(" ", "\xa0")
    if name == "frac":
        return text.replace(" ", "\xa0").replace("\\/", "/")
    if name == "smiley":
        return text.replace("(", "-LRB-").replace(")", "-RRB-")
    if name == "bracket":
        return _BRACKETS[text]
    if name == "amp":
        return _AMP.get(text.lower())
    if name == "thinga":
        return re.sub("&(?i:amp);", "&", text)
    if name == "rewrite":
        return _REWRITE[text]
    return None  # "drop": punctuation coco-caption removes


def ptb_tokenize(text: str) -> list[str]:
    """Tokenise a caption as coco-caption's PTBTokenizer does, punctuation removed.

    Args:
        text: one caption.

    Returns:
        The lower-cased tokens, e.g. ``"A man's dog isn't here."`` →
        ``["a", "man", "'s", "dog", "is", "n't", "here"]``.

    Raises:
        ParameterError: ``text`` is not a string.
    """
    if not isinstance(text, str):
        raise ParameterError(f"text={text!r} must be a string")
    text = _DELETE.sub("\x00", text.replace("\xa0", " "))
    text = re.sub(f"(?<={_LD})\xad(?={_LD})", "", text).replace("\xad", "\x00")
    tokens: list[str] = []
    pos, end = 0, len(text)
    while pos < end:
        if text[pos] in " \t\x00":
            pos += 1
            continue
        fast = _PLAIN_WORD.match(text, pos)
        if fast is not None and fast.group().lower() not in _SPLIT_WORDS:
            tokens.append(fast.group().lower())
            pos = fast.end()
            continue
        best_len, best = 0, None
        for name, token, context in _COMPILED:
            m = token.match(text, pos)
            if m is None or m.end() == pos:
                continue
            length = m.end() - pos
            if context is not None:
                c = context.match(text, m.end())
                if c is None:
                    continue
                length = c.end() - pos
            if length > best_len:
                best_len, best = length, (name, m.group())
        if best is None:  # cannot happen: every non-space character has a rule
            pos += 1
            continue
        name, piece = best
        pos += len(piece)
        out = _emit(name, piece)
        if out is not None:
            tokens.append(out.lower())
    return [t for t in tokens if t not in _LOWER_PUNCTUATIONS]


# Lower-casing happens before coco-caption's removal, so "-LRB-" etc. are never removed.
_LOWER_PUNCTUATIONS = frozenset(p for p in COCO_PUNCTUATIONS if p == p.lower())
