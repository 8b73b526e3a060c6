"""normalize_text and split_sentences: numbers, ordinals, years, currency, abbreviations,
Unicode, emoji, empty input, long input."""

from __future__ import annotations

import pytest

from synesthesia.errors import ParameterError
from synesthesia.text import normalize_text, split_sentences
from synesthesia.text.normalize import number_to_words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", "zero"),
        ("7", "seven"),
        ("42", "forty-two"),
        ("100", "one hundred"),
        ("115", "one hundred fifteen"),
        ("1,234,567", "one million two hundred thirty-four thousand five hundred sixty-seven"),
        ("-7 degrees", "minus seven degrees"),
        ("3.14", "three point one four"),
        ("-0.5", "minus zero point five"),
        ("pages 3-4", "pages three-four"),
    ],
)
def test_numbers(text, expected):
    assert normalize_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1st", "first"), ("2nd", "second"), ("3rd", "third"), ("12th", "twelfth"),
        ("21st", "twenty-first"), ("40th", "fortieth"), ("101st", "one hundred first"),
        ("22nd", "twenty-second"), ("99th", "ninety-ninth"),
    ],
)  # fmt: skip
def test_ordinals(text, expected):
    assert normalize_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1984", "nineteen eighty-four"), ("2005", "two thousand five"),
        ("1900", "nineteen hundred"), ("1905", "nineteen oh five"), ("2000", "two thousand"),
        ("2024", "twenty twenty-four"), ("1066", "one thousand sixty-six"),
    ],
)  # fmt: skip
def test_years(text, expected):
    assert normalize_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$3.50", "three dollars, fifty cents"),
        ("$1", "one dollar"),
        ("$0.01", "one cent"),
        ("$1,000", "one thousand dollars"),
        ("£2", "two pounds"),
        ("£1.05", "one pound, five pence"),
        ("€2.05", "two euros, five cents"),
        ("50%", "fifty percent"),
        ("12.5%", "twelve point five percent"),
    ],
)
def test_currency_and_percentages(text, expected):
    assert normalize_text(text) == expected


def test_abbreviations():
    assert normalize_text("Mr. and Mrs. Smith met Dr. Who on St. James") == (
        "mister and missus smith met doctor who on saint james"
    )
    assert normalize_text("cats vs. dogs, e.g. pets, i.e. animals, etc.") == (
        "cats versus dogs, for example pets, that is animals, et cetera"
    )


def test_sentence_with_everything():
    assert normalize_text("Dr. Smith paid $3.50 on May 21st, 1984!") == (
        "doctor smith paid three dollars, fifty cents on may twenty-first, nineteen eighty-four!"
    )


def test_unicode_is_transliterated_and_emoji_dropped():
    assert normalize_text("Café naïve façade — “quoted” Straße") == (
        "cafe naive facade - quoted strasse"
    )
    assert normalize_text("Ærøskøbing 🎉🚀 ★ rocks") == "aeroskobing rocks"
    assert normalize_text("it’s") == "it's"
    assert normalize_text("Wait…") == "wait..."


def test_punctuation_kept_and_whitespace_collapsed():
    assert normalize_text("  Hello ,  world !\n\tHow are you ?  Fine ; ok :  yes.  ") == (
        "hello, world! how are you? fine; ok: yes."
    )


def test_empty_and_symbol_only_text_normalise_to_empty():
    assert normalize_text("") == ""
    assert normalize_text("   ") == ""
    assert normalize_text("🎉🎉") == ""
    assert normalize_text("?!") == "?!"


def test_errors():
    with pytest.raises(ParameterError, match="text"):
        normalize_text(None)
    with pytest.raises(ParameterError, match="max_chars"):
        split_sentences("a b", max_chars=0)


def test_number_to_words_large():
    assert number_to_words(2_000_000_001) == "two billion one"


def test_long_text_splits_into_sentences():
    sentence = "The quick brown fox jumps over the lazy dog, again and again. "
    text = sentence * 82  # about 5,000 characters
    assert len(text) > 5000
    pieces = split_sentences(text, max_chars=200)
    assert len(pieces) == 82
    assert all(0 < len(p) <= 200 for p in pieces)
    assert " ".join(pieces) == " ".join(text.split())


def test_overlong_sentence_splits_at_commas_then_spaces():
    text = ("word " * 30).strip() + ", " + ("more " * 30).strip() + "."
    pieces = split_sentences(text, max_chars=60)
    assert all(len(p) <= 60 for p in pieces)
    assert " ".join(pieces) == text
    assert split_sentences("x" * 25, max_chars=10) == ["x" * 10, "x" * 10, "x" * 5]


def test_split_sentences_keeps_abbreviations_and_initials_inside_sentences():
    text = ("Dr. Smith paid $3.50. Then he left! I said no. Then J. Smith came, e.g. today. "
            "Room No. 5 is here. We sold apples etc. Then pears.")  # fmt: skip
    assert split_sentences(text) == [
        "Dr. Smith paid $3.50.", "Then he left!", "I said no.",
        "Then J. Smith came, e.g. today.", "Room No. 5 is here.", "We sold apples etc.",
        "Then pears.",
    ]  # fmt: skip
