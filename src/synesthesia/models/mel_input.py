"""Checks of mel-spectrogram inputs shared by vocoders.

A vocoder fed a mel made with another analysis does not crash; it produces robotic audio. So
every vocoder validates its input with :func:`check_mel` before generating.
"""

from __future__ import annotations

import warnings

import torch

from synesthesia.config import AudioConfig
from synesthesia.errors import ParameterError

__all__ = ["check_mel"]


def check_mel(
    mel: torch.Tensor,
    audio_config: AudioConfig,
    *,
    mel_lengths: torch.Tensor | None = None,
    mel_audio_config: AudioConfig | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Refuse a mel-spectrogram a vocoder trained with ``audio_config`` cannot render.

    A mismatched mel does not crash a vocoder; it yields robotic audio. So this checks: a
    float tensor (B, M, N) (or (M, N), batched to B = 1), ``M == audio_config.n_mels``,
    ``N > 0``, lengths in ``[1, N]``, finite values in every valid frame, and (when
    ``mel_audio_config`` is given) the same AudioConfig. A mel with no negative value warns:
    vocoders take log-mels, so it is probably a linear magnitude.

    Args:
        mel: (B, M, N) or (M, N) log-mel-spectrogram.
        audio_config: the configuration the vocoder was trained with.
        mel_lengths: (B,) valid frames per row (default: all N).
        mel_audio_config: the configuration the mel was computed with, when known.

    Returns:
        ``(mel (B, M, N), mel_lengths (B,))``.

    Raises:
        ParameterError: wrong type, shape, bin count, length or non-finite frames.
        ConfigMismatchError: ``mel_audio_config`` differs from ``audio_config``.
    """
    if mel_audio_config is not None:
        audio_config.check_compatible(mel_audio_config, what="mel")
    if not isinstance(mel, torch.Tensor):
        raise ParameterError(f"mel must be a torch.Tensor (B, M, N), got {type(mel).__name__}")
    if mel.dim() == 2:
        mel = mel.unsqueeze(0)
    if mel.dim() != 3 or not mel.is_floating_point():
        raise ParameterError(
            f"mel with shape {tuple(mel.shape)} and dtype {mel.dtype} must be a float tensor "
            "(B, M, N)"
        )
    batch, bins, frames = mel.shape
    if bins != audio_config.n_mels:
        raise ParameterError(
            f"mel has {bins} mel bins (shape {tuple(mel.shape)}) but the vocoder expects "
            f"n_mels={audio_config.n_mels}; was it made with another AudioConfig?"
        )
    if batch == 0 or frames == 0:
        raise ParameterError(f"mel with shape {tuple(mel.shape)} is empty; it needs >= 1 frame")
    if mel_lengths is None:
        mel_lengths = torch.full((batch,), frames, dtype=torch.long, device=mel.device)
    else:
        if not isinstance(mel_lengths, torch.Tensor) or mel_lengths.shape != (batch,):
            raise ParameterError(f"mel_lengths={mel_lengths!r} must be a LongTensor of shape (B,)")
        if mel_lengths.is_floating_point():
            raise ParameterError(f"mel_lengths dtype {mel_lengths.dtype} must be an integer type")
        if bool((mel_lengths < 1).any()) or bool((mel_lengths > frames).any()):
            raise ParameterError(
                f"mel_lengths={mel_lengths.tolist()} must lie in [1, N={frames}] "
                "(a zero-length mel has nothing to vocode)"
            )
        mel_lengths = mel_lengths.to(device=mel.device, dtype=torch.long)
    valid = torch.arange(frames, device=mel.device) < mel_lengths.unsqueeze(1)  # (B, N)
    finite = torch.isfinite(mel).all(dim=1)  # (B, N)
    bad = valid & ~finite
    if bool(bad.any()):
        row, frame = (int(i) for i in bad.nonzero()[0])
        count = int(bad.sum())
        raise ParameterError(
            f"mel has {count} frame(s) with NaN or infinite values (first: row {row}, "
            f"frame {frame}); every valid frame must be finite"
        )
    if not bool((mel.masked_fill(~valid.unsqueeze(1), 0.0) < 0).any()):
        warnings.warn(
            "mel has no negative values; WaveNet expects a log-mel (log of the magnitude), "
            "this looks like a linear mel-spectrogram",
            stacklevel=2,
        )
    return mel, mel_lengths
