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


@pytest.mark.parametrize("sigma", [0.4, 1.0, 2.5])
@pytest.mark.parametrize("truncate", [4.0, 2.0])
def test_gaussian_blur_matches_scipy(sigma, truncate):
    ndimage = pytest.importorskip("scipy.ndimage")
    from synesthesia.functional.image import gaussian_blur

    image = torch.rand(
        2, 3, 17, 23, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    ours = gaussian_blur(image, sigma=sigma, truncate=truncate)
    reference = torch.stack(
        [
            torch.from_numpy(
                ndimage.gaussian_filter(
                    one.numpy(), (0, sigma, sigma), mode="nearest", truncate=truncate
                )
            )
            for one in image
        ]
    )
    torch.testing.assert_close(ours, reference, rtol=0, atol=1e-12)  # float64 rounding only
    assert ours.dtype == torch.float64 and ours.shape == image.shape


def test_gaussian_blur_identity_and_bad_input():
    from synesthesia.functional.image import gaussian_blur
    from synesthesia.transforms.image import RandomGaussianBlur

    image = torch.rand(3, 8, 8)
    assert gaussian_blur(image, sigma=0) is image
    for bad in (-1.0, float("nan"), True):
        with pytest.raises(ParameterError, match="sigma"):
            gaussian_blur(image, sigma=bad)
    blur = RandomGaussianBlur(
        max_sigma=2.0, min_sigma=0.5, generator=torch.Generator().manual_seed(1)
    )
    outs = [blur(image) for _ in range(20)]
    assert any(o is image for o in outs) and any(o is not image for o in outs)
    assert torch.equal(blur.eval()(image), image)
    with pytest.raises(ParameterError, match="min_sigma"):
        RandomGaussianBlur(max_sigma=1.0, min_sigma=2.0)
