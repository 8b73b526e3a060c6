"""Bad inputs to every ``<task> train`` that benchmarks/bad_inputs.py found failing: a damaged
checkpoint to resume from, a YAML syntax error, an infinite learning rate. Each must be one
``synesthesia: error:`` line and exit 2, before any data or model work."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch

from synesthesia.cli.main import main

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def text(tmp_path) -> Path:
    r = random.Random(0)
    path = tmp_path / "text.txt"
    path.write_text(" ".join(r.choice(["the cat.", "a dog sees", "the ball"]) for _ in range(200)))
    return path


def _lm(text: Path, out: Path, *extra: str) -> list[str]:
    return ["lm", "train", "--text", str(text), "--out", str(out), "--max-steps", "2",
            "--set", "trainer.progress_bar=false", "data.block_size=8", "data.batch_size=2",
            *extra]  # fmt: skip


def _one_error(capsys) -> str:
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("synesthesia: error:")]
    assert len(errors) == 1 and "Traceback" not in "\n".join(lines), lines
    assert lines[-1] == errors[0], lines  # nothing (no training log) after the error
    return errors[0]


def _damaged_checkpoints(tmp_path: Path) -> dict[str, Path]:
    garbage = tmp_path / "garbage.ckpt"
    garbage.write_bytes(random.Random(0).randbytes(4096))
    whole = tmp_path / "whole.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(2000)}, "global_step": 3, "loops": {}}, whole)
    truncated = tmp_path / "truncated.ckpt"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    foreign = tmp_path / "foreign.ckpt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    return {"garbage": garbage, "truncated": truncated, "foreign": foreign}


@pytest.mark.parametrize("kind", ["garbage", "truncated", "foreign"])
def test_resume_from_a_damaged_checkpoint_is_one_line(kind, tmp_path, text, capsys):
    path = _damaged_checkpoints(tmp_path)[kind]
    out = tmp_path / "run"
    assert main(_lm(text, out, "--resume", str(path))) == 2
    line = _one_error(capsys)
    assert f"cannot resume from {str(path)!r}" in line
    assert not out.exists()  # refused before any work


def test_damaged_last_checkpoint_of_auto_resume_is_one_line(tmp_path, text, capsys):
    out = tmp_path / "run"
    (out / "checkpoints").mkdir(parents=True)
    (out / "checkpoints" / "last.ckpt").write_bytes(b"PK\x03\x04 a killed pre-atomic write")
    assert main(_lm(text, out)) == 2
    line = _one_error(capsys)  # before the data is read: no log line either
    assert "last.ckpt" in line and "--resume never" in line
    assert not (out / "model").exists()


def test_every_train_entry_point_checks_the_checkpoint_before_its_data(tmp_path):
    """The entry points are called with data that does not exist: the checkpoint fails first."""
    from synesthesia.errors import CheckpointError
    from synesthesia.training.caption import CAPTION_DEFAULTS, train_captioner
    from synesthesia.training.config import load_config
    from synesthesia.training.embed import EMBED_DEFAULTS, train_dual_encoder
    from synesthesia.training.lm import LM_DEFAULTS, train_lm
    from synesthesia.training.scene import SCENE_DEFAULTS, train_scene
    from synesthesia.training.tts import TTS_DEFAULTS, train_tts
    from synesthesia.training.vocoder import VOCODER_DEFAULTS, train_vocoder

    entry_points = [
        (train_lm, LM_DEFAULTS, ["data.text_path=/nonexistent.txt"], ""),
        (train_captioner, CAPTION_DEFAULTS, ["data.source=karpathy"], ""),
        (train_dual_encoder, EMBED_DEFAULTS, ["data.variations=0"], ""),
        (train_scene, SCENE_DEFAULTS, ["data.teacher_steps=0"], "teacher"),
        (train_vocoder, VOCODER_DEFAULTS, ["data.root=/nonexistent"], ""),
        (train_tts, TTS_DEFAULTS, ["data.root=/nonexistent"], ""),
    ]
    for index, (train, defaults, overrides, stage) in enumerate(entry_points):
        out = tmp_path / str(index)
        (out / stage / "checkpoints").mkdir(parents=True)
        (out / stage / "checkpoints" / "last.ckpt").write_bytes(b"damaged")
        config = load_config(None, [*overrides, f"out_dir={out}"], defaults=defaults)
        with pytest.raises(CheckpointError, match="last.ckpt"):
            train(config)


def test_yaml_syntax_error_is_one_line_with_its_position(tmp_path, text, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text("trainer: {max_steps: 3\n  oops: [\n")
    assert main(_lm(text, tmp_path / "run", "--config", str(config))) == 2
    line = _one_error(capsys)
    assert "is not valid YAML" in line and "line 2, column 7" in line


NON_FINITE = ["optim.lr=.inf", "optim.lr=.nan", "optim.eps=.inf", "trainer.gradient_clip_val=.inf"]


@pytest.mark.parametrize("setting", NON_FINITE)
def test_non_finite_numbers_are_refused(setting, tmp_path, text, capsys):
    assert main(_lm(text, tmp_path / "run", setting)) == 2
    key = setting.split("=")[0]
    assert f"config {key}=" in _one_error(capsys)
