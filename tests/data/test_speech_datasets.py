"""LJSpeech-layout and audio-folder loaders on small hand-written folders."""

import numpy as np
import pytest
import soundfile
import torch

from synesthesia.data import collate_audio
from synesthesia.data.speech import AudioFolderDataset, LJSpeechDataset, read_ljspeech_metadata
from synesthesia.errors import ParameterError


def _tone(path, seconds, sample_rate=22050, frequency=220.0, subtype="PCM_16"):
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    x = 0.5 * np.sin(2 * np.pi * frequency * t)
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), x, sample_rate, subtype=subtype)
    return x


@pytest.fixture
def ljspeech(tmp_path):
    """Three lines in the real LJSpeech-1.1 style: quotes, commas, non-ASCII, numbers."""
    root = tmp_path / "LJSpeech-1.1"
    lines = [
        "LJ001-0001|Printing, in the only sense with which we are at present concerned,|"
        "Printing, in the only sense with which we are at present concerned,",
        'LJ001-0002|in being comparatively modern "the art" of Müller.|'
        'in being comparatively modern "the art" of Müller.',
        "LJ002-0010|It cost £5 in 1827.|It cost five pounds in eighteen twenty-seven.",
    ]
    root.mkdir()
    (root / "metadata.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    waves = {}
    for i, line in enumerate(lines):
        uid = line.split("|")[0]
        waves[uid] = _tone(root / "wavs" / f"{uid}.wav", 0.2 + 0.1 * i)
    return root, waves


def test_reads_the_ljspeech_layout(ljspeech):
    root, waves = ljspeech
    data = LJSpeechDataset(root)
    assert len(data) == 3
    item = data[1]
    assert item["id"] == "LJ001-0002"
    assert item["text"] == 'in being comparatively modern "the art" of Müller.'
    assert item["sample_rate"] == 22050 and item["waveform"].dtype == torch.float32
    np.testing.assert_allclose(item["waveform"].numpy(), waves["LJ001-0002"], atol=1 / 32768)
    assert data[2]["normalized_text"] == "It cost five pounds in eighteen twenty-seven."
    assert "speaker" not in item
    resampled = LJSpeechDataset(root, sample_rate=16000)[0]
    assert resampled["sample_rate"] == 16000
    assert resampled["waveform"].numel() == pytest.approx(0.2 * 16000, abs=2)
    batch = collate_audio([data[0], data[2]])
    assert batch["waveform"].shape == (2, len(waves["LJ002-0010"]))
    assert batch["waveform_lengths"].tolist() == [
        len(waves["LJ001-0001"]),
        len(waves["LJ002-0010"]),
    ]
    assert batch["id"] == ["LJ001-0001", "LJ002-0010"]


@pytest.mark.parametrize(
    "bad, message",
    [
        ("LJ9|only two fields", r"metadata.csv:2: expected 3 fields"),
        ("LJ9|a|b|c", r"metadata.csv:2: expected 3 fields.*got 4"),
        ("|a|b", r"metadata.csv:2: empty id"),
        ("LJ001-0001|again|again", r"metadata.csv:2: id 'LJ001-0001' already used on line 1"),
    ],
)
def test_malformed_metadata_names_file_and_line(tmp_path, bad, message):
    path = tmp_path / "metadata.csv"
    path.write_text(f"LJ001-0001|fine|fine\n{bad}\n", encoding="utf-8")
    with pytest.raises(ParameterError, match=message):
        read_ljspeech_metadata(path)


def test_missing_files_and_folders(ljspeech, tmp_path):
    root, _ = ljspeech
    (root / "wavs" / "LJ001-0002.wav").unlink()
    with pytest.raises(ParameterError, match="LJ001-0002"):
        LJSpeechDataset(root)
    with pytest.raises(ParameterError, match="root="):
        LJSpeechDataset(tmp_path / "nope")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "metadata.csv").write_text("\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="no lines"):
        LJSpeechDataset(empty)
    with pytest.raises(ParameterError, match="sample_rate=0"):
        LJSpeechDataset(root, sample_rate=0)
    with pytest.raises(ParameterError, match="split='train' needs"):
        LJSpeechDataset(root, split="train")


def test_audio_folder_is_recursive_with_sidecar_transcripts(tmp_path):
    _tone(tmp_path / "a" / "one.wav", 0.1)
    _tone(tmp_path / "a" / "b" / "two.flac", 0.2, sample_rate=16000, subtype="PCM_24")
    _tone(tmp_path / "three.WAV", 0.3)
    (tmp_path / "a" / "b" / "two.txt").write_text("hello there\n", encoding="utf-8")
    (tmp_path / "notes.md").write_text("not audio", encoding="utf-8")
    data = AudioFolderDataset(tmp_path)
    assert [data[i]["id"] for i in range(len(data))] == ["a/b/two", "a/one", "three"]
    assert data[0]["text"] == "hello there" and data[1]["text"] == ""
    assert data[0]["sample_rate"] == 16000 and data[0]["waveform"].numel() == 3200
    assert AudioFolderDataset(tmp_path, sample_rate=8000)[2]["sample_rate"] == 8000
    with pytest.raises(ParameterError, match="no audio files"):
        AudioFolderDataset(tmp_path / "a", extensions=(".mp3",))
