"""Mu-law companding and quantisation (ITU-T G.711), as used by WaveNet.

References:
    ITU-T G.711 (1972); van den Oord et al., "WaveNet: A Generative Model for Raw Audio",
    2016; formulas and quantisation bins match ``librosa.mu_compress`` / ``librosa.mu_expand``
    with ``quantize=True`` (librosa 0.11), shifted from ``[-Q/2, Q/2 - 1]`` to ``[0, Q - 1]``.
"""

from __future__ import annotations

import math

import torch

from synesthesia.errors import ParameterError
from synesthesia.functional._checks import check_finite, check_float_tensor, check_tensor

__all__ = ["mu_law_encode", "mu_law_decode"]


def _check_channels(quantization_channels: int) -> int:
    q = quantization_channels
    if isinstance(q, bool) or not isinstance(q, int) or q < 2:
        raise ParameterError(f"quantization_channels={q!r} must be an integer >= 2")
    return q


def mu_law_encode(x: torch.Tensor, *, quantization_channels: int = 256) -> torch.Tensor:
    """Compress a waveform with the mu-law and quantise it to ``Q`` integer classes.

    ``y = sign(x) * log1p(mu |x|) / log1p(mu)`` with ``mu = Q - 1``, then the class is the
    number of the ``Q`` uniform edges ``linspace(-1, 1, Q)`` strictly below ``y``
    (``numpy.digitize(..., right=True)``), so ``-1 -> 0`` and ``1 -> Q - 1``.

    Args:
        x: waveform in ``[-1, 1]``, any shape, e.g. (..., T).
        quantization_channels: number of classes ``Q`` (256 for 8-bit mu-law).

    Returns:
        LongTensor of the same shape with values in ``[0, Q - 1]``.

    Raises:
        ParameterError: ``x`` is not a float tensor, holds NaN/inf or values outside [-1, 1].

    References:
        librosa.mu_compress(x, mu=Q - 1, quantize=True) + Q // 2.
    """
    q = _check_channels(quantization_channels)
    x = check_float_tensor("x", x, min_dim=0)
    check_finite("x", x)
    if x.numel() and (bool((x < -1).any()) or bool((x > 1).any())):
        lo, hi = float(x.min()), float(x.max())
        raise ParameterError(f"x with range [{lo:.4g}, {hi:.4g}] must lie in [-1, 1]")
    mu = q - 1
    compressed = torch.sign(x) * torch.log1p(mu * x.abs()) / math.log1p(mu)
    # Edges exactly as numpy.linspace computes them, so the classes match librosa bit for bit.
    edges = torch.arange(q, dtype=torch.float64, device=x.device) * (2.0 / mu) - 1.0
    edges[-1] = 1.0
    classes = torch.searchsorted(edges, compressed.to(torch.float64).contiguous(), right=False)
    # float32 rounding can put x = 1 a hair above the last edge; keep the class in range
    return classes.clamp_(max=q - 1)


def mu_law_decode(
    q: torch.Tensor, *, quantization_channels: int = 256, dtype: torch.dtype | None = None
) -> torch.Tensor:
    """Map mu-law classes back to a waveform (the inverse of :func:`mu_law_encode`).

    With ``mu = Q - 1`` and ``y = 2 (q - Q // 2) / Q``: ``x = sign(y) ((1 + mu)^|y| - 1) / mu``.
    Class 0 maps to -1; class ``Q - 1`` to slightly below 1 (as in librosa).

    Args:
        q: integer classes in ``[0, Q - 1]``, any shape, e.g. (..., T).
        quantization_channels: number of classes ``Q``.
        dtype: floating dtype of the result (default: ``torch.get_default_dtype()``).

    Returns:
        Float tensor of the same shape with values in ``[-1, 1]``.

    Raises:
        ParameterError: ``q`` is not an integer tensor or has values outside ``[0, Q - 1]``.

    References:
        librosa.mu_expand(q - Q // 2, mu=Q - 1, quantize=True).
    """
    channels = _check_channels(quantization_channels)
    q = check_tensor("q", q, min_dim=0)
    if q.is_floating_point() or q.is_complex() or q.dtype == torch.bool:
        raise ParameterError(f"q with dtype {q.dtype} must be an integer tensor of classes")
    if q.numel() and (bool((q < 0).any()) or bool((q >= channels).any())):
        lo, hi = int(q.min()), int(q.max())
        raise ParameterError(
            f"q with range [{lo}, {hi}] must lie in [0, quantization_channels - 1 = {channels - 1}]"
        )
    dtype = torch.get_default_dtype() if dtype is None else dtype
    mu = channels - 1
    y = (q - channels // 2).to(dtype) * (2.0 / channels)
    return torch.sign(y) * torch.expm1(y.abs() * math.log1p(mu)) / mu
