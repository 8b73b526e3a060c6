"""Mel filterbank, mel-spectrogram, inverse_mel against librosa in float64."""

import warnings

import librosa
import numpy as np
import pytest
import torch

from synesthesia.errors import ParameterError
from synesthesia.functional import (
    hz_to_mel,
    inverse_mel,
    mel_filterbank,
    mel_spectrogram,
    mel_to_hz,
)

MEL_KW = dict(
    n_fft=1024, hop_length=256, win_length=1024, window="hann", center=True, pad_mode="reflect"
)


@pytest.mark.parametrize("mel_scale", ["slaney", "htk"])
def test_hz_mel_round_trip_matches_librosa(mel_scale):
    hz = np.array([0.0, 50.0, 999.0, 1000.0, 1001.0, 4000.0, 11025.0])
    ours = hz_to_mel(torch.from_numpy(hz), mel_scale=mel_scale).numpy()
    np.testing.assert_allclose(ours, librosa.hz_to_mel(hz, htk=mel_scale == "htk"), rtol=1e-12)
    back = mel_to_hz(torch.from_numpy(ours), mel_scale=mel_scale).numpy()
    np.testing.assert_allclose(back, hz, rtol=1e-10, atol=1e-9)


@pytest.mark.parametrize("mel_scale", ["slaney", "htk"])
@pytest.mark.parametrize("norm", ["slaney", None])
@pytest.mark.parametrize(
    "sample_rate,n_fft,n_mels,f_min,f_max",
    [
        (22050, 1024, 80, 0.0, 8000.0),
        (16000, 512, 40, 20.0, None),
        (44100, 2048, 128, 30.0, 16000.0),
    ],
)
def test_filterbank_matches_librosa(mel_scale, norm, sample_rate, n_fft, n_mels, f_min, f_max):
    ours = mel_filterbank(
        sample_rate=sample_rate,
        n_fft=n_fft,
        n_mels=n_mels,
        f_min=f_min,
        f_max=f_max,
        mel_scale=mel_scale,
        norm=norm,
        dtype=torch.float64,
    )
    ref = librosa.filters.mel(
        sr=sample_rate,
        n_fft=n_fft,
        n_mels=n_mels,
        fmin=f_min,
        fmax=f_max,
        htk=mel_scale == "htk",
        norm=norm,
        dtype=np.float64,
    )
    assert ours.shape == ref.shape == (n_mels, n_fft // 2 + 1)
    np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-5, atol=1e-12 * np.abs(ref).max())


@pytest.mark.parametrize("mel_scale,norm,power", [("slaney", "slaney", 2.0), ("htk", None, 1.0)])
def test_mel_spectrogram_matches_librosa(mel_scale, norm, power):
    x = np.random.default_rng(0).standard_normal((2, 8000))
    ours = mel_spectrogram(
        torch.from_numpy(x),
        sample_rate=22050,
        power=power,
        n_mels=80,
        f_min=30.0,
        f_max=8000.0,
        mel_scale=mel_scale,
        norm=norm,
        **MEL_KW,
    )
    ref = librosa.feature.melspectrogram(
        y=x,
        sr=22050,
        power=power,
        n_mels=80,
        fmin=30.0,
        fmax=8000.0,
        htk=mel_scale == "htk",
        norm=norm,
        dtype=np.float64,
        **MEL_KW,
    )
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-5, atol=1e-12 * ref.max())


def test_mel_spectrogram_float32_is_close_and_keeps_dtype():
    x = torch.from_numpy(np.random.default_rng(1).standard_normal(8000))
    kw = dict(sample_rate=22050, n_mels=80, f_min=0.0, f_max=8000.0, **MEL_KW)
    ref = mel_spectrogram(x, **kw)
    ours = mel_spectrogram(x.float(), **kw)
    assert ours.dtype == torch.float32
    torch.testing.assert_close(ours.double(), ref, rtol=1e-4, atol=1e-6 * ref.max().item())


def test_mel_blockwise_path_equals_autograd_path():
    x = torch.from_numpy(np.random.default_rng(5).standard_normal((2, 20000)))
    kw = dict(sample_rate=16000, n_mels=40, f_min=0.0, f_max=None, power=1.0, **MEL_KW)
    blockwise = mel_spectrogram(x, **kw)
    whole = mel_spectrogram(x.clone().requires_grad_(True), **kw).detach()
    assert blockwise.shape[-1] > 64
    torch.testing.assert_close(blockwise, whole, rtol=1e-12, atol=1e-12 * whole.max().item())


def test_mel_batched_equals_per_item_and_gradcheck():
    x = torch.randn(3, 4000, dtype=torch.float64)
    kw = dict(sample_rate=16000, n_mels=20, f_min=0.0, f_max=None, **MEL_KW)
    kw.update(n_fft=256, hop_length=64, win_length=256)
    batched = mel_spectrogram(x, **kw)
    for i in range(3):
        torch.testing.assert_close(batched[i], mel_spectrogram(x[i], **kw), rtol=1e-12, atol=0)
    small = torch.randn(1, 48, dtype=torch.float64, requires_grad=True)
    kw.update(n_fft=16, hop_length=4, win_length=16, n_mels=4)
    assert torch.autograd.gradcheck(lambda t: mel_spectrogram(t, **kw), (small,), fast_mode=True)


def test_inverse_mel_recovers_a_consistent_spectrum_at_least_as_well_as_librosa():
    x = np.random.default_rng(2).standard_normal(2000)
    kw = dict(sr=16000, n_fft=512, n_mels=40, fmin=0.0, fmax=8000.0, htk=False, norm="slaney")
    spec = np.abs(librosa.stft(x, n_fft=512, hop_length=128, center=True, pad_mode="reflect"))
    basis = librosa.filters.mel(dtype=np.float64, **kw)
    mel = basis @ spec**2
    ours = inverse_mel(
        torch.from_numpy(mel),
        sample_rate=16000,
        n_fft=512,
        f_min=0.0,
        f_max=8000.0,
        mel_scale="slaney",
        norm="slaney",
        power=2.0,
        n_iter=300,
    ).numpy()
    ref = librosa.feature.inverse.mel_to_stft(
        mel,
        sr=16000,
        n_fft=512,
        power=2.0,
        fmin=0.0,
        fmax=8000.0,
        htk=False,
        norm="slaney",
    )
    assert ours.shape == ref.shape and (ours >= 0).all()

    def residual(s):
        return np.linalg.norm(basis @ s**2 - mel) / np.linalg.norm(mel)

    assert residual(ours) <= residual(ref) * 1.05 + 1e-6
    assert residual(ours) < 0.05


def test_inverse_mel_pseudo_inverse_only():
    mel = torch.rand(2, 40, 7, dtype=torch.float64)
    spec = inverse_mel(mel, sample_rate=16000, n_fft=512, n_iter=0, power=1.0)
    assert spec.shape == (2, 257, 7) and (spec >= 0).all()


def test_empty_filters_warn():
    with pytest.warns(UserWarning, match="Empty filters"):
        mel_filterbank(sample_rate=8000, n_fft=128, n_mels=128)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mel_filterbank(sample_rate=22050, n_fft=1024, n_mels=80)


def test_errors_name_the_argument():
    with pytest.raises(ParameterError, match="f_max=12000"):
        mel_filterbank(sample_rate=22050, n_fft=1024, f_max=12000.0)
    with pytest.raises(ParameterError, match="f_min=9000"):
        mel_filterbank(sample_rate=22050, n_fft=1024, f_min=9000.0, f_max=8000.0)
    with pytest.raises(ParameterError, match="n_mels=0"):
        mel_filterbank(sample_rate=22050, n_fft=1024, n_mels=0)
    with pytest.raises(ParameterError, match="mel_scale"):
        mel_filterbank(sample_rate=22050, n_fft=1024, mel_scale="bark")
    with pytest.raises(ParameterError, match="norm"):
        mel_filterbank(sample_rate=22050, n_fft=1024, norm="l2")
    with pytest.raises(ParameterError, match="f_max=12000"):
        mel_spectrogram(torch.randn(4000), sample_rate=22050, f_max=12000.0)
    with pytest.raises(ParameterError, match="NaN"):
        mel_spectrogram(torch.full((4000,), float("nan")), sample_rate=22050)


def test_sharpen_log_mel_stretches_each_band_around_its_mean():
    from synesthesia.functional import sharpen_log_mel

    g = torch.Generator().manual_seed(0)
    mel = torch.randn(2, 5, 40, generator=g, dtype=torch.float64) - 4.0
    out = sharpen_log_mel(mel, factor=1.5)
    torch.testing.assert_close(out.mean(-1), mel.mean(-1), rtol=0, atol=1e-12)
    torch.testing.assert_close(
        out - out.mean(-1, keepdim=True), 1.5 * (mel - mel.mean(-1, keepdim=True)),
        rtol=0, atol=1e-12,
    )  # fmt: skip
    torch.testing.assert_close(out.std(-1), 1.5 * mel.std(-1), rtol=1e-12, atol=0)
    assert sharpen_log_mel(mel, factor=1) is mel
    floored = sharpen_log_mel(mel, factor=3.0, floor=-6.0)
    assert floored.min() >= -6.0 and floored.min() == -6.0
    for bad in (0, -2, True):
        with pytest.raises(ParameterError, match="factor"):
            sharpen_log_mel(mel, factor=bad)
    with pytest.raises(ParameterError, match="frames"):
        sharpen_log_mel(mel[..., :0], factor=1.2)
