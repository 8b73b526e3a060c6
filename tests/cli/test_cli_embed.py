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
    # a file as the cache folder: refused before the model loads or any clip is synthesised
    (tmp_path / "file").write_text("x")
    assert (
        main(
            ["embed", "evaluate", "--model", str(model_dir), "--cache-dir", str(tmp_path / "file")]
        )
        == 2
    )
    captured = capsys.readouterr()
    bad = str(tmp_path / "file")
    assert (
        captured.err.strip() == f"synesthesia: error: --cache-dir={bad!r} is a file, not a folder"
    )
    assert captured.out == ""


def test_evaluate_other_speakers_through_a_telephone(tmp_path, capsys):
    """--voices takes engine:voice names (eSpeak here: always installed), --channel telephone
    band-limits the clips; the clip count follows --variations."""
    model_dir = _export(tmp_path / "model")
    args = ["embed", "evaluate", "--model", str(model_dir), "--cache-dir", str(tmp_path / "c"),
            "--voices", "espeak:en-us+f4", "en+m7", "--variations", "2", "--seed", "5"]  # fmt: skip
    assert main([*args, "--channel", "telephone", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["audio_to_image"]["num_queries"] == 2 * 10 * 2
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "40 clips (2 voices)" in out and "telephone" not in out
    assert main([*args[:-4], "--variations", "0"]) == 2
    assert "--variations=0" in capsys.readouterr().err
