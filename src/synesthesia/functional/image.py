"""Image tensor operations: resize, crop, normalise, blur (batched over leading dimensions).

Images are float tensors (..., C, H, W). Resizing is bilinear with antialiasing when
shrinking, as torchvision's ``resize`` on tensors.

References:
    torchvision.transforms.v2.functional (resize, center_crop, normalize semantics);
    scipy.ndimage.gaussian_filter (gaussian_blur: its kernel radius and "nearest" edges).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from synesthesia.errors import ParameterError

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "resize_image",
    "center_crop",
    "crop",
    "gaussian_blur",
    "normalize_image",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _check_image(image: torch.Tensor) -> None:
    if not isinstance(image, torch.Tensor) or image.dim() < 3:
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise ParameterError(f"image of shape {shape} must be a tensor (..., C, H, W)")
    if not image.is_floating_point():
        raise ParameterError(f"image dtype={image.dtype} must be floating point")


def _size_pair(size: int | Sequence[int], name: str) -> tuple[int, int]:
    pair = (size, size) if isinstance(size, int) else tuple(size)
    if len(pair) != 2 or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in pair):
        raise ParameterError(f"{name}={size!r} must be a positive int or (height, width)")
    return int(pair[0]), int(pair[1])


def resize_image(
    image: torch.Tensor, *, size: int | Sequence[int], keep_aspect: bool = True
) -> torch.Tensor:
    """Resize bilinearly (antialiased when shrinking).

    Args:
        image: (..., C, H, W).
        size: with ``keep_aspect`` and an int, the length of the shorter side; otherwise the
            output (height, width) (an int means a square).
        keep_aspect: keep the aspect ratio (only with an int ``size``).

    Returns:
        (..., C, H', W').
    """
    _check_image(image)
    height, width = image.shape[-2:]
    if keep_aspect and isinstance(size, int) and not isinstance(size, bool):
        if size < 1:
            raise ParameterError(f"size={size!r} must be a positive integer")
        scale = size / min(height, width)
        target = (max(1, round(height * scale)), max(1, round(width * scale)))
    else:
        target = _size_pair(size, "size")
    if target == (height, width):
        return image
    lead = image.shape[:-3]
    flat = image.reshape(-1, *image.shape[-3:])
    antialias = target[0] < height or target[1] < width
    out = F.interpolate(
        flat, size=target, mode="bilinear", align_corners=False, antialias=antialias
    )
    return out.reshape(*lead, *out.shape[-3:])


def crop(image: torch.Tensor, *, top: int, left: int, height: int, width: int) -> torch.Tensor:
    """Crop the window [top, top + height) × [left, left + width) of (..., C, H, W)."""
    _check_image(image)
    full_h, full_w = image.shape[-2:]
    if top < 0 or left < 0 or height < 1 or width < 1:
        raise ParameterError(
            f"crop top={top}, left={left}, height={height}, width={width} must be non-negative "
            "offsets and positive sizes"
        )
    if top + height > full_h or left + width > full_w:
        raise ParameterError(
            f"crop of {height}x{width} at ({top}, {left}) must fit the {full_h}x{full_w} image"
        )
    return image[..., top : top + height, left : left + width]


def center_crop(image: torch.Tensor, *, size: int | Sequence[int]) -> torch.Tensor:
    """The central (height, width) window of (..., C, H, W); the size must fit the image."""
    _check_image(image)
    height, width = _size_pair(size, "size")
    full_h, full_w = image.shape[-2:]
    if height > full_h or width > full_w:
        raise ParameterError(f"size={size!r} must fit the {full_h}x{full_w} image")
    return crop(
        image, top=(full_h - height) // 2, left=(full_w - width) // 2, height=height, width=width
    )


def normalize_image(
    image: torch.Tensor,
    *,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
) -> torch.Tensor:
    """``(image - mean) / std`` per channel of (..., C, H, W) (ImageNet statistics by default)."""
    _check_image(image)
    channels = image.shape[-3]
    if len(mean) != channels or len(std) != channels:
        raise ParameterError(
            f"mean={tuple(mean)} and std={tuple(std)} must have one value per channel ({channels})"
        )
    if any(s <= 0 for s in std):
        raise ParameterError(f"std={tuple(std)} must be positive")
    m = torch.as_tensor(mean, dtype=image.dtype, device=image.device).view(-1, 1, 1)
    s = torch.as_tensor(std, dtype=image.dtype, device=image.device).view(-1, 1, 1)
    if image.min() < -0.01 or image.max() > 1.01:
        warnings.warn("normalize_image expects values in [0, 1]", stacklevel=2)
    return (image - m) / s


def gaussian_blur(image: torch.Tensor, *, sigma: float, truncate: float = 4.0) -> torch.Tensor:
    """Separable Gaussian blur of each channel of (..., C, H, W) images.

    The kernel has radius ``int(truncate * sigma + 0.5)`` and is normalised to sum 1; edges
    repeat the border pixel — as ``scipy.ndimage.gaussian_filter(x, (0, sigma, sigma),
    mode="nearest", truncate=truncate)`` per image. ``sigma=0`` returns the image unchanged.

    Args:
        image: (..., C, H, W) float tensor.
        sigma: standard deviation in pixels (>= 0).
        truncate: the kernel reaches this many standard deviations.

    Returns:
        (..., C, H, W), the same dtype and device.
    """
    _check_image(image)
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not sigma >= 0:
        raise ParameterError(f"sigma={sigma!r} must be a non-negative number")
    if isinstance(truncate, bool) or not isinstance(truncate, (int, float)) or not truncate > 0:
        raise ParameterError(f"truncate={truncate!r} must be a positive number")
    radius = int(truncate * sigma + 0.5)
    if sigma == 0 or radius == 0:
        return image
    offsets = torch.arange(-radius, radius + 1, dtype=image.dtype, device=image.device)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    kernel = kernel / kernel.sum()
    lead, (channels, height, width) = image.shape[:-3], image.shape[-3:]
    x = image.reshape(-1, channels, height, width)
    weight = kernel.repeat(channels, 1, 1, 1)  # (C, 1, 1, 2r + 1)
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode="replicate"), weight, groups=channels)
    x = F.conv2d(
        F.pad(x, (0, 0, radius, radius), mode="replicate"),
        weight.transpose(-1, -2),
        groups=channels,
    )
    return x.reshape(*lead, channels, height, width)
