"""Reading and writing audio files: soundfile to read/write, soxr to resample.

References:
    libsndfile via python-soundfile; soxr (SoX resampler, "HQ" band-limited quality), the
    resampler librosa uses by default.
"""

from __future__ import annotations

import logging
import os
import struct
import warnings
from pathlib import Path

import numpy as np
import torch

from synesthesia.errors import ParameterError
from synesthesia.utils import atomic_path

__all__ = ["load_audio", "save_audio", "resample"]

log = logging.getLogger(__name__)


def _check_rate(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ParameterError(f"{name}={value!r} must be a positive integer (Hz)")
    return int(value)


def resample(
    waveform: torch.Tensor, *, orig_sample_rate: int, target_sample_rate: int
) -> torch.Tensor:
    """Band-limited resampling of (..., T) with soxr "HQ" (runs on the CPU, returns same device).

    Args:
        waveform: (..., T) real signal.
        orig_sample_rate: its sampling rate in Hz.
        target_sample_rate: the wanted rate in Hz.

    Returns:
        (..., T') with ``T' = ceil(T * target / orig)``, same dtype (float32/float64).

    References:
        soxr.resample(x, in_rate, out_rate, quality="HQ").
    """
    import soxr

    orig = _check_rate("orig_sample_rate", orig_sample_rate)
    target = _check_rate("target_sample_rate", target_sample_rate)
    if orig == target:
        return waveform
    lead, length = waveform.shape[:-1], waveform.shape[-1]
    array = waveform.detach().cpu().reshape(-1, length).numpy()
    dtype = array.dtype if array.dtype in (np.float32, np.float64) else np.float32
    out = soxr.resample(np.ascontiguousarray(array.T, dtype=dtype), orig, target, quality="HQ")
    out = torch.from_numpy(np.ascontiguousarray(out.T)).reshape(*lead, -1)
    return out.to(waveform.device)


#: WAV format tags whose block_align is one frame (PCM, IEEE float, A-law, mu-law, extensible)
_FRAME_ALIGNED_FORMATS = frozenset({0x0001, 0x0003, 0x0006, 0x0007, 0xFFFE})


def _truncated_wav(path: Path) -> tuple[int, int] | None:
    """``(declared, present)`` frames of a RIFF/RIFX WAVE file cut off inside its data chunk.

    Reads the chunk headers only. None when the file is not such a WAV, is complete, or has a
    data size meaning "unknown" (0 or 0xFFFFFFFF, left by writers that stream to a pipe).
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(12)
            if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
                return None
            order = "<" if head[:4] == b"RIFF" else ">"
            size = os.fstat(handle.fileno()).st_size
            frame_bytes = None
            position = 12
            while position + 8 <= size:
                handle.seek(position)
                chunk_id, chunk_size = struct.unpack(f"{order}4sI", handle.read(8))
                if chunk_id == b"fmt " and chunk_size >= 14:
                    tag, _, _, _, block_align = struct.unpack(f"{order}HHIIH", handle.read(14))
                    frame_bytes = block_align if tag in _FRAME_ALIGNED_FORMATS else None
                elif chunk_id == b"data":
                    present = size - position - 8
                    if not frame_bytes or chunk_size in (0, 0xFFFFFFFF) or present >= chunk_size:
                        return None
                    return chunk_size // frame_bytes, present // frame_bytes
                position += 8 + chunk_size + (chunk_size & 1)
    except OSError:
        return None
    return None


def load_audio(
    path: str | os.PathLike, *, sample_rate: int | None = None, mono: bool = True
) -> tuple[torch.Tensor, int]:
    """Read an audio file as float32 in [-1, 1].

    Args:
        path: a file libsndfile can read (WAV, FLAC, OGG, AIFF, ...).
        sample_rate: resample to this rate (soxr "HQ"); None keeps the file's rate.
        mono: average the channels and return (T,); else (C, T).

    Returns:
        ``(waveform, sample_rate)``: (T,) or (C, T) float32 tensor and its rate in Hz.

    Raises:
        ParameterError: the path is missing or not a file, the file is corrupt, empty, or
            holds NaN/inf samples, or ``sample_rate`` is not a positive integer.

    Warns:
        UserWarning: a WAV file cut off inside its data chunk (its header declares more
            frames than the file holds); the frames present are returned.
    """
    import soundfile as sf

    if sample_rate is not None:
        sample_rate = _check_rate("sample_rate", sample_rate)
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"path={str(path)!r} does not exist or is not a file")
    try:
        data, file_rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError, TypeError, ValueError) as exc:
        raise ParameterError(f"path={str(path)!r} is not a readable audio file: {exc}") from None
    if data.shape[0] == 0:
        raise ParameterError(f"path={str(path)!r} holds no audio samples (empty file)")
    truncated = _truncated_wav(path)
    if truncated is not None:
        declared, present = truncated
        warnings.warn(
            f"path={str(path)!r} is truncated: its WAV header declares {declared} frames but "
            f"the file holds {present}; reading the {data.shape[0]} frames present",
            stacklevel=2,
        )
    if not np.isfinite(data).all():
        raise ParameterError(f"path={str(path)!r} contains NaN or infinite samples")
    waveform = torch.from_numpy(np.ascontiguousarray(data.T))  # (C, T)
    if mono:
        waveform = waveform.mean(dim=0)
    if sample_rate is not None and sample_rate != file_rate:
        log.debug("resampling %s from %d Hz to %d Hz", path, file_rate, sample_rate)
        waveform = resample(waveform, orig_sample_rate=file_rate, target_sample_rate=sample_rate)
        file_rate = sample_rate
    return waveform, int(file_rate)


def save_audio(
    path: str | os.PathLike,
    waveform: torch.Tensor | np.ndarray,
    sample_rate: int,
    *,
    subtype: str | None = None,
) -> Path:
    """Write (T,) or (C, T) audio atomically (format from the file extension).

    Integer formats (the default for WAV is 16-bit PCM) are clipped to [-1, 1], with a
    warning when samples were clipped.

    Args:
        path: destination; the parent folder is created.
        waveform: (T,) or (C, T) real samples, nominally in [-1, 1].
        sample_rate: rate in Hz.
        subtype: libsndfile subtype ("PCM_16", "PCM_24", "FLOAT", ...); default per format.

    Returns:
        The path written.

    Raises:
        ParameterError: bad shape, NaN/inf samples, bad rate, or an unsupported format.
    """
    import soundfile as sf

    sample_rate = _check_rate("sample_rate", sample_rate)
    if isinstance(waveform, torch.Tensor):
        array = waveform.detach().cpu().numpy()
    else:
        array = np.asarray(waveform)
    if array.ndim not in (1, 2) or array.shape[-1] == 0:
        raise ParameterError(
            f"waveform with shape {tuple(array.shape)} must be (T,) or (C, T) with T > 0"
        )
    if not np.issubdtype(array.dtype, np.floating):
        raise ParameterError(f"waveform with dtype {array.dtype} must be floating point")
    if not np.isfinite(array).all():
        raise ParameterError("waveform contains NaN or infinite values; it must be finite")
    path = Path(path)
    fmt = path.suffix.lstrip(".").upper()
    if fmt not in sf.available_formats():
        raise ParameterError(
            f"path={str(path)!r} has an unsupported extension; use one of "
            f"{sorted(k.lower() for k in sf.available_formats())}"
        )
    subtype = subtype or sf.default_subtype(fmt)
    data = array.T if array.ndim == 2 else array
    if subtype and ("PCM" in subtype or subtype in ("ULAW", "ALAW")):
        peak = float(np.abs(data).max())
        if peak > 1.0:
            warnings.warn(
                f"waveform peaks at {peak:.3g}; clipping to [-1, 1] for {subtype}", stacklevel=2
            )
            data = np.clip(data, -1.0, 1.0)
    with atomic_path(path) as tmp:
        try:
            sf.write(str(tmp), data, sample_rate, subtype=subtype, format=fmt)
        except (RuntimeError, sf.LibsndfileError, TypeError, ValueError) as exc:
            raise ParameterError(f"cannot write path={str(path)!r}: {exc}") from None
    return path
