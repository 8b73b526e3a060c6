import json

import pytest

from synesthesia import AudioConfig, ConfigMismatchError, ParameterError
from synesthesia.utils import atomic_path, atomic_write_json, read_json


def test_parameter_error_is_value_error():
    assert issubclass(ParameterError, ValueError)
    assert issubclass(ConfigMismatchError, ParameterError)


def test_audio_config_round_trips_through_json(tmp_path):
    cfg = AudioConfig(
        sample_rate=16000,
        n_fft=512,
        hop_length=128,
        win_length=400,
        n_mels=40,
        f_max=None,
        mel_scale="htk",
        norm=None,
        power=2.0,
    )
    path = tmp_path / "audio_config.json"
    text = cfg.to_json(path)
    assert AudioConfig.from_json(path) == cfg
    assert AudioConfig.from_json(text) == cfg
    assert json.loads(path.read_text())["mel_scale"] == "htk"
    assert cfg.f_max_hz == 8000.0 and cfg.n_freqs == 257
    assert cfg.num_frames(16000) == 1 + 16000 // 128


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"hop_length": 0}, "hop_length=0"),
        ({"hop_length": 2.5}, "hop_length=2.5"),
        ({"win_length": 4096}, "win_length=4096"),
        ({"f_max": 20000.0}, "f_max=20000.0"),
        ({"mel_scale": "bark"}, "mel_scale='bark'"),
        ({"norm": "l2"}, "norm='l2'"),
        ({"n_mels": -3}, "n_mels=-3"),
    ],
)
def test_audio_config_rejects_bad_values(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        AudioConfig(**kwargs)


def test_audio_config_rejects_unknown_fields():
    with pytest.raises(ParameterError, match="n_mel"):
        AudioConfig.from_dict({"n_mel": 80})


def test_mel_kwargs_give_the_functional_mel_of_the_config():
    """AudioConfig.mel_kwargs drives functional.mel_spectrogram exactly as a transform built
    from the same config (f_max=None resolved to Nyquist)."""
    import torch

    from synesthesia.functional.mel import mel_spectrogram
    from synesthesia.transforms import MelSpectrogram

    cfg = AudioConfig(sample_rate=16000, n_fft=512, hop_length=160, win_length=400, n_mels=32,
                      f_max=None, power=2.0, pad_mode="constant")  # fmt: skip
    assert cfg.mel_kwargs()["f_max"] == 8000.0 and "log_floor" not in cfg.mel_kwargs()
    x = torch.randn(2, 4000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    ours = mel_spectrogram(x, **cfg.mel_kwargs())
    torch.testing.assert_close(ours, MelSpectrogram.from_config(cfg).double()(x))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"num_frames": 0}, "num_frames=0"),
        ({"num_frames": 48, "std": 0.0}, "std=0.0"),
        ({"num_frames": 48, "mean": "x"}, "mean='x'"),
        ({"num_frames": 48, "trim_db": -3}, "trim_db=-3"),
        ({"num_frames": 48, "normalize": "cmvn"}, "normalize='cmvn'"),
    ],
)
def test_feature_standardization_rejects_bad_values(kwargs, match):
    from synesthesia.config import FeatureStandardization

    with pytest.raises(ParameterError, match=match):
        FeatureStandardization(**kwargs)


def test_feature_standardization_round_trips_and_unscales():
    from synesthesia.config import FeatureStandardization

    steps = FeatureStandardization(num_frames=64, mean=-0.5, std=1.7, trim_db=40,
                                   normalize="utterance")  # fmt: skip
    assert FeatureStandardization.from_dict(json.loads(json.dumps(steps.to_dict()))) == steps
    assert steps.unscaled() == FeatureStandardization(64, 0.0, 1.0, 40, "utterance")
    with pytest.raises(ParameterError, match="num_frame"):
        FeatureStandardization.from_dict({"num_frame": 3})


def test_check_compatible_names_each_difference():
    a, b = AudioConfig(), AudioConfig(n_mels=64, hop_length=200)
    a.check_compatible(AudioConfig())
    with pytest.raises(ConfigMismatchError, match="n_mels: expected 80, got 64") as info:
        a.check_compatible(b, what="mel")
    assert "hop_length" in str(info.value)


def test_atomic_path_keeps_old_file_on_failure(tmp_path):
    path = tmp_path / "out.json"
    atomic_write_json(path, {"good": 1})
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_text("half-writ")
        raise RuntimeError("crash")
    assert read_json(path) == {"good": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_read_json_errors(tmp_path):
    with pytest.raises(ParameterError, match="does not exist"):
        read_json(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    with pytest.raises(ParameterError, match="not valid JSON"):
        read_json(bad)


def test_atomic_writes_get_normal_permissions(tmp_path):
    import os

    path = tmp_path / "out.txt"
    atomic_write_json(path, {"a": 1})
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    # a writer that replaces the temporary file (safetensors does) gets them too
    import torch
    from safetensors.torch import save_file

    tensors = tmp_path / "t.safetensors"
    with atomic_path(tensors) as tmp:
        save_file({"x": torch.zeros(2)}, str(tmp))
    assert tensors.stat().st_mode & 0o777 == 0o666 & ~umask
