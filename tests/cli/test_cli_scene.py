"""``synesthesia scene``: train end to end on tiny synthetic scenes, predict, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from synesthesia.cli.main import main
from synesthesia.data.synthetic_scenes import SCENE_CLASSES, make_synthetic_scenes
from synesthesia.models import create_model

TINY_RUN = [
    "model.name=scene_student_tiny",
    "data.duration=0.5",
    "data.teacher_per_class=10",
    "data.unlabeled_per_class=40",
    "data.probe_per_class=3",
    "data.test_per_class=10",
    "data.batch_size=32",
    "data.teacher_steps=40",
    "trainer.max_steps=60",
    "trainer.val_check_interval=60",
    "optim.warmup_steps=5",
    "trainer.progress_bar=false",
]


@pytest.mark.slow
def test_train_then_predict_end_to_end(tmp_path, capsys, one_torch_thread):
    out = tmp_path / "run"
    overrides = [*TINY_RUN, f"data.cache_dir={tmp_path / 'cache'}"]
    code = main(
        ["-q", "scene", "train", "--out", str(out), "--resume", "never", "--set", *overrides]
    )
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    chance = 1.0 / len(SCENE_CLASSES)
    assert metrics["teacher_test_accuracy"] > 0.9
    assert metrics["student_probe_test_accuracy"] > chance + 0.3
    assert metrics["student_teacher_agreement"] > chance + 0.3  # learned from the teacher alone
    assert (out / "model" / "model.safetensors").is_file()
    capsys.readouterr()
    clip = make_synthetic_scenes(
        "test", num_per_class=10, duration=0.5, cache_dir=tmp_path / "cache"
    )
    wav = tmp_path / "clip.wav"
    sf.write(wav, clip.waveform[0].numpy(), clip.sample_rate)
    assert main(["scene", "predict", str(wav), "--model", str(out / "model")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert sorted(line.split()[0] for line in lines) == sorted(SCENE_CLASSES)
    assert abs(sum(float(line.split()[1]) for line in lines) - 1.0) < 0.01


@pytest.fixture
def tiny_model(tmp_path):
    torch.manual_seed(0)
    model = create_model("scene_student_tiny", sample_rate=8000)
    return model, model.save_pretrained(tmp_path / "model")


def test_predict_prints_probabilities(tmp_path, capsys, tiny_model):
    model, folder = tiny_model
    wav = tmp_path / "noise.wav"
    sf.write(wav, np.random.default_rng(0).normal(0, 0.1, 16000).astype(np.float32), 16000)
    assert main(["scene", "predict", str(wav), "--model", str(folder), "--top", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].split()[0] in model.class_names


def test_predict_bad_input(tmp_path, capsys, tiny_model):
    model, folder = tiny_model
    short = tmp_path / "short.wav"
    sf.write(short, np.zeros(model.min_length - 1, dtype=np.float32), 8000)
    assert main(["scene", "predict", str(short), "--model", str(folder)]) == 2
    assert "needs at least" in capsys.readouterr().err
    assert main(["scene", "predict", str(tmp_path / "missing.wav"), "--model", str(folder)]) == 2
    assert "missing.wav" in capsys.readouterr().err
    other = create_model("image_classifier_tiny").save_pretrained(tmp_path / "teacher")
    wav = tmp_path / "ok.wav"
    sf.write(wav, np.zeros(8000, dtype=np.float32), 8000)
    assert main(["scene", "predict", str(wav), "--model", str(other)]) == 2
    assert "scene_student" in capsys.readouterr().err


def test_train_bad_config(tmp_path, capsys):
    code = main(["scene", "train", "--out", str(tmp_path), "--set", "data.tacher_steps=3"])
    assert code == 2
    assert "data.tacher_steps" in capsys.readouterr().err


def test_predict_never_imports_lightning(tmp_path, tiny_model):
    import subprocess
    import sys

    _, folder = tiny_model
    wav = tmp_path / "ok.wav"
    sf.write(wav, np.zeros(8000, dtype=np.float32), 8000)
    code = (
        "import sys\n"
        "from synesthesia.cli.main import main\n"
        f"assert main(['scene', 'predict', {str(wav)!r}, '--model', {str(folder)!r}]) == 0\n"
        "assert not any(m.startswith('lightning') for m in sys.modules), 'lightning imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_predict_defaults_to_the_shipped_model(tmp_path, capsys):
    clips = make_synthetic_scenes("test", num_per_class=2, cache_dir=tmp_path / "cache")
    correct = 0
    for index in range(len(clips.labels)):
        wav = tmp_path / f"clip{index}.wav"
        sf.write(wav, clips.waveform[index].numpy(), clips.sample_rate)
        assert main(["scene", "predict", str(wav), "--top", "1"]) == 0
        top = capsys.readouterr().out.split()[0]
        correct += top == clips.classes[int(clips.labels[index])]
    assert correct >= len(clips.labels) - 1  # the shipped student scored 1.000 on the test split
