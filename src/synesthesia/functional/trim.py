"""Leading and trailing silence: where the sound in a clip starts and ends.

A frame is silent when its RMS (centred frames, zero padding) is more than ``top_db`` below
the loudest frame of its own clip; the clip's sound runs from the first non-silent frame's
start to the last one's end, as ``librosa.effects.trim`` computes it. Batched over leading
dims, and over padded batches with ``waveform_lengths`` (frames past a clip's end never count).

References:
    librosa 0.11 ``effects.trim`` (``feature.rms`` with ``center=True``, ``pad_mode="constant"``;
    ``amplitude_to_db`` with ``amin=1e-5`` and ``ref=np.max``).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from synesthesia.errors import ParameterError
from synesthesia.functional._checks import check_float_tensor, check_positive_int

__all__ = ["frame_rms", "trim_bounds", "trim_silence"]

_AMIN = 1e-5


def frame_rms(waveform: Tensor, *, frame_length: int = 2048, hop_length: int = 512) -> Tensor:
    """RMS of centred, zero-padded frames: (..., T) → (..., N), ``N = 1 + (T - r) // hop_length``
    with ``r = frame_length % 2`` (``1 + T // hop_length`` for even frames).

    References:
        librosa ``feature.rms(y, frame_length, hop_length, center=True, pad_mode="constant")``.
    """
    check_float_tensor("waveform", waveform)
    check_positive_int("frame_length", frame_length)
    check_positive_int("hop_length", hop_length)
    half = frame_length // 2
    padded = torch.nn.functional.pad(waveform.unsqueeze(-2), (half, half)).squeeze(-2)
    frames = padded.unfold(-1, frame_length, hop_length)  # (..., N, frame_length)
    return frames.square().mean(dim=-1).sqrt()


def trim_bounds(
    waveform: Tensor,
    *,
    top_db: float = 60.0,
    frame_length: int = 2048,
    hop_length: int = 512,
    waveform_lengths: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """First and one-past-last sample of the sound in each clip.

    Args:
        waveform: clips (..., T); with ``waveform_lengths``, a padded batch (B, T).
        top_db: frames more than this many dB below the clip's loudest frame are silent.
        frame_length: samples per RMS frame.
        hop_length: samples between frames.
        waveform_lengths: valid samples per clip (B,), or ``None`` (all T).

    Returns:
        ``(start, end)``, each (...,) long: ``waveform[..., start:end]`` is the trimmed clip.
        Every frame of a clip that is silent throughout is as loud as its loudest, so the
        whole clip is kept, as librosa does; only an empty clip gives ``start = end = 0``.
    """
    check_float_tensor("waveform", waveform)
    if isinstance(top_db, bool) or not isinstance(top_db, (int, float)) or not top_db > 0:
        raise ParameterError(f"top_db={top_db!r} must be a positive number")
    if not math.isfinite(top_db):
        raise ParameterError(f"top_db={top_db!r} must be finite")
    rms = frame_rms(waveform, frame_length=frame_length, hop_length=hop_length)  # (..., N)
    num_frames = rms.shape[-1]
    frame_index = torch.arange(num_frames, device=waveform.device)
    if waveform_lengths is None:
        lengths = torch.full(waveform.shape[:-1], waveform.shape[-1], device=waveform.device)
    else:
        if waveform.dim() != 2 or waveform_lengths.shape != waveform.shape[:1]:
            raise ParameterError(
                f"waveform_lengths of shape {tuple(waveform_lengths.shape)} must be (B,) "
                f"for a padded batch (B, T); got waveform {tuple(waveform.shape)}"
            )
        lengths = waveform_lengths.to(device=waveform.device, dtype=torch.long)
        if lengths.numel() and (int(lengths.min()) < 0 or int(lengths.max()) > waveform.shape[-1]):
            raise ParameterError(
                f"waveform_lengths={lengths.tolist()} must lie in [0, {waveform.shape[-1]}]"
            )
    remainder = frame_length % 2
    valid_frames = 1 + (lengths - remainder).clamp(min=0) // hop_length  # (...,)
    inside = frame_index < valid_frames.unsqueeze(-1)
    db = 20.0 * torch.log10(rms.clamp(min=_AMIN))
    peak = db.masked_fill(~inside, -math.inf).amax(dim=-1, keepdim=True)
    loud = (db - peak > -top_db) & inside
    any_loud = loud.any(dim=-1)
    first = torch.where(loud, frame_index, num_frames).amin(dim=-1)
    last = torch.where(loud, frame_index, -1).amax(dim=-1)
    start = torch.where(any_loud, first * hop_length, 0)
    end = torch.where(any_loud, torch.minimum((last + 1) * hop_length, lengths), 0)
    return start.long(), end.long()


def trim_silence(
    waveform: Tensor,
    waveform_lengths: Tensor | None = None,
    *,
    top_db: float = 60.0,
    frame_length: int = 2048,
    hop_length: int = 512,
) -> tuple[Tensor, Tensor]:
    """Shift each clip's sound to the start of its row: (B, T) → ((B, T), lengths (B,)).

    Samples after the new length are zero. A clip that is silent throughout is kept whole.

    Args:
        waveform: a padded batch (B, T) or one clip (T,).
        waveform_lengths: valid samples per clip (B,), or ``None``.
        top_db, frame_length, hop_length: as in :func:`trim_bounds`.
    """
    single = waveform.dim() == 1
    batch = waveform.unsqueeze(0) if single else waveform
    if batch.dim() != 2:
        raise ParameterError(f"waveform of shape {tuple(waveform.shape)} must be (T,) or (B, T)")
    if waveform_lengths is None:
        waveform_lengths = torch.full((batch.shape[0],), batch.shape[-1], dtype=torch.long)
    start, end = trim_bounds(
        batch,
        top_db=top_db,
        frame_length=frame_length,
        hop_length=hop_length,
        waveform_lengths=waveform_lengths,
    )
    lengths = waveform_lengths.to(device=batch.device, dtype=torch.long)
    silent = end <= start
    start = torch.where(silent, 0, start)
    end = torch.where(silent, lengths, end)
    new_lengths = end - start
    index = torch.arange(batch.shape[-1], device=batch.device)
    source = (start.unsqueeze(1) + index).clamp(max=batch.shape[-1] - 1)
    out = batch.gather(-1, source) * (index < new_lengths.unsqueeze(1)).to(batch.dtype)
    return (out[0], new_lengths[0]) if single else (out, new_lengths)
