"""Image transforms as modules (each calls :mod:`synesthesia.functional.image` 1:1).

Example (the usual captioning preprocessing):
    >>> from torch import nn
    >>> preprocess = nn.Sequential(Resize(256), CenterCrop(224), Normalize())

References:
    torchvision.transforms (Resize, CenterCrop, RandomCrop, Normalize semantics).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from synesthesia.errors import ParameterError
from synesthesia.functional.image import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    _size_pair,
    center_crop,
    crop,
    gaussian_blur,
    normalize_image,
    resize_image,
)

__all__ = ["Resize", "CenterCrop", "RandomCrop", "Normalize", "RandomGaussianBlur"]


class Resize(nn.Module):
    """Resize (..., C, H, W): shorter side to ``size`` (keep_aspect) or to (height, width)."""

    def __init__(self, size: int | Sequence[int], *, keep_aspect: bool = True) -> None:
        super().__init__()
        if isinstance(size, int):
            _size_pair(size, "size")
        else:
            size = _size_pair(size, "size")
        self.size, self.keep_aspect = size, keep_aspect

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return resize_image(image, size=self.size, keep_aspect=self.keep_aspect)


class CenterCrop(nn.Module):
    """The central (height, width) window of (..., C, H, W)."""

    def __init__(self, size: int | Sequence[int]) -> None:
        super().__init__()
        self.size = _size_pair(size, "size")

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return center_crop(image, size=self.size)


class RandomCrop(nn.Module):
    """A uniformly random (height, width) window (the same one for the whole batch).

    Args:
        size: output (height, width) or a square side.
        generator: optional ``torch.Generator`` for reproducible crops.
    """

    def __init__(self, size: int | Sequence[int], *, generator: torch.Generator | None = None):
        super().__init__()
        self.size = _size_pair(size, "size")
        self.generator = generator

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        height, width = self.size
        full_h, full_w = image.shape[-2:]
        if height > full_h or width > full_w:
            raise ParameterError(f"size={self.size!r} must fit the {full_h}x{full_w} image")
        top = int(torch.randint(0, full_h - height + 1, (1,), generator=self.generator))
        left = int(torch.randint(0, full_w - width + 1, (1,), generator=self.generator))
        return crop(image, top=top, left=left, height=height, width=width)


class Normalize(nn.Module):
    """Per-channel ``(x - mean) / std`` (ImageNet statistics by default)."""

    def __init__(
        self, *, mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD
    ) -> None:
        super().__init__()
        self.mean, self.std = tuple(mean), tuple(std)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return normalize_image(image, mean=self.mean, std=self.std)


class RandomGaussianBlur(nn.Module):
    """:func:`~synesthesia.functional.gaussian_blur` with a sigma drawn uniformly from
    ``[0, max_sigma]`` per call (the same for the whole batch); sigmas below ``min_sigma``
    leave the images sharp. Identity in eval mode.

    Args:
        max_sigma: the largest blur, in pixels.
        min_sigma: draws below it do nothing (so part of the batches stay sharp).
        generator: optional ``torch.Generator`` for reproducible draws.
    """

    def __init__(
        self,
        *,
        max_sigma: float,
        min_sigma: float = 0.0,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if not 0 <= min_sigma <= max_sigma:
            raise ParameterError(
                f"min_sigma={min_sigma!r} and max_sigma={max_sigma!r} must satisfy "
                "0 <= min_sigma <= max_sigma"
            )
        self.max_sigma, self.min_sigma, self.generator = (
            float(max_sigma),
            float(min_sigma),
            generator,
        )

    def forward(
        self, image: torch.Tensor, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Blurred (or unchanged) images; ``generator`` overrides the module's for this call."""
        if not self.training or self.max_sigma == 0:
            return image
        draw = generator if generator is not None else self.generator
        sigma = float(torch.rand((), generator=draw)) * self.max_sigma
        return image if sigma < self.min_sigma else gaussian_blur(image, sigma=sigma)
