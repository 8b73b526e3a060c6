"""Synthetic scenes: shapes, classes in order, seeded and cached, splits differ, bad input."""

from __future__ import annotations

import pytest
import torch

from synesthesia.data.synthetic_scenes import SCENE_CLASSES, make_synthetic_scenes
from synesthesia.errors import ParameterError


def test_shapes_determinism_and_cache(tmp_path):
    kwargs = {"num_per_class": 2, "duration": 0.25, "image_size": 16, "cache_dir": tmp_path}
    data = make_synthetic_scenes("probe_train", **kwargs)
    k = 2 * len(SCENE_CLASSES)
    assert data.images.shape == (k, 3, 16, 16) and data.waveform.shape == (k, 2000)
    assert data.labels.tolist() == [c for c in range(len(SCENE_CLASSES)) for _ in range(2)]
    assert 0.0 <= float(data.images.min()) and float(data.images.max()) <= 1.0
    assert float(data.waveform.abs().max()) <= 1.0
    assert (data.waveform.std(dim=1) > 0.01).all()  # every clip holds sound
    assert len(list(tmp_path.glob("synthetic_scenes_*.npz"))) == 1
    cached = make_synthetic_scenes("probe_train", **kwargs)
    fresh = make_synthetic_scenes("probe_train", use_cache=False, **kwargs)
    for other in (cached, fresh):
        assert torch.equal(other.images, data.images) and torch.equal(other.waveform, data.waveform)
    test = make_synthetic_scenes("test", use_cache=False, **kwargs)
    assert not torch.equal(test.waveform, data.waveform)


def test_bad_input():
    with pytest.raises(ParameterError, match="split"):
        make_synthetic_scenes("validation")
    with pytest.raises(ParameterError, match="sample_rate"):
        make_synthetic_scenes("test", sample_rate=4000, use_cache=False)
    with pytest.raises(ParameterError, match="num_per_class"):
        make_synthetic_scenes("test", num_per_class=0, use_cache=False)
    with pytest.raises(ParameterError, match="duration"):
        make_synthetic_scenes("test", duration=0.01, use_cache=False)
