"""Mel-cepstral distortion: against a direct float64 numpy/librosa/scipy computation,
properties (0 for identical, symmetric, grows with noise), and DTW against librosa."""

import math

import librosa
import numpy as np
import pytest
import scipy.fft
import torch

from synesthesia.data.espeak import EspeakSynthesizer
from synesthesia.errors import ParameterError
from synesthesia.metrics.mcd import (
    dtw_log_mel_l1,
    dtw_path,
    mel_cepstral_distortion,
    mel_cepstrum,
)

SR = 22050


@pytest.fixture(scope="module")
def speech():
    synth = EspeakSynthesizer()
    a, _ = synth.synthesize("place green by k seven soon", voice="en-us")
    b, _ = synth.synthesize("place green by k seven soon", voice="en-us+f3")
    return a.double(), b.double()


def _numpy_cepstrum(x, *, n_fft, hop_length, n_mels, order, power_floor):
    """Independent path: numpy framing + rfft, librosa's mel filters, scipy's DCT."""
    pad = n_fft // 2
    padded = np.pad(x, pad, mode="reflect")
    num_frames = 1 + len(x) // hop_length
    window = np.hanning(n_fft + 1)[:-1]  # periodic Hann
    frames = np.stack([padded[n * hop_length : n * hop_length + n_fft] for n in range(num_frames)])
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2  # (N, F)
    filters = librosa.filters.mel(
        sr=SR, n_fft=n_fft, n_mels=n_mels, fmin=0.0, fmax=SR / 2, htk=False, norm="slaney",
        dtype=np.float64,
    )  # fmt: skip
    mel = power @ filters.T  # (N, M)
    log_amplitude = 0.5 * np.log(np.maximum(mel, power_floor))
    unnormalised = scipy.fft.dct(log_amplitude, type=2, norm=None, axis=1)  # 2 sum x cos(..)
    return unnormalised[:, : order + 1] / (2 * n_mels)


def test_cepstrum_and_mcd_match_a_direct_float64_computation(speech):
    a, b = speech
    settings = dict(n_fft=512, hop_length=128, n_mels=40, order=24, power_floor=1e-10)
    ours = mel_cepstrum(a, sample_rate=SR, **settings).numpy()
    ref = _numpy_cepstrum(a.numpy(), **settings)
    assert ours.shape == ref.shape == (1 + len(a) // 128, 25)
    np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-8)
    ref_b = _numpy_cepstrum(b.numpy(), **settings)
    n = min(len(ref), len(ref_b))
    expected = np.mean(
        10 / math.log(10) * np.sqrt(2 * ((ref[:n, 1:] - ref_b[:n, 1:]) ** 2).sum(axis=1))
    )
    got = mel_cepstral_distortion(a, b, sample_rate=SR, **settings)
    assert got == pytest.approx(expected, rel=1e-9)


def test_properties(speech):
    a, b = speech
    assert mel_cepstral_distortion(a, a, sample_rate=SR) == 0.0
    assert mel_cepstral_distortion(a, a, sample_rate=SR, dtw=True) == 0.0
    ab = mel_cepstral_distortion(a, b, sample_rate=SR)
    assert ab == pytest.approx(mel_cepstral_distortion(b, a, sample_rate=SR), rel=1e-12)
    assert ab > 1.0  # a different voice is clearly different
    # float32 input gives the same figure as float64 to float32 accuracy
    assert mel_cepstral_distortion(a.float(), b.float(), sample_rate=SR) == pytest.approx(
        ab, rel=1e-4
    )
    rng = np.random.default_rng(0)
    a = a[:SR]  # one second is enough for the noise and gain properties
    noise = torch.from_numpy(rng.normal(0, 1, len(a)))
    distortions = [
        mel_cepstral_distortion(a, a + level * noise, sample_rate=SR)
        for level in (1e-3, 1e-2, 1e-1)
    ]
    assert all(x < y for x, y in zip(distortions, distortions[1:])), distortions
    # a global gain changes only c0, which is excluded (away from the power floor: eSpeak
    # writes exact zeros, so add faint noise first)
    x = a + 1e-3 * noise
    assert mel_cepstral_distortion(x, 0.5 * x, sample_rate=SR) < 1e-9


def test_dtw_aligns_a_time_stretched_copy(speech):
    a, _ = speech
    synth = EspeakSynthesizer()
    slow, _ = synth.synthesize("place green by k seven soon", voice="en-us", rate=130)
    with pytest.warns(UserWarning, match="dtw=True"):
        plain = mel_cepstral_distortion(a, slow.double(), sample_rate=SR, dtw=False)
    aligned = mel_cepstral_distortion(a, slow.double(), sample_rate=SR, dtw=True)
    assert aligned < 0.7 * plain


def test_dtw_matches_librosa():
    rng = np.random.default_rng(3)
    for rows, cols in [(1, 1), (1, 7), (9, 1), (30, 41), (57, 33)]:
        cost = rng.random((rows, cols))
        path, total = dtw_path(cost)
        acc, wp = librosa.sequence.dtw(C=cost, backtrack=True)
        assert total == pytest.approx(acc[-1, -1], rel=1e-12)
        np.testing.assert_array_equal(path, wp[::-1])


def test_errors(speech):
    a, _ = speech
    with pytest.raises(ParameterError, match="order=0"):
        mel_cepstrum(a, sample_rate=SR, order=0)
    with pytest.raises(ParameterError, match="n_mels=20"):
        mel_cepstrum(a, sample_rate=SR, n_mels=20, order=24)
    with pytest.raises(ParameterError, match="estimate"):
        mel_cepstral_distortion(a, a[None], sample_rate=SR)
    with pytest.warns(UserWarning, match="dtw=True"):
        mel_cepstral_distortion(a, a[: len(a) // 2], sample_rate=SR)


def test_dtw_log_mel_l1_against_librosa_dtw():
    """The same mel stretched in time scores 0; otherwise the mean cost on librosa's path."""
    rng = np.random.default_rng(0)
    mel = torch.from_numpy(rng.normal(size=(8, 20)))
    assert dtw_log_mel_l1(mel, mel.repeat_interleave(2, dim=1)) == 0.0
    other = torch.from_numpy(rng.normal(size=(8, 27)))
    cost = np.abs(mel.T.numpy()[:, None, :] - other.T.numpy()[None, :, :]).mean(-1)
    _, path = librosa.sequence.dtw(C=cost)
    assert dtw_log_mel_l1(mel, other) == pytest.approx(
        cost[path[:, 0], path[:, 1]].mean(), rel=0.05
    )
    with pytest.raises(ParameterError, match="same M"):
        dtw_log_mel_l1(mel, other[:4])
