"""Vocoder pipeline: .npy mels round-trip with their AudioConfig; Griffin-Lim from a log-mel."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import synesthesia.functional as AF
from synesthesia.config import AudioConfig
from synesthesia.errors import ParameterError
from synesthesia.pipelines.vocoder import griffin_lim_from_log_mel, load_mel, log_mel, save_mel

CONFIG = AudioConfig(
    sample_rate=8000, n_fft=256, hop_length=64, win_length=256, n_mels=40, f_max=4000.0
)


def _tone() -> torch.Tensor:
    t = torch.arange(4000, dtype=torch.float32) / 8000
    return 0.5 * torch.sin(2 * math.pi * 440 * t) + 0.2 * torch.sin(2 * math.pi * 1250 * t)


def test_mel_round_trip_with_sidecar(tmp_path):
    mel = log_mel(_tone(), CONFIG)
    path = save_mel(tmp_path / "a.npy", mel, CONFIG)
    loaded, config = load_mel(path)
    assert config == CONFIG and (tmp_path / "a.json").is_file()
    torch.testing.assert_close(loaded, mel, rtol=0, atol=0)
    (tmp_path / "a.json").unlink()
    assert load_mel(path)[1] is None
    with pytest.raises(ParameterError, match="must end in .npy"):
        save_mel(tmp_path / "a.bin", mel, CONFIG)


def test_log_mel_is_the_transform_representation():
    from synesthesia.transforms import LogMelSpectrogram

    wave = _tone()
    expected = LogMelSpectrogram.from_config(CONFIG)(wave)
    torch.testing.assert_close(log_mel(wave, CONFIG), expected, rtol=0, atol=0)
    assert expected.shape == (40, 1 + 4000 // 64)


def test_griffin_lim_from_log_mel_reconstructs_the_magnitude():
    wave = _tone()
    mel = log_mel(wave, CONFIG)
    rebuilt = griffin_lim_from_log_mel(mel, CONFIG, n_iter=32, seed=0)
    assert rebuilt.shape == ((mel.shape[-1] - 1) * 64,)
    kw = dict(n_fft=256, hop_length=64, win_length=256, window="hann", center=True,
              pad_mode="reflect")  # fmt: skip
    # its log-mel is close to the one it came from (a mel is all it was given)
    error = (log_mel(rebuilt, CONFIG) - mel).abs()[:, 2:-2]
    loud = mel[:, 2:-2] > mel.max() - 4
    assert float(error[loud].mean()) < 0.3
    assert np.isfinite(AF.spectrogram(rebuilt, power=1.0, **kw).numpy()).all()
