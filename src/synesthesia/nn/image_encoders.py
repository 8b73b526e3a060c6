"""A small image CNN for joint embeddings (digits, thumbnails, video frames).

For larger images use :mod:`synesthesia.nn.resnet`; this one is a few VGG-style blocks with
global average pooling, cheap enough to train on a CPU.

References:
    Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
    Recognition", ICLR 2015 (3 × 3 conv blocks); Arandjelović & Zisserman, "Look, Listen and
    Learn", ICCV 2017 (a vision subnetwork of conv blocks + pooling for audio–visual
    correspondence).
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from synesthesia.errors import ParameterError

__all__ = ["ConvImageEncoder"]


class ConvImageEncoder(nn.Module):
    """Conv2d(3 × 3) → BatchNorm2d → ReLU → MaxPool2d(2, ceil_mode) blocks, then a global mean
    (or, with ``grid``, a mean over each cell of a ``grid`` × ``grid`` layout, flattened).

    ``ceil_mode`` pooling never shrinks a side below 1 pixel, so any image size is accepted
    (an 8 × 8 digit and a 224 × 224 frame alike). The global mean forgets *where* things are;
    ``grid`` keeps a coarse layout (e.g. where the eyes sit in a face), which a decoder that
    redraws the image from the feature needs.

    Args:
        in_channels: C of the images.
        channels: output channels of each block.
        grid: ``None`` (global mean) or G ≥ 1: adaptive mean pooling to G × G cells.

    Shapes:
        forward: images (B, C, H, W) → features (B, D) with D = ``channels[-1]`` (times G²
        with ``grid``).
    """

    def __init__(
        self,
        *,
        in_channels: int = 3,
        channels: Sequence[int] = (32, 64, 128),
        grid: int | None = None,
    ) -> None:
        super().__init__()
        if grid is not None and (isinstance(grid, bool) or not isinstance(grid, int) or grid < 1):
            raise ParameterError(f"grid={grid!r} must be None or a positive integer")
        if isinstance(in_channels, bool) or not isinstance(in_channels, int) or in_channels < 1:
            raise ParameterError(f"in_channels={in_channels!r} must be a positive integer")
        channels = tuple(channels)
        if not channels or any(
            isinstance(c, bool) or not isinstance(c, int) or c < 1 for c in channels
        ):
            raise ParameterError(
                f"channels={channels!r} must be a non-empty sequence of positive integers"
            )
        self.in_channels, self.channels = in_channels, channels
        blocks: list[nn.Module] = []
        previous = in_channels
        for width in channels:
            blocks += [
                nn.Conv2d(previous, width, 3, padding=1),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2, ceil_mode=True),
            ]
            previous = width
        self.blocks = nn.Sequential(*blocks)
        self.grid = grid
        self.output_dim = previous * (grid * grid if grid is not None else 1)

    def forward(self, images: Tensor) -> Tensor:
        """Features (B, D) of images (B, C, H, W)."""
        if images.dim() != 4 or images.shape[1] != self.in_channels:
            raise ParameterError(
                f"images of shape {tuple(images.shape)} must be (B, C={self.in_channels}, H, W)"
            )
        maps = self.blocks(images)  # (B, D, H', W')
        if self.grid is None:
            return maps.mean(dim=(2, 3))
        return nn.functional.adaptive_avg_pool2d(maps, self.grid).flatten(1)  # (B, D·G²)
