"""Pre-emphasis and de-emphasis filters (first-order FIR and its exact IIR inverse).

References:
    librosa.effects.preemphasis / deemphasis (librosa 0.11), including their default
    initial state (linear extrapolation of the signal before its first sample).
"""

from __future__ import annotations

import torch

from synesthesia.errors import ParameterError
from synesthesia.functional._checks import check_finite, check_float_tensor

__all__ = ["preemphasis", "deemphasis", "first_order_recursion"]

_BLOCK = 128


def _check(x: torch.Tensor, coefficient: float) -> torch.Tensor:
    x = check_float_tensor("x", x)
    check_finite("x", x)
    if x.shape[-1] < 2:
        raise ParameterError(f"x with shape {tuple(x.shape)} must have at least 2 samples")
    if isinstance(coefficient, bool) or not isinstance(coefficient, (int, float)):
        raise ParameterError(f"coefficient={coefficient!r} must be a real number")
    if not -1.0 <= coefficient <= 1.0:
        raise ParameterError(f"coefficient={coefficient!r} must be in [-1, 1]")
    return x


def preemphasis(x: torch.Tensor, *, coefficient: float = 0.97) -> torch.Tensor:
    """Pre-emphasis ``y[t] = x[t] - coefficient * x[t - 1]`` along the last axis.

    The first output sample follows librosa's default initial filter state
    ``zi = 2 x[0] - x[1]``: ``y[0] = x[0] + zi = 3 x[0] - x[1]`` (reproduced exactly, so that
    :func:`deemphasis` inverts it).

    Args:
        x: waveform (..., T), ``T >= 2``.
        coefficient: filter coefficient in [-1, 1].

    Returns:
        (..., T) filtered waveform, same dtype and device. Differentiable.

    References:
        librosa.effects.preemphasis(x, coef=coefficient) with its default ``zi``.
    """
    x = _check(x, coefficient)
    y = torch.empty_like(x)
    y[..., 1:] = x[..., 1:] - coefficient * x[..., :-1]
    y[..., 0] = 3.0 * x[..., 0] - x[..., 1]
    return y


def _toeplitz_powers(a: float, n: int, like: torch.Tensor) -> torch.Tensor:
    """(n, n) lower-triangular matrix ``P[i, j] = a^(i - j)`` for ``i >= j``, else 0."""
    idx = torch.arange(n, device=like.device)
    diff = idx[:, None] - idx[None, :]
    base = torch.tensor(a, dtype=like.dtype, device=like.device)
    return torch.where(diff >= 0, base ** diff.clamp(min=0).to(like.dtype), 0.0)


def first_order_recursion(x: torch.Tensor, *, coefficient: float) -> torch.Tensor:
    """The IIR ``y[t] = x[t] + coefficient * y[t - 1]`` (``y[-1] = 0``) along the last axis.

    Exact (no truncated impulse response) and differentiable: the signal is cut into blocks of
    128 samples, each block is filtered by one matrix product with the lower-triangular matrix
    of powers ``coefficient^(i - j)``, and the block-end values are themselves a first-order
    recursion with coefficient ``coefficient^128``, solved the same way recursively. Cost is
    ``O(128 T)`` multiply-adds in matrix products instead of ``T`` sequential Python steps.

    Args:
        x: (..., T) input.
        coefficient: feedback coefficient, ``|coefficient| <= 1`` for stability.

    Returns:
        (..., T) output, same dtype and device.

    References:
        scipy.signal.lfilter([1], [1, -coefficient], x).
    """
    length = x.shape[-1]
    if length <= _BLOCK:
        matrix = _toeplitz_powers(coefficient, length, x)
        return x @ matrix.T
    num_blocks = -(-length // _BLOCK)
    padded = torch.nn.functional.pad(x, (0, num_blocks * _BLOCK - length))
    blocks = padded.reshape(*x.shape[:-1], num_blocks, _BLOCK)
    matrix = _toeplitz_powers(coefficient, _BLOCK, x)
    local = blocks @ matrix.T  # (..., num_blocks, BLOCK): each block filtered from rest
    ends = first_order_recursion(local[..., -1], coefficient=coefficient**_BLOCK)
    previous = torch.nn.functional.pad(ends[..., :-1], (1, 0))  # y at the end of block b - 1
    powers = matrix[:, 0]  # a^i, i = 0..BLOCK-1
    carry = coefficient * powers  # a^(i + 1)
    out = local + previous[..., None] * carry
    return out.reshape(*x.shape[:-1], num_blocks * _BLOCK)[..., :length]


def deemphasis(x: torch.Tensor, *, coefficient: float = 0.97) -> torch.Tensor:
    """De-emphasis ``y[t] = x[t] + coefficient * y[t - 1]``, the inverse of :func:`preemphasis`.

    The initial state undoes :func:`preemphasis`'s linear extrapolation exactly as librosa
    does, so ``deemphasis(preemphasis(x)) == x`` up to rounding. Computed with the exact
    blockwise recursion of :func:`first_order_recursion`; differentiable.

    Args:
        x: pre-emphasised waveform (..., T), ``T >= 2``.
        coefficient: filter coefficient in [-1, 1].

    Returns:
        (..., T) waveform, same dtype and device.

    References:
        librosa.effects.deemphasis(x, coef=coefficient) with its default ``zi``.
    """
    x = _check(x, coefficient)
    y = first_order_recursion(x, coefficient=coefficient)
    start = ((2.0 - coefficient) * x[..., 0:1] - x[..., 1:2]) / (3.0 - coefficient)
    exponents = torch.arange(x.shape[-1], device=x.device, dtype=x.dtype)
    decay = torch.tensor(coefficient, dtype=x.dtype, device=x.device) ** exponents
    return y - start * decay
