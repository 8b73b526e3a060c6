import json

import pytest

from synesthesia.errors import ParameterError
from synesthesia.text import TOKENIZER_NAME, ByteTokenizer, CharTokenizer, load_tokenizer


def test_byte_tokenizer_round_trip_and_replacement():
    tok = ByteTokenizer()
    text = "héllo, wörld — 音"
    ids = tok.encode(text)
    assert tok.vocab_size == 256 and ids == list(text.encode("utf-8"))
    assert tok.decode(ids) == text
    assert tok.decode([0xE9]) == "\ufffd"  # an invalid UTF-8 byte is replaced, not an error
    with pytest.raises(ParameterError, match="token id 256"):
        tok.decode([256])


def test_char_tokenizer_sorted_vocab_and_unknown():
    tok = CharTokenizer.from_text("hello world")
    assert tok.chars == [" ", "d", "e", "h", "l", "o", "r", "w", "?"]
    assert tok.vocab_size == 9 and tok.unknown_id == 8
    assert tok.decode(tok.encode("hello")) == "hello"
    assert tok.encode("hex!") == [3, 2, 8, 8]  # x and ! are not in the vocabulary
    assert tok.decode(tok.encode("hex")) == "he?"
    with_q = CharTokenizer.from_text("a?b")
    assert with_q.chars == ["?", "a", "b"] and with_q.unknown_id == 0
    with pytest.raises(ParameterError, match="unknown='ab'"):
        CharTokenizer.from_text("abc", unknown="ab")


@pytest.mark.parametrize("tok", [ByteTokenizer(), CharTokenizer.from_text("the cat", unknown="#")])
def test_save_and_load(tmp_path, tok):
    path = tok.save(tmp_path)
    assert path == tmp_path / TOKENIZER_NAME
    payload = json.loads(path.read_text())
    assert payload["type"] in ("byte", "char")
    loaded = load_tokenizer(tmp_path)
    assert loaded == tok and type(loaded) is type(tok)
    assert loaded.encode("tea") == tok.encode("tea")


def test_load_errors(tmp_path):
    with pytest.raises(ParameterError, match="does not exist"):
        load_tokenizer(tmp_path / "none.json")
    (tmp_path / "t.json").write_text('{"type": "bpe"}')
    with pytest.raises(ParameterError, match="type='bpe'"):
        load_tokenizer(tmp_path / "t.json")
    with pytest.raises(ParameterError, match="text of type int"):
        ByteTokenizer().encode(3)
