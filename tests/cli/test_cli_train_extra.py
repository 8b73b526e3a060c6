"""Every ``train`` command on the core install (no Lightning): one line naming the extra."""

from __future__ import annotations

import sys

import pytest

from synesthesia.cli.main import main

TRAIN_COMMANDS = {
    "lm": ["lm", "train", "--text", "{text}"],
    "caption": ["caption", "train"],
    "embed": ["embed", "train"],
    "scene": ["scene", "train"],
    "vocoder": ["vocoder", "train"],
    "tts": ["tts", "train"],
}


@pytest.fixture
def without_lightning(monkeypatch):
    """Import Lightning fails as on the core install: sys.modules["lightning"] = None, and the
    training package (which imports it) is imported afresh; all restored after the test."""
    for name in list(sys.modules):
        if name.split(".")[0] == "lightning" or name.startswith("synesthesia.training"):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "lightning", None)


@pytest.mark.parametrize("command", sorted(TRAIN_COMMANDS))
def test_train_without_lightning_names_the_extra(without_lightning, command, tmp_path, capsys):
    text = tmp_path / "text.txt"
    text.write_text("the cat sees the dog. " * 20, encoding="utf-8")
    args = [a.format(text=text) for a in TRAIN_COMMANDS[command]]
    code = main([*args, "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1, err
    assert err[0].startswith("synesthesia: error: ")
    assert 'pip install "synesthesia[train]"' in err[0]
    assert "lightning" in err[0]
    assert not (tmp_path / "run").exists()
