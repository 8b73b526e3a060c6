"""Augmentation modules, RandomApply / Compose and build_augmentation: seeding, lengths, levels."""

import math

import numpy as np
import pytest
import torch

from synesthesia import functional as AF
from synesthesia.errors import ParameterError
from synesthesia.transforms import (
    VTLP,
    AddNoise,
    Compose,
    FrequencyMasking,
    PitchShift,
    RandomApply,
    Reverberate,
    SpeedPerturb,
    TelephoneChannel,
    TimeMasking,
    build_augmentation,
)

SR = 16000

SPEC = [
    {"name": "speed", "p": 0.5, "choices": [0.9, 1.0, 1.1]},
    {"name": "noise", "p": 0.5, "snr_db": [5, 30], "kind": ["white", "pink", "babble"]},
    {"name": "reverb", "p": 0.3, "rt60": [0.2, 0.8]},
    {"name": "telephone", "p": 0.2},
    {"name": "pitch", "p": 0.3, "semitones": [-2, 2]},
    {"name": "vtlp", "p": 0.3, "warp_factor": [0.9, 1.1]},
    {"name": "time_mask", "max_width": 10, "num_masks": 2},
    {"name": "freq_mask", "max_width": 5, "num_masks": 2},
    {"name": "time_warp", "p": 0.5, "max_warp": 3},
]


def _batch(seed=0, batch=4, length=4000):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, length, generator=g) * 0.1
    lengths = torch.tensor([length, 3000, 2000, 1000][:batch])
    for b, n in enumerate(lengths.tolist()):
        x[b, n:] = 0
    return x, lengths


def _run(pipeline, x, lengths):
    wave, wave_lengths = pipeline.waveform(x, lengths)
    mel = AF.log_mel_spectrogram(wave, sample_rate=SR, n_fft=512, hop_length=160, n_mels=40)
    frames = 1 + wave_lengths // 160
    return wave, wave_lengths, *pipeline.spectrogram(mel, frames)


def test_builder_same_seed_same_output_and_lengths_follow_speed():
    x, lengths = _batch()
    first = _run(build_augmentation(SPEC, sample_rate=SR, seed=3), x, lengths)
    second = _run(build_augmentation(SPEC, sample_rate=SR, seed=3), x, lengths)
    for a, b in zip(first, second):
        assert torch.equal(a, b)
    other = _run(build_augmentation(SPEC, sample_rate=SR, seed=4), x, lengths)
    assert not torch.equal(first[0], other[0]) or not torch.equal(first[2], other[2])
    wave, wave_lengths = first[0], first[1]
    assert wave.shape[-1] == int(wave_lengths.max())
    for b, n in enumerate(wave_lengths.tolist()):
        assert torch.all(wave[b, n:] == 0)  # padding stays silent
        assert any(n == math.ceil(lengths[b].item() / f - 1e-9) for f in (0.9, 1.0, 1.1))
    assert torch.isfinite(first[2]).all()


def test_builder_errors_name_the_entry():
    with pytest.raises(ParameterError, match=r"augment\[0\] name='echo'"):
        build_augmentation([{"name": "echo"}], sample_rate=SR)
    with pytest.raises(ParameterError, match=r"augment\[1\] \(noise\).*'snr'"):
        build_augmentation([{"name": "telephone"}, {"name": "noise", "snr": 3}], sample_rate=SR)
    with pytest.raises(ParameterError, match=r"augment\[0\] \(telephone\).*codec"):
        build_augmentation([{"name": "telephone", "codec": "gsm"}], sample_rate=SR)
    with pytest.raises(ParameterError, match=r"augment\[0\] \(noise\).*snr_db"):
        build_augmentation([{"name": "noise", "snr_db": [float("nan"), 3]}], sample_rate=SR)
    with pytest.raises(ParameterError, match="p=1.5"):
        build_augmentation([{"name": "noise", "p": 1.5}], sample_rate=SR)
    with pytest.raises(ParameterError, match="mixes"):
        build_augmentation(SPEC, sample_rate=SR)(torch.zeros(2, 100))
    with pytest.raises(ParameterError, match="factor"):
        SpeedPerturb(factor=0.0)
    assert len(build_augmentation(None, sample_rate=SR).transforms) == 0


def test_add_noise_module_hits_each_items_snr_inside_the_range():
    x, lengths = _batch()
    for kind in ("white", "pink", "babble"):
        out, out_lengths = AddNoise(snr_db=(10.0, 20.0), kind=kind, seed=1)(x, lengths)
        assert out_lengths is lengths
        for b, n in enumerate(lengths.tolist()):
            clean, noise = x[b, :n].double(), (out[b, :n] - x[b, :n]).double()
            snr = 10 * math.log10(float(clean.pow(2).sum() / noise.pow(2).sum()))
            assert 10.0 - 0.1 < snr < 20.0 + 0.1  # float32 rounding: measured error < 1e-4 dB
            assert torch.all(out[b, n:] == 0)
    fixed, _ = AddNoise(snr_db=7.0, kind="pink", seed=2)(x, lengths)
    for b, n in enumerate(lengths.tolist()):
        noise = (fixed[b, :n] - x[b, :n]).double()
        snr = 10 * math.log10(float(x[b, :n].double().pow(2).sum() / noise.pow(2).sum()))
        assert abs(snr - 7.0) < 0.01


def test_speed_perturb_batched_equals_one_by_one():
    x, lengths = _batch()
    out, out_lengths = SpeedPerturb(choices=(1.1,), seed=0)(x, lengths)
    for b, n in enumerate(lengths.tolist()):
        alone = AF.speed_perturb(x[b, :n], factor=1.1)
        assert out_lengths[b] == alone.shape[-1] == math.ceil(n / 1.1)
        torch.testing.assert_close(out[b, : alone.shape[-1]], alone)
    ranged, ranged_lengths = SpeedPerturb(factor=(0.9, 1.1), seed=0)(x, lengths)
    ratios = lengths / ranged_lengths
    assert ((ratios > 0.89) & (ratios < 1.11)).all()


def test_random_apply_changes_only_chosen_items_and_repads():
    x, lengths = _batch()
    never, never_lengths = RandomApply(SpeedPerturb(choices=(0.9,)), p=0.0)(x, lengths)
    assert torch.equal(never, x) and torch.equal(never_lengths, lengths)
    module = RandomApply(SpeedPerturb(choices=(0.9,), seed=0), p=0.5, seed=5)
    out, out_lengths = module(x, lengths)
    stretched = out_lengths != lengths
    assert stretched.any() and not stretched.all()  # seed 5 picks some items
    for b, n in enumerate(lengths.tolist()):
        if stretched[b]:
            assert out_lengths[b] == math.ceil(n / 0.9)
        else:
            assert torch.equal(out[b, :n], x[b, :n]) and torch.all(out[b, n:] == 0)


def test_generator_argument_and_reseed_reproduce():
    x, lengths = _batch()
    module = Reverberate(sample_rate=SR, rt60=(0.1, 0.3), seed=0)
    first, _ = module(x, lengths)
    second, _ = module(x, lengths)
    assert not torch.equal(first, second)  # the generator advances
    module.reseed(0)
    assert torch.equal(module(x, lengths)[0], first)
    g1, g2 = torch.Generator().manual_seed(9), torch.Generator().manual_seed(9)
    assert torch.equal(module(x, lengths, generator=g1)[0], module(x, lengths, generator=g2)[0])
    for b, n in enumerate(lengths.tolist()):
        assert torch.all(first[b, n:] == 0)


@pytest.mark.parametrize(
    "module",
    [
        TelephoneChannel(sample_rate=SR, seed=0),
        PitchShift(sample_rate=SR, semitones=(-2.0, 2.0), seed=0),
        VTLP(sample_rate=SR, seed=0),
        Reverberate(sample_rate=SR, seed=0),
    ],
    ids=lambda m: type(m).__name__,
)
def test_waveform_modules_keep_shape_lengths_and_padding(module):
    x, lengths = _batch()
    out, out_lengths = module(x, lengths)
    assert out.shape == x.shape and out.dtype == x.dtype and out_lengths is lengths
    assert torch.isfinite(out).all()
    for b, n in enumerate(lengths.tolist()):
        assert torch.all(out[b, n:] == 0)
        assert out[b, :n].abs().max() > 0


def test_spec_augment_modules_respect_frame_lengths_and_pass_gradients():
    mel = torch.randn(3, 20, 60, requires_grad=True)
    frames = torch.tensor([60, 30, 5])
    pipeline = Compose(
        [
            TimeMasking(max_width=8, num_masks=3, mask_value=0.0, seed=0),
            FrequencyMasking(mask_value=0.0, seed=1),
        ]
    )
    out, out_frames = pipeline(mel, frames)
    assert out_frames is frames
    masked = (out == 0).all(1)  # (B, N) frames masked in every bin
    for b, n in enumerate(frames.tolist()):
        assert not masked[b, n:].any()
    out.sum().backward()
    assert torch.equal(mel.grad, (out != 0).float())  # gradient 1 where kept, 0 where masked


def test_pitch_shift_module_moves_a_tone_by_the_drawn_semitones():
    t = np.arange(SR // 2) / SR
    x = torch.from_numpy(np.sin(2 * np.pi * 400 * t).astype(np.float32)).repeat(2, 1)
    out, _ = PitchShift(sample_rate=SR, semitones=(3.0, 3.0), seed=0)(x)
    item = out[1].double().numpy()[1000:-1000]
    n = 16 * len(item)
    peak = np.argmax(np.abs(np.fft.rfft(item * np.hanning(len(item)), n=n))) * SR / n
    assert abs(12 * np.log2(peak / 400) - 3.0) < 0.3  # measured < 0.01 semitone


def test_masks_fill_with_each_items_mean_by_default_and_keep_padding():
    mel = torch.full((2, 10, 30), -11.5)
    mel[0, :, :30] = torch.linspace(-8, -2, 30)
    mel[1, :, :12] = -4.0  # 12 valid frames at -4, padding at the log floor
    frames = torch.tensor([30, 12])
    out, _ = FrequencyMasking(max_width=10, num_masks=3, seed=0)(mel, frames)
    changed = out != mel
    assert changed.any()
    assert not changed[1, :, 12:].any()  # padding untouched
    torch.testing.assert_close(out[0][changed[0]], torch.full_like(out[0][changed[0]], -5.0))
    assert torch.all(out[1][changed[1]] == -4.0) or not changed[1].any()
    timed, _ = TimeMasking(max_width=10, num_masks=2, seed=3)(mel, frames)
    assert torch.all(timed[1][timed[1] != mel[1]] == -4.0)
    with pytest.raises(ParameterError, match="mask_value"):
        TimeMasking(mask_value="zero")
