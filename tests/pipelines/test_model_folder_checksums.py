"""Model folders carry checksums.json: damaged or edited files are refused by name (issue #19).

Weights damaged behind an intact safetensors header used to load and caption a strip as
"six six six ..." with exit status 0.
"""

from __future__ import annotations

import json
import shutil
from types import SimpleNamespace

import pytest
import torch

from synesthesia.cli.main import main
from synesthesia.errors import CheckpointError
from synesthesia.models import create_model, load_pretrained
from synesthesia.models.base import CHECKSUMS_NAME, UNCHECKED_NAMES, verify_checksums
from synesthesia.pipelines import ImageCaptioner
from synesthesia.pipelines.pretrained import asset_path, list_pretrained, pretrained_path
from synesthesia.training.fit import export_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _flip_middle_of_the_data(path, count=4096):
    """Invert ``count`` bytes in the middle of the tensor data; the JSON header stays intact."""
    data = bytearray(path.read_bytes())
    header = 8 + int.from_bytes(data[:8], "little")
    middle = header + (len(data) - header) // 2
    data[middle : middle + count] = bytes(b ^ 0xFF for b in data[middle : middle + count])
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("name", list_pretrained())
def test_every_shipped_model_carries_and_passes_its_checksums(name):
    directory = pretrained_path(name)
    manifest = json.loads((directory / CHECKSUMS_NAME).read_text(encoding="utf-8"))
    covered = {p.name for p in directory.iterdir() if p.is_file()} - UNCHECKED_NAMES
    assert set(manifest["files"]) == covered  # every file the model needs, none left out
    assert verify_checksums(directory) is True


def test_the_shipped_models_are_at_least_four():
    assert {"caption_digits", "embed_digits", "scene_synthetic", "tts_espeak"} <= set(
        list_pretrained()
    )


@pytest.fixture
def damaged_captioner(tmp_path):
    directory = tmp_path / "caption_digits"
    shutil.copytree(pretrained_path("caption_digits"), directory)
    _flip_middle_of_the_data(directory / "model.safetensors")
    return directory


def test_damaged_weights_with_an_intact_header_are_refused_by_name(damaged_captioner):
    with pytest.raises(CheckpointError, match=r"model\.safetensors in model directory=.*corrupt"):
        ImageCaptioner.from_pretrained(damaged_captioner)


def test_a_tampered_vocabulary_is_refused_by_name(tmp_path):
    directory = tmp_path / "caption_digits"
    shutil.copytree(pretrained_path("caption_digits"), directory)
    words = json.loads((directory / "vocab.json").read_text(encoding="utf-8"))
    text = json.dumps(words).replace('"seven"', '"eight"', 1)  # same size, wrong words
    (directory / "vocab.json").write_text(text, encoding="utf-8")
    with pytest.raises(CheckpointError, match=r"vocab\.json in model directory=.*corrupt"):
        ImageCaptioner.from_pretrained(directory)


def test_caption_predict_on_damaged_weights_exits_2_with_one_line(damaged_captioner, capsys):
    image = asset_path("digit_strip_example.png")
    code = main(["caption", "predict", "--model", str(damaged_captioner), str(image)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""  # no caption printed
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("synesthesia: error: model.safetensors in model directory=")


def test_a_training_export_covers_the_files_the_datamodule_adds(tmp_path):
    """export_model (the path every `... train` command takes) seals the extra files too."""
    torch.manual_seed(0)
    model = create_model("sat_tiny", vocab_size=14)

    def export(directory):
        (directory / "vocab.json").write_text('["<pad>"]', encoding="utf-8")
        (directory / "preprocess.json").write_text("{}", encoding="utf-8")

    directory = export_model(
        SimpleNamespace(model=model), SimpleNamespace(export=export), tmp_path / "model"
    )
    manifest = json.loads((directory / CHECKSUMS_NAME).read_text(encoding="utf-8"))
    assert sorted(manifest["files"]) == [
        "config.json",
        "model.safetensors",
        "preprocess.json",
        "vocab.json",
    ]
    load_pretrained(directory)
    (directory / "preprocess.json").write_text('{"resize": 1}', encoding="utf-8")
    with pytest.raises(CheckpointError, match=r"preprocess\.json in model directory="):
        load_pretrained(directory)
