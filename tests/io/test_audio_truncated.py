"""A WAV cut off inside its data chunk: load_audio reads what is there and warns once, saying
how many frames the header declares and how many are present; the CLI prints it in one line."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import soundfile as sf

from synesthesia.io import load_audio


def _wav(path, *, frames=1600, channels=1, subtype="PCM_16"):
    t = np.arange(frames) / 16000
    data = np.stack([0.3 * np.sin(2 * np.pi * (220 + 110 * c) * t) for c in range(channels)], -1)
    sf.write(str(path), data, 16000, subtype=subtype)
    return path


def _cut(path, *, keep_bytes_of_data):
    raw = path.read_bytes()
    start = raw.index(b"data") + 8
    path.write_bytes(raw[: start + keep_bytes_of_data])
    return path


@pytest.mark.parametrize(
    "channels, subtype, bytes_per_frame",
    [(1, "PCM_16", 2), (2, "PCM_16", 4), (1, "FLOAT", 4), (2, "PCM_24", 6)],
)
def test_truncated_wav_warns_declared_and_present_frames(tmp_path, channels, subtype,
                                                         bytes_per_frame):  # fmt: skip
    path = _cut(
        _wav(tmp_path / "a.wav", channels=channels, subtype=subtype),
        keep_bytes_of_data=600 * bytes_per_frame + 1,  # and a partial frame
    )
    with pytest.warns(UserWarning) as record:
        waveform, rate = load_audio(path, mono=False)
    assert waveform.shape == (channels, 600) and rate == 16000
    assert len(record) == 1
    message = str(record[0].message)
    assert "truncated" in message and "1600 frames" in message and "600" in message
    assert str(path) in message
    assert record[0].filename == __file__  # stacklevel=2: points at the caller


def test_complete_wavs_do_not_warn(tmp_path):
    paths = [
        _wav(tmp_path / "a.wav"),
        _wav(tmp_path / "b.wav", channels=2, subtype="FLOAT"),
        _wav(tmp_path / "odd.wav", frames=1601, subtype="PCM_U8"),  # a pad byte after the data
    ]
    flac = tmp_path / "c.flac"
    sf.write(str(flac), np.zeros(100), 16000)
    with sf.SoundFile(str(tmp_path / "d.wav"), "w", 16000, 1, "PCM_16") as handle:
        handle.write(np.zeros(100))
    raw = (tmp_path / "d.wav").read_bytes()  # a chunk after the data chunk
    (tmp_path / "d.wav").write_bytes(raw + b"LIST\x04\x00\x00\x00INFO")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for path in [*paths, flac, tmp_path / "d.wav"]:
            load_audio(path)


def test_streamed_wav_with_unknown_length_does_not_warn(tmp_path):
    """Writers that stream to a pipe leave the data size 0xFFFFFFFF (or 0): unknown, not cut."""
    path = _wav(tmp_path / "a.wav")
    raw = bytearray(path.read_bytes())
    at = raw.index(b"data") + 4
    raw[at : at + 4] = b"\xff\xff\xff\xff"
    raw[4:8] = b"\xff\xff\xff\xff"
    path.write_bytes(bytes(raw))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        waveform, _ = load_audio(path)
    assert waveform.shape == (1600,)


def test_cli_prints_the_truncation_warning_in_one_line(tmp_path):
    path = _cut(_wav(tmp_path / "a.wav"), keep_bytes_of_data=1200)
    out = tmp_path / "rebuilt.wav"
    result = subprocess.run(
        [sys.executable, "-m", "synesthesia", "audio", "reconstruct", str(path), "-o", str(out),
         "--n-iter", "1"],
        capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("synesthesia: warning: ")
    assert "1600 frames" in lines[0] and "600" in lines[0]
    assert sf.info(str(out)).frames == 600
