"""load_audio / save_audio: round trips, resampling parity with soxr via librosa, errors."""

import numpy as np
import pytest
import soundfile as sf
import torch

from synesthesia.errors import ParameterError
from synesthesia.io import load_audio, resample, save_audio


def _tone(sample_rate=16000, seconds=0.5, channels=2):
    t = np.arange(int(sample_rate * seconds)) / sample_rate
    return np.stack([0.5 * np.sin(2 * np.pi * (300 + 200 * c) * t) for c in range(channels)])


def test_round_trip_float_wav_and_mono_mix(tmp_path):
    x = _tone().astype(np.float32)
    path = save_audio(tmp_path / "a.wav", torch.from_numpy(x), 16000, subtype="FLOAT")
    y, rate = load_audio(path, mono=False)
    assert rate == 16000 and y.shape == x.shape and y.dtype == torch.float32
    np.testing.assert_array_equal(y.numpy(), x)
    mono, _ = load_audio(path)
    np.testing.assert_allclose(mono.numpy(), x.mean(0), rtol=1e-6, atol=1e-7)


def test_pcm16_default_and_clipping_warning(tmp_path):
    x = _tone(channels=1)[0]
    save_audio(tmp_path / "b.wav", x, 16000)
    assert sf.info(str(tmp_path / "b.wav")).subtype == "PCM_16"
    y, _ = load_audio(tmp_path / "b.wav")
    assert np.abs(y.numpy() - x).max() < 1 / 2**15 + 1e-6
    with pytest.warns(UserWarning, match="clipping"):
        save_audio(tmp_path / "c.wav", 3 * x, 16000)


def test_resampling_matches_librosa_soxr_hq(tmp_path):
    import librosa

    x = _tone(sample_rate=22050, channels=1)[0].astype(np.float32)
    save_audio(tmp_path / "d.wav", x, 22050, subtype="FLOAT")
    y, rate = load_audio(tmp_path / "d.wav", sample_rate=16000)
    ref = librosa.resample(x, orig_sr=22050, target_sr=16000, res_type="soxr_hq")
    assert rate == 16000 and y.shape == ref.shape
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-5, atol=1e-6)
    batch = resample(
        torch.from_numpy(np.stack([x, -x])), orig_sample_rate=22050, target_sample_rate=16000
    )
    np.testing.assert_allclose(batch[1].numpy(), -ref, rtol=1e-5, atol=1e-6)


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    save_audio(tmp_path / "out" / "e.flac", _tone(channels=1)[0], 16000)
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["e.flac"]


def test_errors_name_the_path_or_argument(tmp_path):
    with pytest.raises(ParameterError, match="missing.wav"):
        load_audio(tmp_path / "missing.wav")
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF not really a wave file")
    with pytest.raises(ParameterError, match="corrupt.wav"):
        load_audio(tmp_path / "corrupt.wav")
    sf.write(str(tmp_path / "empty.wav"), np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(ParameterError, match="empty"):
        load_audio(tmp_path / "empty.wav")
    sf.write(
        str(tmp_path / "nan.wav"), np.array([0.0, np.nan], dtype=np.float32), 16000, subtype="FLOAT"
    )
    with pytest.raises(ParameterError, match="NaN"):
        load_audio(tmp_path / "nan.wav")
    with pytest.raises(ParameterError, match="sample_rate=0"):
        load_audio(tmp_path / "nan.wav", sample_rate=0)
    with pytest.raises(ParameterError, match="NaN"):
        save_audio(tmp_path / "f.wav", np.array([0.0, np.inf]), 16000)
    with pytest.raises(ParameterError, match="extension"):
        save_audio(tmp_path / "f.xyz", np.zeros(10), 16000)
    with pytest.raises(ParameterError, match="shape"):
        save_audio(tmp_path / "f.wav", np.zeros((2, 2, 2)), 16000)
    assert not (tmp_path / "f.wav").exists()
