"""Text a command cannot use is refused in one line: characters outside an LM's vocabulary
(``lm generate --prompt``) and bytes that are not UTF-8 (``speak -`` and ``speak TEXT``)."""

from __future__ import annotations

import io
import sys

import pytest

from synesthesia.cli.main import main
from synesthesia.models import GPT
from synesthesia.text.tokenizer import ByteTokenizer, CharTokenizer

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _language_model(folder, tokenizer) -> str:
    GPT(vocab_size=tokenizer.vocab_size, max_seq_len=16, embed_dim=8, num_layers=1,
        num_heads=2).save_pretrained(folder)  # fmt: skip
    tokenizer.save(folder / "tokenizer.json")
    return str(folder)


def test_lm_generate_names_the_prompt_characters_outside_the_vocabulary(tmp_path, one_line_error):
    model = _language_model(tmp_path / "lm", CharTokenizer.from_text("the cat sees a dog."))
    code = main(
        ["lm", "generate", "--model", model, "--prompt", "zebra 😀", "--max-new-tokens", "2"]
    )
    assert code == 2
    line = one_line_error()
    assert "--prompt" in line and "vocabulary" in line
    for char in ("'z'", "'b'", "'r'", "'😀'"):
        assert char in line
    assert "'e'" not in line and "'a'" not in line  # known characters are not named


def test_lm_generate_accepts_known_characters_and_the_unknown_token(tmp_path, capsys):
    model = _language_model(tmp_path / "lm", CharTokenizer.from_text("the cat sees a dog."))
    assert main(["lm", "generate", "--model", model, "--prompt", "the cat?",
                 "--max-new-tokens", "2"]) == 0  # fmt: skip
    assert capsys.readouterr().out.startswith("the cat?")
    byte_model = _language_model(tmp_path / "bytes", ByteTokenizer())
    code = main(["lm", "generate", "--model", byte_model, "--prompt", "zebra 😀",
                 "--max-new-tokens", "2", "--temperature", "0"])  # fmt: skip
    assert code == 0  # every text is bytes: nothing is unknown


def _stdin(monkeypatch, data: bytes) -> None:
    """Standard input as Python opens it in a C/POSIX locale: bad bytes become surrogates."""
    stream = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="surrogateescape")
    monkeypatch.setattr(sys, "stdin", stream)


def test_speak_stdin_that_is_not_utf8_names_the_byte_offset(tmp_path, one_line_error, monkeypatch):
    _stdin(monkeypatch, "Bin blue at é".encode() + b" \xff\xfe one soon.")
    out = tmp_path / "x.wav"
    assert main(["speak", "-", "-o", str(out)]) == 2
    line = one_line_error()
    assert "UTF-8" in line and "byte 15" in line and "standard input" in line
    assert not out.exists()


def test_speak_text_argument_that_is_not_utf8_names_the_byte_offset(tmp_path, one_line_error):
    out = tmp_path / "x.wav"
    # how Python hands over the bytes b"hi \xe9" of a Latin-1 terminal: a lone surrogate
    assert main(["speak", "hi \udce9 there", "-o", str(out)]) == 2
    line = one_line_error()
    assert "UTF-8" in line and "byte 3" in line and "TEXT" in line
    assert not out.exists()


def test_speak_stdin_utf8_is_read_as_bytes(tmp_path, capsys, monkeypatch):
    _stdin(monkeypatch, b"Bin blue at A one soon.\n")
    out = tmp_path / "x.wav"
    assert main(["speak", "-", "-o", str(out)]) == 0
    assert out.is_file()
