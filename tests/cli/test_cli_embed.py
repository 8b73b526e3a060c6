"""``synesthesia embed evaluate`` on an exported folder, and one-line errors (exit code 2)."""

from __future__ import annotations

import json

import torch

from synesthesia.cli.main import main
from synesthesia.models import create_model
from synesthesia.utils import atomic_write_json


def _export(directory):
    torch.manual_seed(0)
    model = create_model("dual_encoder_tiny", n_mels=16, image_in_channels=1).eval()
    model.save_pretrained(directory)
    features = {
        "sample_rate": 16000,
        "n_mels": 16,
        "n_fft": 512,
        "hop_length": 256,
        "num_frames": 32,
        "mean": -5.0,
        "std": 3.0,
    }
    atomic_write_json(directory / "audio_features.json", features)
    return directory


def test_evaluate_prints_both_directions(tmp_path, capsys):
    model_dir = _export(tmp_path / "model")
    code = main(
        [
            "embed",
            "evaluate",
            "--model",
            str(model_dir),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--json",
        ]
    )
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"audio_to_image", "image_to_audio"}
    for values in result.values():
        assert 0 <= values["R@1"] <= values["R@5"] <= values["R@10"] <= 1
        assert values["num_queries"] > 0


def test_errors_are_one_line_exit_2(tmp_path, capsys):
    assert main(["embed", "evaluate", "--model", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err.strip()
    assert "does not exist" in err and "\n" not in err
    model_dir = tmp_path / "m"
    create_model("dual_encoder_tiny").save_pretrained(model_dir)
    assert main(["embed", "evaluate", "--model", str(model_dir)]) == 2
    assert "audio_features.json" in capsys.readouterr().err
