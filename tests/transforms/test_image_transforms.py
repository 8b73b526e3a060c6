"""Image resize / crop / normalise (functional and module forms)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from synesthesia.errors import ParameterError
from synesthesia.functional.image import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    center_crop,
    normalize_image,
    resize_image,
)
from synesthesia.transforms.image import CenterCrop, Normalize, RandomCrop, Resize


def test_resize_keeps_aspect_and_values():
    image = torch.rand(3, 40, 100, dtype=torch.float64)
    assert resize_image(image, size=20).shape == (3, 20, 50)
    assert resize_image(image, size=(8, 9), keep_aspect=False).shape == (3, 8, 9)
    constant = torch.full((2, 3, 10, 10), 0.3, dtype=torch.float64)
    out = resize_image(constant, size=4)
    assert out.dtype == torch.float64
    torch.testing.assert_close(out, torch.full((2, 3, 4, 4), 0.3, dtype=torch.float64))
    # bilinear, half-pixel centres: [0, 1] -> [0, 0.25, 0.75, 1]
    ramp = torch.tensor([[[[0.0, 1.0]]]], dtype=torch.float64)
    wide = resize_image(ramp, size=(1, 4), keep_aspect=False)
    torch.testing.assert_close(
        wide[0, 0, 0], torch.tensor([0.0, 0.25, 0.75, 1.0], dtype=torch.float64)
    )


def test_center_crop_takes_the_middle():
    image = torch.arange(36.0).view(1, 6, 6)
    out = center_crop(image, size=2)
    torch.testing.assert_close(out, torch.tensor([[[14.0, 15.0], [20.0, 21.0]]]))
    with pytest.raises(ParameterError, match="size"):
        center_crop(image, size=7)


def test_normalize_matches_the_formula():
    image = torch.rand(2, 3, 4, 5, dtype=torch.float64)
    mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float64).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=torch.float64).view(3, 1, 1)
    torch.testing.assert_close(normalize_image(image), (image - mean) / std, rtol=0, atol=1e-15)
    with pytest.raises(ParameterError, match="mean"):
        normalize_image(torch.rand(1, 4, 4))


def test_module_pipeline_and_random_crop_reproducible():
    image = torch.rand(3, 30, 60)
    pipeline = nn.Sequential(Resize(20), CenterCrop(16), Normalize())
    assert pipeline(image).shape == (3, 16, 16)
    a = RandomCrop(8, generator=torch.Generator().manual_seed(3))(image)
    b = RandomCrop(8, generator=torch.Generator().manual_seed(3))(image)
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    with pytest.raises(ParameterError, match="size"):
        Resize(0)
