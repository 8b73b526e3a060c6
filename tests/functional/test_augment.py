"""Augmentations: noise at SNR, RIRs (Schroeder RT60), telephone band, speed, pitch, VTLP, masks.

Each figure a test asserts is measured with an independent tool (numpy/scipy/librosa/audioop)
in float64; tolerances are stated at the assertion.
"""

import math
import warnings

import librosa
import numpy as np
import pytest
import scipy.signal
import torch

from synesthesia.errors import ParameterError
from synesthesia.functional.augment import (
    add_noise,
    babble_noise,
    pink_noise,
    reverberate,
    synthetic_rir,
    white_noise,
)
from synesthesia.functional.resample import pitch_shift, resample, speed_perturb, time_stretch
from synesthesia.functional.specaugment import freq_mask, mask_along_axis, time_mask, time_warp
from synesthesia.functional.telephone import (
    a_law_decode,
    a_law_encode,
    bandpass_fir,
    telephone_channel,
)
from synesthesia.functional.vtlp import vtlp, vtlp_waveform

SR = 16000


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _harmonic(f0, seconds=0.5, sample_rate=SR, harmonics=5):
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, harmonics + 1))


def _snr_db(clean, noisy):
    return 10 * np.log10(np.sum(clean**2) / np.sum((noisy - clean) ** 2))


# -- noise -----------------------------------------------------------------------------
def test_add_noise_hits_per_item_snr_with_lengths():
    g = _gen()
    x = torch.randn(4, 3000, generator=g, dtype=torch.float64)
    noise = torch.randn(4, 3000, generator=g, dtype=torch.float64) * 3 + 0.2
    lengths = torch.tensor([3000, 2500, 1000, 17])
    for b, n in enumerate(lengths):
        x[b, n:] = 0
    snr = torch.tensor([-5.0, 0.0, 12.5, 40.0], dtype=torch.float64)
    y = add_noise(x, noise, snr_db=snr, waveform_lengths=lengths)
    for b, n in enumerate(lengths.tolist()):
        measured = _snr_db(x[b, :n].numpy(), y[b, :n].numpy())
        assert abs(measured - snr[b].item()) < 0.1  # measured < 1e-14 dB in float64 (exact scaling)
        assert abs(measured - snr[b].item()) < 1e-9
        assert torch.all(y[b, n:] == 0)  # padding untouched
        alone = add_noise(x[b : b + 1, :n], noise[b : b + 1, :n], snr_db=snr[b].item())
        torch.testing.assert_close(alone[0], y[b, :n], rtol=1e-12, atol=1e-12)


def test_add_noise_scalar_snr_and_broadcast_noise():
    x = torch.randn(3, 2, 800, generator=_gen(1), dtype=torch.float64)
    noise = torch.randn(800, generator=_gen(2), dtype=torch.float64)
    y = add_noise(x, noise, snr_db=6)
    for item in (y - x).reshape(-1, 800).numpy(), x.reshape(-1, 800).numpy():
        assert item.shape == (6, 800)
    for clean, noisy in zip(x.reshape(-1, 800).numpy(), y.reshape(-1, 800).numpy()):
        assert abs(_snr_db(clean, noisy) - 6) < 1e-9


def test_add_noise_gradcheck():
    x = torch.randn(2, 12, generator=_gen(3), dtype=torch.float64, requires_grad=True)
    n = torch.randn(2, 12, generator=_gen(4), dtype=torch.float64, requires_grad=True)
    snr = torch.tensor([3.0, 10.0], dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([12, 7])
    assert torch.autograd.gradcheck(
        lambda a, b, s: add_noise(a, b, snr_db=s, waveform_lengths=lengths), (x, n, snr)
    )


def test_white_and_pink_noise_are_seeded_and_pink_falls_3db_per_octave():
    a = pink_noise((2, 32000), generator=_gen(5), dtype=torch.float64)
    b = pink_noise((2, 32000), generator=_gen(5), dtype=torch.float64)
    assert torch.equal(a, b)
    assert torch.equal(white_noise((3,), generator=_gen(7)), white_noise((3,), generator=_gen(7)))
    assert abs(a.std(-1) - 1).max() < 1e-9
    f, psd = scipy.signal.welch(a.numpy(), fs=SR, nperseg=4096)
    band = (f > 50) & (f < 6000)
    slope = np.polyfit(np.log10(f[band]), np.log10(psd[:, band].mean(0)), 1)[0]
    assert abs(slope + 1) < 0.1  # power ~ 1/f: log-log slope -1 (measured about -1.00)
    f, psd = scipy.signal.welch(white_noise((32000,), generator=_gen(8)).numpy(), nperseg=4096)
    assert abs(np.polyfit(np.log10(f[1:]), np.log10(psd[1:]), 1)[0]) < 0.05


def test_babble_sums_distinct_other_clips():
    bank = torch.zeros(5, 100, dtype=torch.float64)
    for k in range(5):
        bank[k] = 10.0**k  # constant clips: the sum tells which ones were used
    babble = babble_noise(
        bank, num_samples=30, batch_size=5, num_talkers=2, exclude=torch.arange(5), generator=_gen()
    )
    assert babble.shape == (5, 30)
    # each clip is normalised to RMS 1, so every sample is exactly the number of talkers
    torch.testing.assert_close(babble, torch.full_like(babble, 2.0))
    speech = torch.randn(4, 400, generator=_gen(9), dtype=torch.float64)
    lengths = torch.tensor([400, 300, 50, 10])
    one = babble_noise(
        speech, num_samples=1000, batch_size=4, bank_lengths=lengths, generator=_gen(1)
    )
    two = babble_noise(
        speech, num_samples=1000, batch_size=4, bank_lengths=lengths, generator=_gen(1)
    )
    assert torch.equal(one, two)
    lonely = babble_noise(speech[:1], num_samples=10, batch_size=1, exclude=torch.tensor([0]))
    assert torch.equal(lonely, torch.zeros(1, 10, dtype=torch.float64))


# -- reverberation ---------------------------------------------------------------------
def _schroeder_rt60(h, sample_rate, lo=-5.0, hi=-25.0):
    """T20 (ISO 3382): line fit of the Schroeder energy decay curve between lo and hi dB."""
    energy = np.cumsum((h**2)[::-1])[::-1]
    edc = 10 * np.log10(energy / energy[0])
    t = np.arange(len(h)) / sample_rate
    sel = (edc <= lo) & (edc >= hi)
    slope = np.polyfit(t[sel], edc[sel], 1)[0]
    return -60.0 / slope


@pytest.mark.parametrize("drr", [-5.0, 0.0, 10.0])
def test_synthetic_rir_rt60_by_schroeder_and_drr(drr):
    rt60 = torch.tensor([0.2, 0.4, 0.8, 1.2], dtype=torch.float64)
    rir = synthetic_rir(
        sample_rate=SR,
        rt60=rt60,
        direct_to_reverberant_db=drr,
        generator=_gen(),
        dtype=torch.float64,
    )
    assert rir.shape == (4, round(1.2 * SR))
    for h, target in zip(rir.numpy(), rt60.tolist()):
        measured = _schroeder_rt60(h, SR)
        assert abs(measured / target - 1) < 0.1  # measured errors 0.1 % to 5.1 %
        assert h[0] == 1.0
        assert abs(10 * np.log10(1.0 / np.sum(h[1:] ** 2)) - drr) < 1e-9
    same = synthetic_rir(
        sample_rate=SR,
        rt60=rt60,
        direct_to_reverberant_db=drr,
        generator=_gen(),
        dtype=torch.float64,
    )
    assert torch.equal(rir, same)
    assert synthetic_rir(sample_rate=SR, rt60=0.3, duration=0.1).shape == (1600,)


def test_reverberate_matches_scipy_and_batches_with_lengths():
    g = _gen(3)
    x = torch.randn(3, 2000, generator=g, dtype=torch.float64)
    rt60 = torch.tensor([0.05, 0.1, 0.02])
    rir = synthetic_rir(sample_rate=SR, rt60=rt60, generator=g, dtype=torch.float64)
    lengths = torch.tensor([2000, 1500, 600])
    for b, n in enumerate(lengths):
        x[b, n:] = 0
    y = reverberate(x, rir, waveform_lengths=lengths)
    for b, n in enumerate(lengths.tolist()):
        ref = scipy.signal.fftconvolve(x[b, :n].numpy(), rir[b].numpy())[:n]
        np.testing.assert_allclose(y[b, :n].numpy(), ref, rtol=1e-9, atol=1e-10)
        assert torch.all(y[b, n:] == 0)
        alone = reverberate(x[b, :n], rir[b])
        torch.testing.assert_close(alone, y[b, :n], rtol=1e-10, atol=1e-10)


def test_reverberate_align_moves_and_scales_the_peak():
    rir = torch.zeros(50, dtype=torch.float64)
    rir[7], rir[9] = -2.0, 0.5
    x = torch.randn(100, generator=_gen(4), dtype=torch.float64)
    y = reverberate(x, rir, align=True)
    expected = -x + 0.25 * torch.nn.functional.pad(x, (2, 0))[:100]
    torch.testing.assert_close(y, expected)


def test_reverberate_gradcheck():
    x = torch.randn(2, 10, generator=_gen(5), dtype=torch.float64, requires_grad=True)
    h = torch.randn(2, 4, generator=_gen(6), dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([10, 6])
    assert torch.autograd.gradcheck(
        lambda a, b: reverberate(a, b, waveform_lengths=lengths), (x, h)
    )


# -- telephone -------------------------------------------------------------------------
def test_bandpass_fir_matches_scipy_firwin():
    ours = bandpass_fir(
        num_taps=255,
        low_frequency=300.0,
        high_frequency=3400.0,
        sample_rate=8000,
        beta=8.6,
        dtype=torch.float64,
    )
    ref = scipy.signal.firwin(
        255, [300.0, 3400.0], pass_zero=False, fs=8000, window=("kaiser", 8.6)
    )
    np.testing.assert_allclose(ours.numpy(), ref, rtol=0, atol=1e-14)


@pytest.mark.parametrize("sample_rate", [16000, 22050])
@pytest.mark.parametrize("codec", ["mulaw", "alaw"])
def test_telephone_channel_leaves_nothing_above_4khz(sample_rate, codec):
    x = 0.3 * torch.randn(2, sample_rate, generator=_gen(), dtype=torch.float64)  # full band
    y = telephone_channel(x, sample_rate=sample_rate, codec=codec)
    assert y.shape == x.shape
    f, psd = scipy.signal.welch(y.numpy(), fs=sample_rate, nperseg=2048, window="blackmanharris")
    above = 10 * np.log10(psd[:, f > 4000].sum() / psd.sum())
    assert above < -60  # measured about -87 dB (both codecs, 16 and 22.05 kHz)
    below = 10 * np.log10(psd[:, f < 200].sum() / psd.sum())
    assert below < -30  # the 300 Hz high-pass too (measured -53 to -56 dB)


def test_telephone_channel_passes_speech_band_with_codec_noise():
    t = np.arange(SR) / SR
    x = 0.5 * np.sin(2 * np.pi * 1000 * t)
    y = telephone_channel(torch.from_numpy(x), sample_rate=SR, codec="alaw").numpy()
    inner = slice(2000, -2000)  # away from the filters' edge transients
    assert 30 < _snr_db(x[inner], y[inner]) < 45  # 8-bit companding: measured about 40 dB


def test_telephone_channel_passes_gradients_straight_through_the_codec():
    x = (0.3 * torch.randn(1, 4000, generator=_gen(2), dtype=torch.float64)).requires_grad_()
    telephone_channel(x, sample_rate=SR, codec="mulaw").pow(2).sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_a_law_round_trip_is_as_good_as_g711():
    x = np.clip(np.random.default_rng(0).laplace(0, 0.1, 50000), -1, 1)
    ours = a_law_decode(a_law_encode(torch.from_numpy(x)), dtype=torch.float64).numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        audioop = pytest.importorskip("audioop")  # stdlib up to Python 3.12
        pcm = (x * 32767).astype(np.int16).tobytes()
        ref = np.frombuffer(audioop.alaw2lin(audioop.lin2alaw(pcm, 2), 2), np.int16) / 32767
    # the continuous A-law curve vs G.711's 13-segment approximation: measured 38.1 vs 37.6 dB
    assert abs(_snr_db(x, ours) - _snr_db(x, ref)) < 1.0
    codes = a_law_encode(torch.linspace(-1, 1, 1001, dtype=torch.float64))
    assert codes.min() == 0 and codes.max() == 255 and torch.all(codes.diff() >= 0)


# -- resampling, speed, pitch ----------------------------------------------------------
@pytest.mark.parametrize(("orig", "new"), [(16000, 8000), (8000, 22050), (22050, 16000)])
def test_resample_matches_analytic_tones_and_scipy(orig, new):
    # tones up to 60 % of the lower Nyquist rate (above it the Hann sinc rolls off)
    freqs = [200.0, 1234.5, 0.3 * min(orig, new)]
    n = np.arange(orig // 2)
    x = sum(np.sin(2 * np.pi * f * n / orig + i) for i, f in enumerate(freqs))
    y = resample(torch.from_numpy(x), orig_sample_rate=orig, new_sample_rate=new).numpy()
    assert y.shape == (math.ceil(len(x) * new / orig),)
    m = np.arange(len(y))
    ideal = sum(np.sin(2 * np.pi * f * m / new + i) for i, f in enumerate(freqs))
    inner = slice(100, -100)
    assert np.abs(y - ideal)[inner].max() < 1e-2  # measured 3e-3 to 5e-3 (Hann sinc, width 6)
    g = math.gcd(orig, new)
    ref = scipy.signal.resample_poly(x, new // g, orig // g)
    assert np.abs(y - ref[: len(y)])[inner].max() < 1e-2


def test_resample_batched_and_gradcheck():
    x = torch.randn(2, 3, 400, generator=_gen(), dtype=torch.float64)
    y = resample(x, orig_sample_rate=3, new_sample_rate=2)
    torch.testing.assert_close(y[1, 2], resample(x[1, 2], orig_sample_rate=3, new_sample_rate=2))
    assert resample(x[..., :0], orig_sample_rate=3, new_sample_rate=2).shape == (2, 3, 0)
    small = torch.randn(2, 20, generator=_gen(1), dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda a: speed_perturb(a, factor=1.1, lowpass_filter_width=2), (small,)
    )


@pytest.mark.parametrize("factor", [0.9, 1.1, 0.95, 1.25])
def test_speed_perturb_changes_length_and_frequency_by_factor(factor):
    x = torch.from_numpy(np.sin(2 * np.pi * 500 * np.arange(SR) / SR))
    y = speed_perturb(x, factor=factor).numpy()
    assert len(y) == math.ceil(SR / factor - 1e-9)
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y)), n=16 * len(y)))
    peak = np.argmax(spectrum) * SR / (16 * len(y))
    assert abs(peak / (500 * factor) - 1) < 1e-3


@pytest.mark.parametrize("semitones", [-4.0, -1.0, 2.5, 7.0])
def test_pitch_shift_measured_by_yin(semitones):
    f0 = 220.0
    x = torch.from_numpy(_harmonic(f0))
    y = pitch_shift(x, sample_rate=SR, semitones=semitones)
    assert y.shape == x.shape
    track = librosa.yin(y.numpy(), fmin=80, fmax=800, sr=SR, frame_length=2048)
    measured = 12 * np.log2(np.median(track[3:-3]) / f0)
    assert abs(measured - semitones) < 0.3  # measured errors 0.003 to 0.024 semitone


def test_time_stretch_keeps_pitch():
    x = torch.from_numpy(_harmonic(200.0))
    y = time_stretch(x, rate=0.8)
    assert y.shape == (round(len(x) / 0.8),)
    track = librosa.yin(y.numpy(), fmin=80, fmax=800, sr=SR, frame_length=2048)
    assert abs(12 * np.log2(np.median(track[3:-3]) / 200.0)) < 0.1


# -- VTLP ------------------------------------------------------------------------------
@pytest.mark.parametrize("alpha", [0.9, 1.1])
def test_vtlp_moves_a_spectral_peak_by_the_warp_factor(alpha):
    x = torch.from_numpy(np.sin(2 * np.pi * 1500 * np.arange(SR // 4) / SR))
    spec = (
        torch.stft(
            x, 1024, 256, window=torch.hann_window(1024, dtype=torch.float64), return_complex=True
        ).abs()
        ** 2
    )  # (F, N)
    warped = vtlp(spec[None], warp_factor=torch.tensor([alpha]), sample_rate=SR)[0]
    resolution = SR / 1024
    before = spec.mean(-1).argmax().item() * resolution
    after = warped.mean(-1).argmax().item() * resolution
    assert abs(after - alpha * before) <= resolution  # one bin (15.6 Hz)
    torch.testing.assert_close(vtlp(spec, warp_factor=1.0, sample_rate=SR), spec)


def test_vtlp_waveform_moves_a_harmonic_peak():
    f0 = 300.0
    x = torch.from_numpy(_harmonic(f0, seconds=0.5, harmonics=3))
    warp = torch.tensor([0.9, 1.1], dtype=torch.float64)
    y = vtlp_waveform(x.expand(2, -1), warp_factor=warp, sample_rate=SR)
    assert y.shape == (2, len(x))
    n = 16 * len(x)
    for item, alpha in zip(y.numpy(), warp.tolist()):
        spectrum = np.abs(np.fft.rfft(item * np.hanning(len(item)), n=n))
        freqs = np.fft.rfftfreq(n, 1 / SR)
        for k in (1, 2, 3):  # each harmonic k f0 moves to alpha k f0
            band = (freqs > alpha * k * f0 - 60) & (freqs < alpha * k * f0 + 60)
            peak = freqs[band][np.argmax(spectrum[band])]
            assert abs(peak / (alpha * k * f0) - 1) < 0.01  # measured < 0.2 %
            assert spectrum[band].max() > 0.2 * spectrum.max()


def test_vtlp_per_item_and_gradcheck():
    spec = torch.rand(2, 33, 4, generator=_gen(), dtype=torch.float64, requires_grad=True)
    alpha = torch.tensor([0.9, 1.12], dtype=torch.float64)
    both = vtlp(spec, warp_factor=alpha, sample_rate=SR)
    torch.testing.assert_close(both[1], vtlp(spec[1], warp_factor=1.12, sample_rate=SR))
    assert torch.autograd.gradcheck(lambda s: vtlp(s, warp_factor=alpha, sample_rate=SR), (spec,))


# -- SpecAugment -----------------------------------------------------------------------
def test_time_and_freq_masks_respect_lengths_and_bounds_and_seed():
    spec = torch.rand(8, 20, 50, generator=_gen(), dtype=torch.float64) + 1
    lengths = torch.tensor([50, 40, 30, 20, 10, 5, 1, 0])
    for b, n in enumerate(lengths):
        spec[b, :, n:] = 0
    out = time_mask(spec, max_width=12, num_masks=2, lengths=lengths, generator=_gen(1))
    assert torch.equal(
        out, time_mask(spec, max_width=12, num_masks=2, lengths=lengths, generator=_gen(1))
    )
    masked_frames = (out == 0).all(1) & (spec != 0).all(1)  # (B, N)
    for b, n in enumerate(lengths.tolist()):
        assert not masked_frames[b, n:].any()  # padding is never the target
        assert masked_frames[b].sum() <= 24
    assert masked_frames.any()
    out = freq_mask(spec, max_width=5, num_masks=1, generator=_gen(2))
    masked_bins = (out[0] == 0).all(-1)
    assert masked_bins.sum() <= 5
    rows = masked_bins.nonzero().flatten()
    if rows.numel():
        assert rows.max() - rows.min() + 1 == rows.numel()  # one contiguous band


def test_time_mask_max_proportion_and_batched_equals_per_item():
    spec = torch.rand(3, 4, 40, generator=_gen(), dtype=torch.float64)
    out = time_mask(spec, max_width=40, max_proportion=0.1, num_masks=1, generator=_gen(3))
    assert ((out == 0).all(1).sum(-1) <= 4).all()
    starts, widths = (
        torch.tensor([[3, 30], [0, 0], [39, 5]]),
        torch.tensor([[2, 5], [0, 3], [1, 0]]),
    )
    both = mask_along_axis(spec, starts=starts, widths=widths, axis=-1, mask_value=-1.0)
    for b in range(3):
        one = mask_along_axis(
            spec[b : b + 1],
            starts=starts[b : b + 1],
            widths=widths[b : b + 1],
            axis=-1,
            mask_value=-1.0,
        )
        assert torch.equal(one[0], both[b])
    assert (both[0, :, 3:5] == -1).all() and (both[0, :, 30:35] == -1).all()
    assert (both[0, :, 5:30] != -1).all()


def test_masks_gradcheck():
    spec = torch.rand(2, 5, 6, generator=_gen(), dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda s: freq_mask(
            time_mask(s, max_width=3, generator=_gen(4)), max_width=2, generator=_gen(5)
        ),
        (spec,),
    )


def test_time_warp_moves_a_marker_frame_and_keeps_padding():
    frames = torch.arange(60, dtype=torch.float64)
    spec = frames.expand(3, 4, 60).clone()  # value = frame index, so the warp is readable
    lengths = torch.tensor([60, 40, 9])
    for b, n in enumerate(lengths.tolist()):
        spec[b, :, n:] = -1
    out = time_warp(spec, max_warp=5, lengths=lengths, generator=_gen(2))
    assert torch.equal(out, time_warp(spec, max_warp=5, lengths=lengths, generator=_gen(2)))
    for b, n in enumerate(lengths.tolist()):
        assert torch.equal(out[b, :, n:], spec[b, :, n:])  # padding untouched
        row = out[b, 0, :n]
        assert row[0] == 0 and row[-1] == n - 1  # ends fixed
        assert torch.all(row.diff() > 0)  # monotone: a warp, not a shuffle
        assert (row - frames[:n]).abs().max() <= 5 + 1e-9  # no frame moves more than W
    assert torch.equal(out[2], spec[2])  # 9 frames <= 2 W + 1: unchanged
    assert not torch.equal(out[0], spec[0])
    moved = [
        (time_warp(spec[:1], max_warp=5, generator=_gen(s))[0, 0] - frames).abs().max()
        for s in range(20)
    ]
    assert max(moved) > 2  # warps of several frames do happen
    grad_in = torch.rand(2, 3, 12, generator=_gen(), dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda s: time_warp(s, max_warp=2, generator=_gen(7)), (grad_in,)
    )


# -- errors ----------------------------------------------------------------------------
def test_errors_name_the_argument():
    x = torch.zeros(2, 100)
    with pytest.raises(ParameterError, match="snr_db"):
        add_noise(x, x, snr_db=float("nan"))
    with pytest.raises(ParameterError, match="waveform_lengths"):
        add_noise(x, x, snr_db=3.0, waveform_lengths=torch.tensor([100, 101]))
    with pytest.raises(ParameterError, match="noise"):
        add_noise(x, torch.zeros(3, 100), snr_db=3.0)
    with pytest.raises(ParameterError, match="factor=0"):
        speed_perturb(x, factor=0)
    with pytest.raises(ParameterError, match="factor=-1"):
        speed_perturb(x, factor=-1.0)
    with pytest.raises(ParameterError, match="codec='gsm'"):
        telephone_channel(x, sample_rate=SR, codec="gsm")
    with pytest.raises(ParameterError, match="sample_rate=4000"):
        telephone_channel(x, sample_rate=4000)
    with pytest.raises(ParameterError, match="rt60"):
        synthetic_rir(sample_rate=SR, rt60=0.0)
    with pytest.raises(ParameterError, match="semitones"):
        pitch_shift(x, sample_rate=SR, semitones=float("inf"))
    with pytest.raises(ParameterError, match="warp_factor"):
        vtlp(torch.zeros(5, 3), warp_factor=-1.0, sample_rate=SR)
    with pytest.raises(ParameterError, match="max_width"):
        time_mask(torch.zeros(1, 2, 3), max_width=-1)
    with pytest.raises(ParameterError, match="new_sample_rate"):
        resample(x, orig_sample_rate=SR, new_sample_rate=0)
    with pytest.raises(ParameterError, match="generator"):
        white_noise((3,), generator=0)
    with pytest.raises(ParameterError, match="max_warp"):
        time_warp(torch.zeros(1, 2, 3), max_warp=-2)
