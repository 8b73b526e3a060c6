"""The CLI's out-of-distribution warning: one stderr line for a foreign input, exit code 0."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from synesthesia.cli.main import main
from synesthesia.data import foreign
from synesthesia.pipelines import asset_path

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SENTENCE = "The kettle began to whistle just as the phone rang in the hallway."


def _warnings(err: str) -> list[str]:
    lines = [line for line in err.splitlines() if line.strip()]
    return [line for line in lines if "looks unlike the model's training data" in line], lines


def _check_one_warning(capsys, path) -> str:
    out, err = capsys.readouterr()
    warned, lines = _warnings(err)
    assert len(warned) == 1 and lines == warned, err
    assert warned[0].startswith(f"synesthesia: warning: {path} looks unlike")
    assert "above the threshold" in warned[0] and "chosen on held-out data" in warned[0]
    assert out.strip()  # the answer is still printed, on stdout
    return out


def test_caption_predict_warns_for_a_photo_only(tmp_path, capsys):
    photo = tmp_path / "astronaut.png"
    array = (foreign.foreign_photos(["astronaut"])[0].permute(1, 2, 0).numpy() * 255).round()
    Image.fromarray(array.astype(np.uint8)).save(photo)
    assert main(["caption", "predict", str(photo)]) == 0
    out = _check_one_warning(capsys, photo)
    assert out.startswith(f"{photo}\t")
    assert main(["caption", "predict", str(asset_path("digit_strip_example.png"))]) == 0
    out, err = capsys.readouterr()
    assert "seven six three" in out and _warnings(err)[0] == []


def test_scene_predict_warns_for_a_chord_only(tmp_path, capsys):
    wav = tmp_path / "chord.wav"
    sf.write(wav, foreign.synthetic_music(1, sample_rate=8000, seed=0)[0].numpy(), 8000)
    assert main(["scene", "predict", str(wav), "--top", "1"]) == 0
    out = _check_one_warning(capsys, wav)
    assert len(out.splitlines()) == 1
    assert main(["scene", "predict", str(asset_path("scene_birds.wav")), "--top", "1"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("birds") and _warnings(err)[0] == []


def test_embed_retrieve_warns_for_a_sentence_only(tmp_path, capsys):
    speech, lengths = foreign.speech_clips([SENTENCE], ["en-us"], sample_rate=16000)
    wav = tmp_path / "sentence.wav"
    sf.write(wav, speech[0, : lengths[0]].numpy(), 16000)
    gallery = asset_path("embed_digits/gallery/seven.png").parent
    assert main(["embed", "retrieve", "--audio", str(wav), "--images", str(gallery)]) == 0
    out = _check_one_warning(capsys, wav)
    assert out.startswith(f"query: {wav}")
    seven = asset_path("embed_digits/query_seven.wav")
    assert main(["embed", "retrieve", "--audio", str(seven), "--images", str(gallery)]) == 0
    out, err = capsys.readouterr()
    assert "seven.png" in out.splitlines()[1] and _warnings(err)[0] == []
