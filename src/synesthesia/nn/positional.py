"""Positional encodings for attention blocks (B, L, D) and image grids (B, P = H·W, D)."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from synesthesia.errors import ParameterError

__all__ = [
    "sinusoidal_positional_encoding",
    "SinusoidalPositionalEncoding",
    "LearnedPositionalEncoding",
    "SinusoidalPositionalEncoding2D",
]


def _check_dim(name: str, value: object, multiple: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or value % multiple:
        raise ParameterError(f"{name}={value!r} must be a positive multiple of {multiple}")
    return value


def sinusoidal_positional_encoding(
    length: int,
    embed_dim: int,
    *,
    offset: int = 0,
    base: float = 10000.0,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> Tensor:
    """PE(pos, 2i) = sin(pos / base^(2i/D)), PE(pos, 2i+1) = cos(pos / base^(2i/D)).

    Args:
        length: L, number of positions.
        embed_dim: D (even).
        offset: first position.
        base: wavelength base.
        device: device of the result.
        dtype: dtype of the result (default float32).

    Returns:
        (L, D).

    References:
        Vaswani et al., "Attention Is All You Need", 2017, Sec. 3.5.
    """
    _check_dim("embed_dim", embed_dim, 2)
    dtype = torch.float32 if dtype is None else dtype
    # computed in float64 on the CPU (not every device has float64), then moved
    positions = torch.arange(offset, offset + length, dtype=torch.float64)
    frequencies = torch.exp(
        torch.arange(0, embed_dim, 2, dtype=torch.float64) * (-math.log(base) / embed_dim)
    )
    angles = positions[:, None] * frequencies[None, :]  # (L, D/2)
    encoding = torch.stack([angles.sin(), angles.cos()], dim=-1).flatten(1)  # (L, D)
    return encoding.to(device=device, dtype=dtype)


def _check_input(x: Tensor, embed_dim: int) -> None:
    if not isinstance(x, Tensor) or x.ndim != 3 or x.shape[-1] != embed_dim:
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ParameterError(f"x with shape {shape} must be (B, L, embed_dim={embed_dim})")


class SinusoidalPositionalEncoding(nn.Module):
    """Adds fixed sinusoidal position codes to (B, L, D) inputs (then dropout).

    Args:
        embed_dim: D (even).
        dropout: dropout after the addition (training only).
        base: wavelength base.

    References:
        Vaswani et al., "Attention Is All You Need", 2017, Sec. 3.5.
    """

    def __init__(self, embed_dim: int, *, dropout: float = 0.0, base: float = 10000.0) -> None:
        super().__init__()
        self.embed_dim = _check_dim("embed_dim", embed_dim, 2)
        self.base = base
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor, *, offset: int = 0) -> Tensor:
        """x (B, L, D) + PE[offset : offset + L] → (B, L, D)."""
        _check_input(x, self.embed_dim)
        encoding = sinusoidal_positional_encoding(
            x.shape[1],
            self.embed_dim,
            offset=offset,
            base=self.base,
            device=x.device,
            dtype=x.dtype,
        )
        return self.dropout(x + encoding)


class LearnedPositionalEncoding(nn.Module):
    """Adds a learned embedding per position to (B, L, D) inputs (then dropout).

    Args:
        max_length: number of positions that can be encoded.
        embed_dim: D.
        dropout: dropout after the addition (training only).

    References:
        Gehring et al., "Convolutional Sequence to Sequence Learning", 2017; Radford et al.,
        "Improving Language Understanding by Generative Pre-Training", 2018 (GPT).
    """

    def __init__(self, max_length: int, embed_dim: int, *, dropout: float = 0.0) -> None:
        super().__init__()
        self.max_length = _check_dim("max_length", max_length, 1)
        self.embed_dim = _check_dim("embed_dim", embed_dim, 1)
        self.embedding = nn.Embedding(max_length, embed_dim)
        nn.init.normal_(self.embedding.weight, std=0.02)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor, *, offset: int = 0) -> Tensor:
        """x (B, L, D) + E[offset : offset + L] → (B, L, D).

        Raises:
            ParameterError: ``offset + L`` exceeds ``max_length``.
        """
        _check_input(x, self.embed_dim)
        end = offset + x.shape[1]
        if offset < 0 or end > self.max_length:
            raise ParameterError(
                f"positions offset={offset} .. {end - 1} must lie in "
                f"[0, max_length={self.max_length})"
            )
        positions = torch.arange(offset, end, device=x.device)
        return self.dropout(x + self.embedding(positions).to(x.dtype))


class SinusoidalPositionalEncoding2D(nn.Module):
    """Adds fixed 2-D sinusoidal codes to a flattened image grid (B, P = H·W, D).

    The first D/2 channels encode the row (y) and the last D/2 the column (x), each with
    the 1-D sinusoidal code; regions are flattened row-major (``p = y · W + x``), as
    ``features.flatten(2).transpose(1, 2)`` does for a (B, D, H, W) feature map.

    Args:
        embed_dim: D (a multiple of 4).
        dropout: dropout after the addition (training only).
        base: wavelength base.

    References:
        Wang & Liu, "Translating Math Formula Images to LaTeX Sequences Using Deep Neural
        Networks with Sequence-level Training", 2019 (2-D positional encoding); DETR
        (Carion et al., 2020) uses the same split of channels between y and x.
    """

    def __init__(self, embed_dim: int, *, dropout: float = 0.0, base: float = 10000.0) -> None:
        super().__init__()
        self.embed_dim = _check_dim("embed_dim", embed_dim, 4)
        self.base = base
        self.dropout = nn.Dropout(dropout)

    def encoding(
        self,
        height: int,
        width: int,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> Tensor:
        """The codes of an H × W grid, (P = H·W, D)."""
        half = self.embed_dim // 2
        rows = sinusoidal_positional_encoding(
            height, half, base=self.base, device=device, dtype=dtype
        )
        cols = sinusoidal_positional_encoding(
            width, half, base=self.base, device=device, dtype=dtype
        )
        grid = torch.cat(
            [
                rows[:, None, :].expand(height, width, half),
                cols[None, :, :].expand(height, width, half),
            ],
            dim=-1,
        )  # (H, W, D)
        return grid.reshape(height * width, self.embed_dim)

    def forward(self, x: Tensor, *, height: int, width: int) -> Tensor:
        """x (B, P, D) + PE2D(H, W) → (B, P, D).

        Raises:
            ParameterError: P != height · width or D != embed_dim.
        """
        _check_input(x, self.embed_dim)
        if height * width != x.shape[1] or height <= 0 or width <= 0:
            raise ParameterError(
                f"height={height} × width={width} must be positive and equal P={x.shape[1]}"
            )
        return self.dropout(x + self.encoding(height, width, device=x.device, dtype=x.dtype))
