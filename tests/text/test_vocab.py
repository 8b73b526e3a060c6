"""Caption tokenisation and the Vocabulary (special tokens, min count, unknown words, JSON)."""

from __future__ import annotations

import json

import pytest

from synesthesia.errors import ParameterError
from synesthesia.text.vocab import Vocabulary, tokenize_caption


def test_tokenize_lowercases_and_strips_punctuation():
    assert tokenize_caption("A dog's ball, on the GRASS.") == [
        "a",
        "dogs",
        "ball",
        "on",
        "the",
        "grass",
    ]
    assert tokenize_caption("  Two-way street!! ") == ["two", "way", "street"]
    assert tokenize_caption("...") == []


def test_build_min_count_and_order():
    vocab = Vocabulary.build(["a dog", "a cat", "a dog runs"], min_count=2)
    assert vocab.words == ["<pad>", "<start>", "<end>", "<unk>", "a", "dog"]
    assert (vocab.pad_id, vocab.start_id, vocab.end_id, vocab.unk_id) == (0, 1, 2, 3)
    assert vocab.encode("A dog!") == [1, 4, 5, 2]
    assert vocab.decode([1, 4, 5, 2, 4, 0]) == "a dog"


def test_caption_of_unknown_words_only_encodes_to_unk():
    vocab = Vocabulary.build(["a dog"], min_count=1)
    assert vocab.encode("zebra giraffe") == [1, 3, 3, 2]
    assert vocab.decode(vocab.encode("zebra giraffe")) == "<unk> <unk>"
    assert vocab.decode(vocab.encode("zebra giraffe"), keep_unknown=False) == ""


def test_errors():
    with pytest.raises(ParameterError, match="min_count=5"):
        Vocabulary.build(["a dog"], min_count=5)
    with pytest.raises(ParameterError, match="min_count"):
        Vocabulary.build(["a dog"], min_count=0)
    with pytest.raises(ParameterError, match="special tokens"):
        Vocabulary(["a", "b"])


def test_save_load_round_trip_and_bad_file(tmp_path):
    vocab = Vocabulary.build(["a dog runs", "a cat"], min_count=1)
    vocab.save(tmp_path / "vocab.json")
    assert Vocabulary.load(tmp_path / "vocab.json").words == vocab.words
    assert json.loads((tmp_path / "vocab.json").read_text())["words"][:2] == ["<pad>", "<start>"]
    (tmp_path / "bad.json").write_text('{"tokens": []}')
    with pytest.raises(ParameterError, match="not a vocabulary"):
        Vocabulary.load(tmp_path / "bad.json")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(ParameterError, match="not valid JSON"):
        Vocabulary.load(tmp_path / "broken.json")
