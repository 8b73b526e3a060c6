"""Reading images into float tensors with Pillow.

References:
    Pillow documentation (``Image.open``, ``ImageOps.exif_transpose``, decompression-bomb
    protection through ``Image.MAX_IMAGE_PIXELS``).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import torch

from synesthesia.errors import ParameterError

__all__ = ["load_image", "image_to_tensor"]

_MODES = {"RGB": 3, "L": 1}


def image_to_tensor(image, *, mode: str = "RGB") -> torch.Tensor:
    """Convert a Pillow image to a float32 tensor (C, H, W) in [0, 1].

    Palette images and images with transparency (RGBA, LA, palette with a transparent colour)
    are composited on white; CMYK, 16-bit and other modes are converted by Pillow.

    Args:
        image: a ``PIL.Image.Image``.
        mode: "RGB" (C = 3) or "L" (grayscale, C = 1).
    """
    from PIL import Image

    if mode not in _MODES:
        raise ParameterError(f"mode={mode!r} must be one of {sorted(_MODES)}")
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "RGB" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if image.mode.startswith("I;16") else max(float(array.max()), 1.0)
        gray = np.clip(array / peak, 0.0, 1.0).astype(np.float32)
        tensor = torch.from_numpy(gray)[None]
        return tensor.expand(3, -1, -1).clone() if mode == "RGB" else tensor
    image = image.convert(mode)
    array = np.asarray(image, dtype=np.uint8)
    if array.ndim == 2:
        array = array[:, :, None]
    return torch.from_numpy(array.copy()).permute(2, 0, 1).to(torch.float32) / 255.0


def load_image(path: str | os.PathLike, *, mode: str = "RGB") -> torch.Tensor:
    """Read an image file into a float32 tensor (C, H, W) with values in [0, 1].

    Handles grayscale, RGBA and palette images (transparency composited on white), CMYK and
    the EXIF orientation tag (the image is rotated as a viewer would show it). Images larger
    than ``PIL.Image.MAX_IMAGE_PIXELS`` are refused before decoding (decompression-bomb guard).
    A 1 × 1 image is legal and loads (with a warning, as it carries no spatial content).

    Args:
        path: the image file (any format Pillow reads: PNG, JPEG, BMP, GIF, TIFF, WebP ...).
        mode: "RGB" (C = 3) or "L" (grayscale, C = 1).

    Raises:
        ParameterError: missing file, a file that is not an image, a truncated image, or an
            image over the pixel limit.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if mode not in _MODES:
        raise ParameterError(f"mode={mode!r} must be one of {sorted(_MODES)}")
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"path={str(path)!r} does not exist or is not a file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                limit = Image.MAX_IMAGE_PIXELS
                width, height = image.size
                if limit is not None and width * height > limit:
                    raise ParameterError(
                        f"path={str(path)!r} is {width}x{height} = {width * height} pixels, over "
                        f"the limit PIL.Image.MAX_IMAGE_PIXELS={limit} (decompression-bomb guard)"
                    )
                image.load()
                image = ImageOps.exif_transpose(image)
                tensor = image_to_tensor(image, mode=mode)
    except ParameterError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ParameterError(
            f"path={str(path)!r} exceeds the pixel limit PIL.Image.MAX_IMAGE_PIXELS "
            f"(decompression-bomb guard): {exc}"
        ) from None
    except UnidentifiedImageError:
        raise ParameterError(f"path={str(path)!r} is not an image file Pillow can read") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ParameterError(f"path={str(path)!r} is a truncated or corrupt image: {exc}") from None
    if tensor.shape[1] * tensor.shape[2] == 1:
        warnings.warn(f"path={str(path)!r} is a 1x1 image", stacklevel=2)
    return tensor
