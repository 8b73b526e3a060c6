"""The sound modules equal their functions, follow .to(), and build from AudioConfig."""

import numpy as np
import pytest
import torch

import synesthesia.functional as AF
from synesthesia import AudioConfig
from synesthesia.errors import ParameterError
from synesthesia.transforms import (
    MFCC,
    AmplitudeToDB,
    GriffinLim,
    InverseMel,
    LogMelSpectrogram,
    MelSpectrogram,
    MuLawDecoding,
    MuLawEncoding,
    Spectrogram,
)

STFT = dict(
    n_fft=256, hop_length=64, win_length=200, window="hamming", center=True, pad_mode="reflect"
)
MEL = dict(sample_rate=16000, n_mels=32, f_min=20.0, f_max=7000.0, mel_scale="htk", norm=None)


@pytest.fixture
def wave():
    return torch.from_numpy(np.random.default_rng(0).standard_normal((2, 4000)))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_transforms_equal_functions(wave, dtype):
    x = wave.to(dtype)
    torch.testing.assert_close(
        Spectrogram(power=1.0, **STFT)(x), AF.spectrogram(x, power=1.0, **STFT)
    )
    torch.testing.assert_close(
        MelSpectrogram(power=2.0, **STFT, **MEL)(x), AF.mel_spectrogram(x, power=2.0, **STFT, **MEL)
    )
    torch.testing.assert_close(
        LogMelSpectrogram(power=1.0, log_floor=1e-4, **STFT, **MEL)(x),
        AF.log_mel_spectrogram(x, power=1.0, log_floor=1e-4, **STFT, **MEL),
    )
    torch.testing.assert_close(
        MFCC(n_mfcc=13, lifter=0.0, **STFT, **MEL)(x),
        AF.mfcc(x, n_mfcc=13, lifter=0.0, **STFT, **MEL),
    )
    mag = AF.spectrogram(x, power=1.0, **STFT)
    torch.testing.assert_close(
        AmplitudeToDB(stype="magnitude", top_db=60.0)(mag), AF.amplitude_to_db(mag, top_db=60.0)
    )
    torch.testing.assert_close(
        AmplitudeToDB(stype="power", ref="max")(mag**2), AF.power_to_db(mag**2, ref="max")
    )
    gl = GriffinLim(n_iter=4, momentum=0.9, init="zeros", **STFT)
    torch.testing.assert_close(
        gl(mag), AF.griffin_lim(mag, n_iter=4, momentum=0.9, init="zeros", **STFT)
    )
    mel = AF.mel_spectrogram(x, power=2.0, **STFT, **MEL)
    torch.testing.assert_close(
        InverseMel(
            n_fft=256, power=2.0, n_iter=5, **{k: v for k, v in MEL.items() if k != "n_mels"}
        )(mel),
        AF.inverse_mel(
            mel, n_fft=256, power=2.0, n_iter=5, **{k: v for k, v in MEL.items() if k != "n_mels"}
        ),
    )
    q = MuLawEncoding(quantization_channels=64)(x.clamp(-1, 1))
    torch.testing.assert_close(q, AF.mu_law_encode(x.clamp(-1, 1), quantization_channels=64))
    torch.testing.assert_close(
        MuLawDecoding(quantization_channels=64)(q), AF.mu_law_decode(q, quantization_channels=64)
    )


def test_buffers_are_non_persistent_and_follow_to():
    module = MelSpectrogram(**STFT, **MEL)
    assert module.state_dict() == {}
    assert module.filterbank.shape == (32, 129) and module.window.shape == (256,)
    module = module.to(torch.float64)
    assert module.filterbank.dtype == torch.float64 and module.window.dtype == torch.float64


def test_from_config_matches_the_config():
    config = AudioConfig(
        sample_rate=16000,
        n_fft=512,
        hop_length=128,
        win_length=400,
        n_mels=40,
        f_max=7600.0,
        power=1.0,
        log_floor=1e-4,
    )
    module = LogMelSpectrogram.from_config(config)
    assert module.config == config
    x = torch.randn(3, 5000, dtype=torch.float64)
    expected = AF.log_mel_spectrogram(
        x,
        sample_rate=16000,
        log_floor=1e-4,
        n_fft=512,
        hop_length=128,
        win_length=400,
        window="hann",
        center=True,
        pad_mode="reflect",
        power=1.0,
        n_mels=40,
        f_min=0.0,
        f_max=7600.0,
        mel_scale="slaney",
        norm="slaney",
    )
    out = module(x)
    assert out.shape == (3, 40, config.num_frames(5000))
    torch.testing.assert_close(out, expected)
    plain = MelSpectrogram.from_config(config)
    torch.testing.assert_close(out, plain(x).clamp(min=1e-4).log())


def test_inverse_mel_and_griffin_lim_from_config_match_the_functions():
    """The inversion modules built from an AudioConfig equal the functions given its fields
    (float64, exact: same calls), and refuse anything but an AudioConfig."""
    config = AudioConfig(sample_rate=16000, n_fft=512, hop_length=128, win_length=400,
                         n_mels=40, f_max=7600.0, power=1.0)  # fmt: skip
    mel = torch.rand(2, 40, 30, dtype=torch.float64) + 0.01
    magnitude = InverseMel.from_config(config)(mel)
    expected = AF.inverse_mel(mel, sample_rate=16000, n_fft=512, f_min=0.0, f_max=7600.0,
                              mel_scale="slaney", norm="slaney", power=1.0)  # fmt: skip
    torch.testing.assert_close(magnitude, expected, rtol=0, atol=0)
    waveform = GriffinLim.from_config(config, n_iter=4, seed=3)(magnitude, length=3712)
    expected = AF.griffin_lim(expected, n_iter=4, momentum=0.99, init="random", seed=3,
                              n_fft=512, hop_length=128, win_length=400, window="hann",
                              center=True, pad_mode="reflect", length=3712)  # fmt: skip
    torch.testing.assert_close(waveform, expected, rtol=0, atol=0)
    assert InverseMel.from_config(config, n_iter=7).kwargs["n_iter"] == 7
    for module in (InverseMel, GriffinLim):
        with pytest.raises(ParameterError, match="must be an AudioConfig"):
            module.from_config({"n_fft": 512})


def test_errors():
    with pytest.raises(ParameterError, match="hop_length=0"):
        Spectrogram(n_fft=256, hop_length=0)
    with pytest.raises(ParameterError, match="stype"):
        AmplitudeToDB(stype="energy")
    with pytest.raises(ParameterError, match="log_floor"):
        LogMelSpectrogram(sample_rate=16000, log_floor=0.0)
    with pytest.raises(ParameterError, match="config"):
        MelSpectrogram.from_config({"sample_rate": 16000})
