"""ptb_tokenize against the Java PTBTokenizer that pycocoevalcap ships (coco-caption's tokens).

The Java comparison runs pycocoevalcap's own ``PTBTokenizer.tokenize`` once on every caption
(generated corpus + issue #19's tricky cases + every BMP character between two letters) and
skips, with the reason, when ``java`` is not installed. The pinned cases below were copied
from the jar's output so that they also run without Java.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from synesthesia.errors import ParameterError
from synesthesia.text.ptb import ptb_tokenize

# the caption generator shared with tests/metrics/test_caption_ptb.py (tests are no package)
_spec = importlib.util.spec_from_file_location(
    "_captions", Path(__file__).with_name("_captions.py")
)
_captions = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_captions)
TRICKY, varied_captions = _captions.TRICKY, _captions.varied_captions

NUM_GENERATED = 2000
# Code points that end a line for the jar; coco-caption joins captions with "\n" and would
# shift every later caption, so they cannot be compared line by line (documented).
LINE_BREAKS = {0x0A, 0x0B, 0x0C, 0x0D, 0x2028, 0x2029}

# (caption, tokens the jar gives after coco-caption's punctuation removal)
PINNED = [
    ("A man's dog isn't here.", ["a", "man", "'s", "dog", "is", "n't", "here"]),
    ("a well-known 3.5 inch ... !?", ["a", "well-known", "3.5", "inch", "!?"]),
    ("Two dogs 🐶🐶 playing", ["two", "dogs", "playing"]),
    ("can't won't cannot gonna", ["ca", "n't", "wo", "n't", "can", "not", "gon", "na"]),
    ("A 1,000-piece puzzle (on sale) $12.50", ["a", "1,000-piece", "puzzle", "-lrb-", "on",
                                                "sale", "-rrb-", "$", "12.50"]),
    ("Mr. Smith's U.S. flag, e.g. the big one.", ["mr.", "smith", "'s", "u.s.", "flag",
                                                  "e.g.", "the", "big", "one"]),
    ("a 3 1/2 inch ½ pie", ["a", "3\xa01/2", "inch", "1/2", "pie"]),
    ("It’s “great”… 50% at 3:30", ["it", "'s", "great", "50", "%", "at", "3:30"]),
    ("café & crème brûlée, £5 or €6", ["café", "&", "crème", "brûlée", "#", "5", "or", "$",
                                       "6"]),
    ("black/white x-ray -- of a dog.., ok!!", ["black/white", "x-ray", "of", "a", "dog", "ok",
                                               "!!"]),
]  # fmt: skip


@pytest.mark.parametrize(("caption", "expected"), PINNED)
def test_pinned_jar_outputs(caption, expected):
    assert ptb_tokenize(caption) == expected


def test_empty_and_errors():
    assert ptb_tokenize("") == []
    assert ptb_tokenize(" ... !") == []
    with pytest.raises(ParameterError, match="text=3"):
        ptb_tokenize(3)


def _char_lines() -> list[str]:
    return [
        f"xa{chr(c)}yb"
        for c in range(0x20, 0x10000)
        if not 0xD800 <= c < 0xE000 and c not in LINE_BREAKS
    ]


@pytest.fixture(scope="module")
def jar_tokens():
    """pycocoevalcap's PTBTokenizer on every test line, in one Java call.

    Each line is followed by the separator "X": a few of the jar's rules look across the end
    of a line into the next caption (see test_documented_cross_line_difference), so the
    separator makes every caption tokenised as if it stood alone, which is what
    ptb_tokenize models.
    """
    if shutil.which("java") is None:
        pytest.skip("java is not installed: cannot run pycocoevalcap's PTBTokenizer")
    tokenizer_module = pytest.importorskip("pycocoevalcap.tokenizer.ptbtokenizer")
    captions = TRICKY + varied_captions(NUM_GENERATED, seed=19)
    chars = _char_lines()
    cross = ["a sign with the letter B.", "The dog runs."]
    lines = [x for c in captions + chars for x in (c, "X")] + cross
    batch = {i: [{"caption": line}] for i, line in enumerate(lines)}
    out = tokenizer_module.PTBTokenizer().tokenize(batch)
    tokens = [out[i][0] for i in range(len(lines))]
    return {
        "captions": list(zip(captions, tokens[0 : 2 * len(captions) : 2])),
        "chars": list(zip(chars, tokens[2 * len(captions) : -2 : 2])),
        "cross": list(zip(cross, tokens[-2:])),
    }


def _disagreements(pairs):
    out = []
    for text, coco in pairs:
        ours = ptb_tokenize(text)
        if ours != (coco.split(" ") if coco else []):
            out.append((text, coco, ours))
    return out


def test_generated_captions_match_the_jar(jar_tokens):
    pairs = jar_tokens["captions"]
    bad = _disagreements(pairs)
    print(f"ptb_tokenize == coco-caption PTBTokenizer on {len(pairs) - len(bad)}/{len(pairs)}")
    assert bad == []


def test_tricky_cases_match_the_jar(jar_tokens):
    pairs = [p for p in jar_tokens["captions"] if p[0] in TRICKY]
    assert len(pairs) == len(TRICKY)
    assert _disagreements(pairs) == []


def test_every_bmp_character_matches_the_jar(jar_tokens):
    pairs = jar_tokens["chars"]
    assert len(pairs) > 60000
    assert _disagreements(pairs) == []


def test_documented_cross_line_difference(jar_tokens):
    # coco-caption: a single letter + "." at the end of a caption loses its period when the
    # next caption in the Java batch starts with "The", "A " ... ptb_tokenize keeps "b."
    # as the jar does for a caption followed by anything else.
    (first, coco_first), (_, coco_second) = jar_tokens["cross"]
    assert coco_first.split(" ")[-1] == "b"
    assert ptb_tokenize(first)[-1] == "b."
    assert coco_second == "the dog runs"
