"""Sentence generators: GRID grammar, general English, digit strings, normalisation."""

import pytest

from synesthesia.data.sentences import (
    DIGITS,
    GENERAL_SENTENCES,
    GRID_LETTERS,
    GRID_SLOTS,
    digit_sentences,
    general_sentences,
    grid_sentences,
    make_sentences,
    normalize_numbers,
    number_to_words,
    transcript_words,
    vocabulary,
)
from synesthesia.errors import ParameterError


def test_grid_sentences_follow_the_grammar_and_are_seeded():
    sentences = grid_sentences(200, seed=3)
    for s in sentences:
        words = s.text.split()
        assert len(words) == 6 and s.kind == "grid"
        assert all(w in slot for w, slot in zip(words, GRID_SLOTS))
        assert s.words == words
        spoken = s.normalized.split()
        assert spoken[3] == ("eh" if words[3] == "a" else words[3])
        assert spoken[:3] + spoken[4:] == words[:3] + words[4:]
    assert "w" not in GRID_LETTERS and len(GRID_LETTERS) == 25
    assert grid_sentences(200, seed=3) == sentences
    assert grid_sentences(200, seed=4) != sentences
    # prefix-stable: asking for more keeps the first ones
    assert grid_sentences(50, seed=3) == sentences[:50]
    # every word of every slot turns up in 200 draws
    for slot_index, slot in enumerate(GRID_SLOTS):
        assert {s.text.split()[slot_index] for s in sentences} == set(slot)


def test_general_sentences_are_varied_and_in_the_dictionary():
    assert 300 <= len(GENERAL_SENTENCES) == len(set(GENERAL_SENTENCES))
    sentences = general_sentences(40, seed=0)
    assert len({s.text for s in sentences}) > 30
    with_digits = [s for s in GENERAL_SENTENCES if any(c.isdigit() for c in s)]
    assert len(with_digits) > 20
    s = next(s for s in general_sentences(400, seed=1) if any(c.isdigit() for c in s.text))
    assert not any(c.isdigit() for c in s.normalized)
    from synesthesia.metrics.intelligibility import recognizer_vocabulary

    assert set(vocabulary("mixed")) <= recognizer_vocabulary()


def test_digit_strings():
    sentences = digit_sentences(50, seed=1, min_digits=2, max_digits=4)
    for s in sentences:
        digits = s.text.split()
        assert 2 <= len(digits) <= 4 and all(d.isdigit() for d in digits)
        assert s.normalized.split() == [DIGITS[int(d)] for d in digits] == s.words


def test_mixed_has_every_kind_and_is_prefix_stable():
    mixed = make_sentences("mixed", 100, seed=5)
    assert {s.kind for s in mixed} == {"grid", "general", "digits"}
    assert make_sentences("mixed", 30, seed=5) == mixed[:30]


def test_broad_mixes_in_everyday_sentences_and_is_prefix_stable():
    from collections import Counter

    from synesthesia.cli.data import _KINDS
    from synesthesia.data.sentences import SENTENCE_KINDS, everyday_pool, everyday_sentences

    assert _KINDS == SENTENCE_KINDS
    broad = make_sentences("broad", 2000, seed=5)
    shares = {k: v / len(broad) for k, v in Counter(s.kind for s in broad).items()}
    for kind, share in {"grid": 0.4, "general": 0.2, "everyday": 0.3, "digits": 0.1}.items():
        assert abs(shares[kind] - share) < 0.04, (kind, shares)
    assert make_sentences("broad", 30, seed=5) == broad[:30]
    # the GRID draws are those of "mixed" (same rng, same first draw)
    mixed = make_sentences("mixed", 2000, seed=5)
    assert [a for a, b in zip(broad, mixed) if a.kind == "grid"] == [
        b for b in mixed if b.kind == "grid"
    ]
    pool = everyday_pool()
    assert len(pool) >= 1000 and len(set(pool)) == len(pool)
    assert not set(pool) & set(GENERAL_SENTENCES)  # test pool and training pool are apart
    words = vocabulary("everyday")
    assert len(words) > 2 * len(vocabulary("general"))
    assert set(words) <= set(vocabulary("broad"))
    everyday = everyday_sentences(50, seed=2)
    assert everyday == make_sentences("everyday", 50, seed=2)
    assert all(s.kind == "everyday" and s.text in pool for s in everyday)
    s = next(s for s in everyday_sentences(2000, seed=1) if any(c.isdigit() for c in s.text))
    assert not any(c.isdigit() for c in s.normalized)


def test_numbers_and_transcripts():
    assert number_to_words(0) == "zero"
    assert number_to_words(15) == "fifteen"
    assert number_to_words(40) == "forty"
    assert number_to_words(342) == "three hundred forty two"
    assert number_to_words(1000) == "one thousand"
    assert number_to_words(120_005) == "one hundred twenty thousand five"
    assert normalize_numbers("Room 7, floor 12.") == "Room seven, floor twelve."
    assert transcript_words("The baker's 12 eggs - fresh!") == [
        "the", "baker's", "twelve", "eggs", "fresh",
    ]  # fmt: skip


def test_errors():
    with pytest.raises(ParameterError, match="kind='poems'"):
        make_sentences("poems", 3)
    with pytest.raises(ParameterError, match="num_sentences=-1"):
        grid_sentences(-1)
    with pytest.raises(ParameterError, match="max_digits=1"):
        digit_sentences(3, min_digits=2, max_digits=1)
    with pytest.raises(ParameterError, match="number=1000000"):
        number_to_words(1_000_000)


def test_heldout_rule_is_deterministic_and_about_one_in_ten():
    from synesthesia.data.sentences import GENERAL_SENTENCES, is_heldout_sentence

    grid = [s.text for s in grid_sentences(3000, seed=5)]
    share = sum(map(is_heldout_sentence, grid)) / len(grid)
    assert 0.07 < share < 0.13
    general = [t for t in GENERAL_SENTENCES if is_heldout_sentence(t)]
    assert 25 <= len(general) <= 55
    # the rule looks at the words only: case, digits and punctuation do not matter
    assert is_heldout_sentence("Bought 7 eggs.") == is_heldout_sentence("bought seven eggs")


def test_heldout_sentences():
    from synesthesia.data.sentences import (
        GENERAL_SENTENCES,
        heldout_sentences,
        is_heldout_sentence,
    )

    grid = heldout_sentences("grid", 40, seed=1)
    assert len({s.text for s in grid}) == 40
    assert all(is_heldout_sentence(s.text) and s.kind == "grid" for s in grid)
    assert [s.text for s in heldout_sentences("grid", 10, seed=1)] == [s.text for s in grid[:10]]
    pool = [t for t in GENERAL_SENTENCES if is_heldout_sentence(t)]
    general = heldout_sentences("general", len(pool))
    assert sorted(s.text for s in general) == sorted(pool)
    assert general[0].normalized == normalize_numbers(general[0].text)
    with pytest.raises(ParameterError, match="held-out general"):
        heldout_sentences("general", len(pool) + 1)
    with pytest.raises(ParameterError, match="kind"):
        heldout_sentences("digits", 3)
