"""SpecAugment on (log-)mel spectrograms: time masks, frequency masks, time warping.

Batched over items (B, ..., M, N) with per-item random draws from an explicit
``torch.Generator`` (drawn on the CPU, applied on the input's device) and frame lengths
(B,) so padding is never masked or warped.

References:
    Park et al., "SpecAugment: A Simple Data Augmentation Method for Automatic Speech
    Recognition", Interspeech 2019; torchaudio.functional.mask_along_axis_iid (the draws)
    and the sparse_image_warp-free time warp of ESPnet's ``time_warp`` (linear interpolation
    along time).
"""

from __future__ import annotations

import torch

from synesthesia.errors import ParameterError
from synesthesia.functional._checks import check_float_tensor
from synesthesia.functional.augment import _check_generator, _length_mask

__all__ = ["mask_along_axis", "time_mask", "freq_mask", "time_warp"]


def mask_along_axis(
    spectrogram: torch.Tensor,
    *,
    starts: torch.Tensor,
    widths: torch.Tensor,
    axis: int,
    mask_value: float | torch.Tensor = 0.0,
) -> torch.Tensor:
    """Set bands ``[start, start + width)`` along ``axis`` (-1 time, -2 frequency) to a value.

    Args:
        spectrogram: (B, ..., M, N) (log-)mel spectrogram.
        starts: (B, K) first masked index of each of K masks per item.
        widths: (B, K) widths (0 = no mask).
        axis: -1 (frames, N) or -2 (bins, M).
        mask_value: value written in the bands: a number or a (B,) tensor (one per item).

    Returns:
        (B, ..., M, N) masked copy. Differentiable (zero gradient inside the bands; a
        tensor ``mask_value`` receives the gradient of the bands it fills).
    """
    if axis not in (-1, -2):
        raise ParameterError(f"axis={axis!r} must be -1 (time) or -2 (frequency)")
    spectrogram = check_float_tensor("spectrogram", spectrogram, min_dim=3)
    size = spectrogram.shape[axis]
    steps = torch.arange(size, device=spectrogram.device)
    starts, widths = starts.to(spectrogram.device), widths.to(spectrogram.device)
    inside = (steps >= starts[..., None]) & (steps < (starts + widths)[..., None])
    band = inside.any(1)  # (B, size)
    shape = [band.shape[0]] + [1] * (spectrogram.dim() - 1)
    shape[axis] = size
    if isinstance(mask_value, torch.Tensor):
        value = mask_value.to(spectrogram).reshape(-1, *([1] * (spectrogram.dim() - 1)))
        return torch.where(band.reshape(shape), value, spectrogram)
    return spectrogram.masked_fill(band.reshape(shape), mask_value)


def _fill_value(
    spectrogram: torch.Tensor, mask_value: float | str, size: torch.Tensor
) -> float | torch.Tensor:
    """``mask_value``, or with "mean" each item's mean over its ``size`` valid frames (B,)."""
    if mask_value == "mean":
        frames = spectrogram.shape[-1]
        valid = (
            torch.arange(frames, device=spectrogram.device) < size.to(spectrogram.device)[:, None]
        )  # (B, N)
        valid = valid.reshape(valid.shape[0], *([1] * (spectrogram.dim() - 2)), frames)
        total = (spectrogram * valid).flatten(1).sum(-1).detach()
        count = (valid.expand_as(spectrogram)).flatten(1).sum(-1).clamp(min=1)
        return total / count
    if isinstance(mask_value, bool) or not isinstance(mask_value, (int, float)):
        raise ParameterError(f"mask_value={mask_value!r} must be a number or 'mean'")
    return float(mask_value)


def _draw_masks(
    batch: int,
    size: torch.Tensor,
    max_width: int,
    num_masks: int,
    max_proportion: float,
    generator: torch.Generator | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, K) starts and widths: width ~ U{0..min(W, p size)}, start ~ U{0..size - width}."""
    draws = torch.rand(batch, num_masks, 2, generator=generator, dtype=torch.float64)
    limit = torch.minimum(
        torch.full_like(size, max_width, dtype=torch.float64), (size * max_proportion).floor()
    )[:, None]
    widths = (draws[..., 0] * (limit + 1)).floor().clamp(max=limit).long()
    room = (size[:, None] - widths).clamp(min=0)
    starts = (draws[..., 1] * (room + 1)).floor().clamp(max=room).long()
    return starts, widths


def _check_mask_args(max_width: int, num_masks: int, max_proportion: float) -> None:
    if isinstance(max_width, bool) or not isinstance(max_width, int) or max_width < 0:
        raise ParameterError(f"max_width={max_width!r} must be an integer >= 0")
    if isinstance(num_masks, bool) or not isinstance(num_masks, int) or num_masks < 0:
        raise ParameterError(f"num_masks={num_masks!r} must be an integer >= 0")
    if not isinstance(max_proportion, (int, float)) or not 0 <= max_proportion <= 1:
        raise ParameterError(f"max_proportion={max_proportion!r} must be in [0, 1]")


def time_mask(
    spectrogram: torch.Tensor,
    *,
    max_width: int,
    num_masks: int = 1,
    max_proportion: float = 1.0,
    lengths: torch.Tensor | None = None,
    mask_value: float | str = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """SpecAugment time masks: per item ``num_masks`` bands of frames, drawn independently.

    Each width is uniform in ``{0, ..., min(max_width, floor(max_proportion N_b))}`` and
    its start uniform over positions that keep the band inside the item's ``N_b`` valid
    frames (padding is never masked, so masks do not depend on the batch's padding).

    Args:
        spectrogram: (B, ..., M, N) (log-)mel spectrogram.
        max_width: largest band ``T`` of the paper, in frames.
        num_masks: bands per item.
        max_proportion: ``p`` of the paper (upper bound on width / N_b).
        lengths: (B,) valid frames per item (default all ``N``).
        mask_value: value written: a number (0 suits mean-normalised features) or "mean",
            each item's mean over its valid frames (suits raw log-mels, where 0 is loud).
        generator: source of randomness.

    Returns:
        (B, ..., M, N) masked copy. Differentiable.

    References:
        Park et al. 2019 (SpecAugment); torchaudio.functional.mask_along_axis_iid.
    """
    spectrogram = check_float_tensor("spectrogram", spectrogram, min_dim=3)
    _check_mask_args(max_width, num_masks, max_proportion)
    _check_generator(generator)
    batch, frames = spectrogram.shape[0], spectrogram.shape[-1]
    if lengths is None:
        size = torch.full((batch,), frames, dtype=torch.long)
    else:
        _length_mask(lengths, spectrogram, "lengths")
        size = lengths.cpu().long()
    value = _fill_value(spectrogram, mask_value, size)
    starts, widths = _draw_masks(batch, size, max_width, num_masks, max_proportion, generator)
    return mask_along_axis(spectrogram, starts=starts, widths=widths, axis=-1, mask_value=value)


def freq_mask(
    spectrogram: torch.Tensor,
    *,
    max_width: int,
    num_masks: int = 1,
    mask_value: float | str = 0.0,
    lengths: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """SpecAugment frequency masks: per item ``num_masks`` bands of mel bins.

    Width uniform in ``{0, ..., min(max_width, M)}`` (``F`` of the paper), start uniform in
    ``{0, ..., M - width}``.

    Args:
        spectrogram: (B, ..., M, N) (log-)mel spectrogram.
        max_width: largest band in bins.
        num_masks: bands per item.
        mask_value: a number or "mean" (as in :func:`time_mask`).
        lengths: (B,) valid frames per item: the bands stop there (padding is kept).
        generator: source of randomness.

    Returns:
        (B, ..., M, N) masked copy. Differentiable.

    References:
        Park et al. 2019 (SpecAugment); torchaudio.functional.mask_along_axis_iid.
    """
    spectrogram = check_float_tensor("spectrogram", spectrogram, min_dim=3)
    _check_mask_args(max_width, num_masks, 1.0)
    _check_generator(generator)
    batch, bins, frames = spectrogram.shape[0], spectrogram.shape[-2], spectrogram.shape[-1]
    if lengths is None:
        valid_frames = torch.full((batch,), frames, dtype=torch.long)
    else:
        _length_mask(lengths, spectrogram, "lengths")
        valid_frames = lengths.cpu().long()
    value = _fill_value(spectrogram, mask_value, valid_frames)
    size = torch.full((batch,), bins, dtype=torch.long)
    starts, widths = _draw_masks(batch, size, max_width, num_masks, 1.0, generator)
    out = mask_along_axis(spectrogram, starts=starts, widths=widths, axis=-2, mask_value=value)
    if lengths is None:
        return out
    padding = torch.arange(frames, device=out.device) >= valid_frames.to(out.device)[:, None]
    padding = padding.reshape(batch, *([1] * (out.dim() - 2)), frames)
    return torch.where(padding, spectrogram, out)


def time_warp(
    spectrogram: torch.Tensor,
    *,
    max_warp: int,
    lengths: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """SpecAugment time warping: move one time point of each item by up to ``max_warp`` frames.

    Per item with ``N_b`` valid frames, a centre ``c`` uniform in ``[W, N_b - W)`` moves to
    ``c + w`` with ``w`` uniform in ``[-W, W]``: output frame ``t`` reads the input at the
    piecewise-linear map ``0 -> 0, c + w -> c, N_b - 1 -> N_b - 1`` (linear interpolation
    between frames). Items with ``N_b <= 2 W + 1`` and all padding are left unchanged.

    Args:
        spectrogram: (B, ..., M, N) (log-)mel spectrogram.
        max_warp: ``W`` of the paper, in frames (0 = identity).
        lengths: (B,) valid frames per item (default all ``N``).
        generator: source of randomness.

    Returns:
        (B, ..., M, N) warped copy. Differentiable in ``spectrogram``.

    References:
        Park et al. 2019 (time warping, W = 80 for LibriSpeech); ESPnet ``time_warp``
        (interpolation instead of TensorFlow's sparse_image_warp).
    """
    spectrogram = check_float_tensor("spectrogram", spectrogram, min_dim=3)
    if isinstance(max_warp, bool) or not isinstance(max_warp, int) or max_warp < 0:
        raise ParameterError(f"max_warp={max_warp!r} must be an integer >= 0")
    _check_generator(generator)
    batch, frames = spectrogram.shape[0], spectrogram.shape[-1]
    if lengths is None:
        size = torch.full((batch,), frames, dtype=torch.long)
    else:
        _length_mask(lengths, spectrogram, "lengths")
        size = lengths.cpu().long()
    draws = torch.rand(batch, 2, generator=generator, dtype=torch.float64)
    active = size > 2 * max_warp + 1
    span = (size - 2 * max_warp).clamp(min=1).to(torch.float64)
    centre = (max_warp + (draws[:, 0] * span).floor()).clamp(max=(size - 1).clamp(min=0))
    shift = ((draws[:, 1] * (2 * max_warp + 1)).floor() - max_warp).where(active, 0.0)
    last = (size - 1).clamp(min=1).to(torch.float64)
    target = torch.minimum((centre + shift).clamp(min=1), last - 1)  # where c lands (B,)
    t = torch.arange(frames, dtype=torch.float64)[None, :]  # (1, N)
    left = t * centre[:, None] / target[:, None]
    right = (
        centre[:, None]
        + (t - target[:, None])
        * (last - centre)[:, None]
        / (last - target).clamp(min=1e-9)[:, None]
    )
    source = torch.where(t <= target[:, None], left, right)
    keep = ~active[:, None] | (t > last[:, None])
    source = torch.where(keep, t, source).clamp(0, frames - 1)  # (B, N)
    source = source.to(dtype=spectrogram.dtype, device=spectrogram.device)
    below = source.floor().long().clamp(max=max(frames - 2, 0))
    frac = source - below
    above = (below + 1).clamp(max=frames - 1)
    view = [batch] + [1] * (spectrogram.dim() - 2) + [frames]
    index_low = below.reshape(view).expand_as(spectrogram)
    index_high = above.reshape(view).expand_as(spectrogram)
    frac = frac.reshape(view)
    low = spectrogram.gather(-1, index_low)
    high = spectrogram.gather(-1, index_high)
    return (1 - frac) * low + frac * high
