"""ESC-50, class-per-folder and paired-folder data sets on small files made here."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile
import torch
from PIL import Image

from synesthesia.data.audio_sets import (
    ESC50,
    AudioFolder,
    PairedAudioImageFolder,
    collate_audio,
    read_audio,
)
from synesthesia.errors import ParameterError

HEADER = "filename,fold,target,category,esc10,src_file,take\n"


def _tone(path, *, sample_rate=8000, seconds=0.05, freq=440.0, channels=1):
    t = np.arange(int(sample_rate * seconds)) / sample_rate
    wave = 0.5 * np.sin(2 * np.pi * freq * t)
    data = np.stack([wave] * channels, axis=1) if channels > 1 else wave
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(
        str(path), data, sample_rate, subtype="FLOAT" if path.suffix == ".wav" else None
    )
    return wave


def _esc50(root, rows):
    (root / "meta").mkdir(parents=True)
    lines = [HEADER]
    for i, (fold, target, category, esc10) in enumerate(rows):
        name = f"{fold}-{100 + i}-A-{target}.wav"
        _tone(root / "audio" / name, freq=200.0 + 50 * i)
        lines.append(f"{name},{fold},{target},{category},{esc10},{100 + i},A\n")
    (root / "meta" / "esc50.csv").write_text("".join(lines))


def test_esc50_reads_folds_labels_and_the_esc10_subset(tmp_path):
    rows = [
        (1, 0, "dog", "True"),
        (2, 1, "rooster", "False"),
        (1, 1, "rooster", "False"),
        (5, 0, "dog", "True"),
    ]
    _esc50(tmp_path, rows)
    everything = ESC50(tmp_path)
    assert len(everything) == 4 and everything.classes == ["dog", "rooster"]
    fold1 = ESC50(tmp_path, folds=[1])
    assert [item["label"] for item in fold1] == [0, 1]
    assert [item["category"] for item in ESC50(tmp_path, esc10=True)] == ["dog", "dog"]
    item = fold1[0]
    assert item["sample_rate"] == 8000 and item["waveform"].shape == (400,)
    assert item["fold"] == 1 and item["path"].endswith("1-100-A-0.wav")
    assert ESC50(tmp_path, sample_rate=16000)[0]["waveform"].shape == (800,)


def test_esc50_errors(tmp_path):
    with pytest.raises(ParameterError, match="meta/esc50.csv"):
        ESC50(tmp_path)
    _esc50(tmp_path, [(1, 0, "dog", "True")])
    with pytest.raises(ParameterError, match="folds=\\(6,\\)"):
        ESC50(tmp_path, folds=(6,))
    (tmp_path / "audio" / "1-100-A-0.wav").unlink()
    with pytest.raises(ParameterError, match="1 audio files .* missing"):
        ESC50(tmp_path)
    (tmp_path / "meta" / "esc50.csv").write_text("filename,fold,target\nx.wav,1,0\n")
    with pytest.raises(ParameterError, match="lacks columns \\['category'"):
        ESC50(tmp_path)
    (tmp_path / "meta" / "esc50.csv").write_text(
        HEADER + "a.wav,1,0,dog,True,1,A\nb.wav,1,0,cat,True,2,A\n"
    )
    with pytest.raises(ParameterError, match="target=0 is 'cat' here but 'dog'"):
        ESC50(tmp_path)


def test_audio_folder_classes_and_stereo_mixdown(tmp_path):
    _tone(tmp_path / "rain" / "b.wav")
    _tone(tmp_path / "rain" / "a.flac")
    wave = _tone(tmp_path / "dog" / "1.wav", channels=2)
    (tmp_path / "dog" / "notes.txt").write_text("not audio")
    (tmp_path / "empty").mkdir()
    data = AudioFolder(tmp_path)
    assert data.classes == ["dog", "rain"]
    assert [(p.name, label) for p, label in data.items] == [
        ("1.wav", 0),
        ("a.flac", 1),
        ("b.wav", 1),
    ]
    np.testing.assert_allclose(data[0]["waveform"].numpy(), wave, rtol=0, atol=1e-7)
    with pytest.raises(ParameterError, match="no class folders"):
        AudioFolder(tmp_path / "empty")


def _pair_dirs(tmp_path, image_stems, audio_stems):
    images, audio = tmp_path / "frames", tmp_path / "audio"
    images.mkdir()
    for i, stem in enumerate(image_stems):
        Image.fromarray(np.full((6, 5, 3), 40 * i, dtype=np.uint8)).save(images / f"{stem}.png")
    for stem in audio_stems:
        _tone(audio / f"{stem}.wav")
    audio.mkdir(exist_ok=True)
    return images, audio


def test_paired_folder_matches_by_stem_and_collates(tmp_path):
    images, audio = _pair_dirs(tmp_path, ["0002", "0001"], ["0001", "0002"])
    data = PairedAudioImageFolder(images, audio)
    assert [stem for stem, _, _ in data.pairs] == ["0001", "0002"]
    item = data[0]
    assert item["image"].shape == (3, 6, 5) and item["stem"] == "0001"
    torch.testing.assert_close(item["image"], torch.full((3, 6, 5), 40 / 255))
    batch = collate_audio([data[0], data[1]])
    assert batch["image"].shape == (2, 3, 6, 5) and batch["waveform"].shape == (2, 400)
    assert batch["stem"] == ["0001", "0002"]


def test_mismatched_pair_folders_name_the_stems(tmp_path):
    images, audio = _pair_dirs(tmp_path, ["a", "b", "c"], ["a", "c", "d"])
    with pytest.raises(
        ParameterError,
        match=r"1 images without audio \['b'\], 1 audio clips "
        r"without an image \['d'\]",
    ):
        PairedAudioImageFolder(images, audio)


def test_duplicate_stems_and_missing_folders(tmp_path):
    images, audio = _pair_dirs(tmp_path, ["a"], ["a"])
    _tone(audio / "a.flac")
    with pytest.raises(ParameterError, match="two files with stem 'a'"):
        PairedAudioImageFolder(images, audio)
    with pytest.raises(ParameterError, match="audio_dir="):
        PairedAudioImageFolder(images, tmp_path / "nope")


def test_collate_pads_and_keeps_lengths(tmp_path):
    items = [
        {"waveform": torch.ones(3), "sample_rate": 8000, "label": 2},
        {"waveform": torch.ones(5), "sample_rate": 8000, "label": 0},
    ]
    batch = collate_audio(items)
    assert batch["waveform_lengths"].tolist() == [3, 5]
    assert batch["waveform"].tolist() == [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]
    assert batch["label"].tolist() == [2, 0]
    items[1]["sample_rate"] = 16000
    with pytest.raises(ParameterError, match="sample rates \\[8000, 16000\\]"):
        collate_audio(items)


def test_read_audio_errors(tmp_path):
    with pytest.raises(ParameterError, match="does not exist"):
        read_audio(tmp_path / "x.wav")
    (tmp_path / "bad.wav").write_bytes(b"RIFF garbage")
    with pytest.raises(ParameterError, match="not a readable audio file"):
        read_audio(tmp_path / "bad.wav")
