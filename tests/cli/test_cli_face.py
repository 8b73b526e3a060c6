"""``synesthesia face``: data → train a few steps → reload → predict a PNG; evaluate; bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import torch
from PIL import Image

from synesthesia.cli.main import main
from synesthesia.models import create_model
from synesthesia.pipelines.speech2face import Speech2Face

TINY_RUN = [
    "model.name=voice_encoder_tiny",
    "data.sample_rate=8000",
    "data.image_size=16",
    "data.batch_size=8",
    "data.face_model=face_encoder_tiny",
    "data.decoder_model=face_decoder_tiny",
    "data.attribute_kwargs={channels: [4, 8]}",
    "data.face_steps=2",
    "data.decoder_steps=2",
    "data.attribute_steps=2",
    "data.figure_rows=2",
    "trainer.max_steps=3",
    "trainer.val_check_interval=3",
    "optim.warmup_steps=1",
    "trainer.progress_bar=false",
]


@pytest.mark.slow
def test_data_train_reload_predict_evaluate(tmp_path, capsys, one_torch_thread):
    corpus = tmp_path / "corpus"
    assert (
        main(
            [
                "face",
                "data",
                "--out",
                str(corpus),
                "--max-identities",
                "8",
                "--clips-per-identity",
                "2",
                "--frames-per-identity",
                "1",
                "--sample-rate",
                "8000",
                "--image-size",
                "16",
                "--test-fraction",
                "0.25",
            ]
        )
        == 0
    )
    assert "SYNTHETIC identities" in capsys.readouterr().out
    out = tmp_path / "run"
    code = main(
        [
            "-q",
            "face",
            "train",
            "--data",
            str(corpus),
            "--out",
            str(out),
            "--resume",
            "never",
            "--set",
            *TINY_RUN,
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "voice→face R@1" in printed and "model:" in printed
    metrics = json.loads((out / "model" / "metrics.json").read_text())
    assert metrics["num_speakers"] >= 1 and set(metrics["chance"]) >= {"R@1", "R@5", "R@10"}
    assert {"model", "mean_face", "nearest_voice"} <= set(metrics)
    assert (out / "model" / "figure.png").is_file()
    reloaded = Speech2Face.from_pretrained(out / "model")  # checksums cover the extras
    assert reloaded.sample_rate == 8000
    clip = next(corpus.glob("*/clip0.wav"))
    png = tmp_path / "face.png"
    assert (
        main(
            [
                "face",
                "predict",
                str(clip),
                "--model",
                str(out / "model"),
                "--out",
                str(png),
                "--scale",
                "2",
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == f"face: {png}" and {line.split()[0] for line in lines[1:]} == {
        "gender",
        "age",
        "skin",
    }
    with Image.open(png) as image:
        assert image.size == (32, 32)
    assert (
        main(
            [
                "face",
                "evaluate",
                "--data",
                str(corpus),
                "--model",
                str(out / "model"),
                "--json",
                str(tmp_path / "scores.json"),
            ]
        )
        == 0
    )
    table = capsys.readouterr().out
    assert "nearest training voice" in table and "chance" in table
    assert json.loads((tmp_path / "scores.json").read_text())["num_clips"] >= 2


@pytest.fixture
def tiny_folder(tmp_path):
    torch.manual_seed(0)
    return Speech2Face(create_model("speech2face_tiny")).save_pretrained(tmp_path / "model")


def test_predict_bad_input(tmp_path, tiny_folder, one_line_error):
    model = Speech2Face.from_pretrained(tiny_folder).model
    short = tmp_path / "short.wav"
    sf.write(short, np.zeros(model.voice_encoder.min_length - 1, dtype=np.float32), 8000)
    png = str(tmp_path / "f.png")
    line = one_line_error(
        ["face", "predict", str(short), "--model", str(tiny_folder), "--out", png]
    )
    assert "needs at least" in line
    line = one_line_error(
        [
            "face",
            "predict",
            str(tmp_path / "missing.wav"),
            "--model",
            str(tiny_folder),
            "--out",
            png,
        ]
    )
    assert "missing.wav" in line
    wav = tmp_path / "ok.wav"
    sf.write(wav, np.zeros(8000, dtype=np.float32), 8000)
    line = one_line_error(
        ["face", "predict", str(wav), "--model", str(tiny_folder), "--out", str(tmp_path / "f.jpg")]
    )
    assert "--out=" in line and ".png" in line
    other = create_model("image_classifier_tiny").save_pretrained(tmp_path / "other")
    line = one_line_error(["face", "predict", str(wav), "--model", str(other), "--out", png])
    assert "not a speech2face model" in line


def test_train_and_evaluate_bad_input(tmp_path, one_line_error):
    line = one_line_error(["face", "train", "--out", str(tmp_path), "--set", "data.face_step=3"])
    assert "data.face_step" in line
    line = one_line_error(
        ["face", "train", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "run")]
    )
    assert "--data=" in line and "nope" in line
    line = one_line_error(["face", "evaluate", "--model", str(tmp_path)])
    assert "--data" in line
