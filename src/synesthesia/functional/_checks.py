"""Argument checks shared by the functional layer (internal).

Every check raises :class:`~synesthesia.errors.ParameterError` whose message names the argument,
quotes the value and states the rule.
"""

from __future__ import annotations

import torch

from synesthesia.errors import ParameterError

__all__ = [
    "check_finite",
    "check_float_tensor",
    "check_min_samples",
    "check_positive_int",
    "check_tensor",
]


def check_min_samples(
    shortest: int, minimum: int, *, sample_rate: int, what: str = "the network"
) -> None:
    """ParameterError when the shortest clip (``shortest`` samples at ``sample_rate``) is
    below ``minimum``, the fewest samples ``what`` accepts (one message for every model that
    reads audio: the clip, the minimum in samples and in seconds)."""
    if shortest < minimum:
        raise ParameterError(
            f"a clip of {shortest} samples at {sample_rate} Hz is too short: {what} needs at "
            f"least {minimum} samples ({minimum / sample_rate:.3f} s)"
        )


def check_positive_int(name: str, value: object) -> int:
    """``value`` as an int, or ParameterError if it is not a positive integer."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ParameterError(f"{name}={value!r} must be a positive integer")
    return value


def check_tensor(name: str, value: object, *, min_dim: int = 1) -> torch.Tensor:
    """Check that ``value`` is a tensor with at least ``min_dim`` dimensions."""
    if not isinstance(value, torch.Tensor):
        raise ParameterError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if value.dim() < min_dim:
        raise ParameterError(
            f"{name} with shape {tuple(value.shape)} must have at least {min_dim} dimension(s)"
        )
    return value


def check_float_tensor(name: str, value: object, *, min_dim: int = 1) -> torch.Tensor:
    """Check a real floating-point tensor with at least ``min_dim`` dimensions."""
    value = check_tensor(name, value, min_dim=min_dim)
    if not value.is_floating_point():
        raise ParameterError(f"{name} with dtype {value.dtype} must be a floating-point tensor")
    return value


def check_finite(name: str, value: torch.Tensor) -> None:
    """ParameterError if ``value`` holds NaN or infinite entries.

    The sum is finite only if every entry is (NaN and inf propagate; inf - inf is NaN), and
    one reduction costs a tenth of ``isfinite(value).all()`` (1.6 ms on 16 x 4 s at 22.05
    kHz, a third of an STFT): the exact test runs only when the sum is not finite, which
    also covers finite entries whose sum overflows.
    """
    if value.is_floating_point() or value.is_complex():
        if bool(torch.isfinite(value.detach().sum())):
            return
    if not bool(torch.isfinite(value).all()):
        raise ParameterError(f"{name} contains NaN or infinite values; it must be finite")
