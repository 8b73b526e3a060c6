"""Mel scale, mel filterbanks, mel-spectrograms and their (approximate) inversion.

The filterbank is laid out (M, F) like librosa's: ``mel = filterbank @ spectrogram`` for a
(..., F, N) spectrogram. Internally the projection runs frame-major, ``(N, F') @ (F', M)``,
over only the ``F'`` bins where some filter is non-zero.

References:
    Stevens, Volkmann & Newman 1937 (mel scale); Slaney, "Auditory Toolbox", 1998 (slaney
    scale and area normalisation); Young et al., HTK Book (htk scale). Matched to
    librosa 0.11 ``hz_to_mel``, ``mel_to_hz``, ``filters.mel``, ``feature.melspectrogram``.
"""

from __future__ import annotations

import math
import warnings

import torch

from synesthesia.errors import ParameterError
from synesthesia.functional._checks import check_float_tensor, check_positive_int
from synesthesia.functional.spectral import (
    blockwise_frames,
    check_power,
    frame_signal,
    get_window,
    magnitude_power,
    needs_grad,
    resolve_lengths,
    stft_frames,
)

__all__ = [
    "MEL_SCALES",
    "hz_to_mel",
    "mel_to_hz",
    "mel_frequencies",
    "mel_filterbank",
    "mel_spectrogram",
    "log_mel_spectrogram",
    "sharpen_log_mel",
    "inverse_mel",
]

MEL_SCALES = ("slaney", "htk")
_NORMS = ("slaney", None)
_F_SP = 200.0 / 3  # slaney: linear part, Hz per mel
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOG_STEP = math.log(6.4) / 27.0

_FILTER_CACHE: dict[tuple, tuple[torch.Tensor, int, int]] = {}


def hz_to_mel(frequencies: torch.Tensor, *, mel_scale: str = "slaney") -> torch.Tensor:
    """Convert Hz to mels (slaney: linear below 1 kHz, logarithmic above; or htk).

    References:
        librosa.hz_to_mel(frequencies, htk=mel_scale == "htk").
    """
    if mel_scale == "htk":
        return 2595.0 * torch.log10(1.0 + frequencies / 700.0)
    linear = frequencies / _F_SP
    log_part = (
        _MIN_LOG_MEL + torch.log(frequencies.clamp(min=_MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOG_STEP
    )
    return torch.where(frequencies >= _MIN_LOG_HZ, log_part, linear)


def mel_to_hz(mels: torch.Tensor, *, mel_scale: str = "slaney") -> torch.Tensor:
    """Convert mels to Hz (inverse of :func:`hz_to_mel`).

    References:
        librosa.mel_to_hz(mels, htk=mel_scale == "htk").
    """
    if mel_scale == "htk":
        return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    linear = _F_SP * mels
    log_part = _MIN_LOG_HZ * torch.exp(_LOG_STEP * (mels.clamp(min=_MIN_LOG_MEL) - _MIN_LOG_MEL))
    return torch.where(mels >= _MIN_LOG_MEL, log_part, linear)


def mel_frequencies(
    num: int, *, f_min: float, f_max: float, mel_scale: str = "slaney"
) -> torch.Tensor:
    """``num`` frequencies (Hz, float64) uniformly spaced on the mel scale in [f_min, f_max].

    References:
        librosa.mel_frequencies(num, fmin=f_min, fmax=f_max, htk=mel_scale == "htk").
    """
    limits = hz_to_mel(torch.tensor([f_min, f_max], dtype=torch.float64), mel_scale=mel_scale)
    mels = torch.linspace(float(limits[0]), float(limits[1]), num, dtype=torch.float64)
    return mel_to_hz(mels, mel_scale=mel_scale)


def _check_mel_args(
    sample_rate: int, n_fft: int, n_mels: int, f_min: float, f_max: float | None, mel_scale, norm
) -> float:
    check_positive_int("sample_rate", sample_rate)
    check_positive_int("n_fft", n_fft)
    check_positive_int("n_mels", n_mels)
    nyquist = sample_rate / 2
    if isinstance(f_min, bool) or not isinstance(f_min, (int, float)) or not 0 <= f_min:
        raise ParameterError(f"f_min={f_min!r} must be a number >= 0")
    f_max = nyquist if f_max is None else f_max
    if isinstance(f_max, bool) or not isinstance(f_max, (int, float)):
        raise ParameterError(f"f_max={f_max!r} must be a number or None")
    if f_max > nyquist:
        raise ParameterError(
            f"f_max={f_max!r} must be <= the Nyquist frequency sample_rate / 2 = {nyquist}"
        )
    if not f_min < f_max:
        raise ParameterError(f"f_min={f_min!r} must be < f_max={f_max!r}")
    if mel_scale not in MEL_SCALES:
        raise ParameterError(f"mel_scale={mel_scale!r} must be one of {MEL_SCALES}")
    if norm not in _NORMS:
        raise ParameterError(f"norm={norm!r} must be one of {_NORMS}")
    return float(f_max)


def _filterbank64(
    sample_rate: int,
    n_fft: int,
    n_mels: int,
    f_min: float,
    f_max: float,
    mel_scale: str,
    norm: str | None,
    stacklevel: int,
) -> torch.Tensor:
    fft_freqs = torch.arange(n_fft // 2 + 1, dtype=torch.float64) * (sample_rate / n_fft)
    mel_f = mel_frequencies(n_mels + 2, f_min=f_min, f_max=f_max, mel_scale=mel_scale)
    fdiff = mel_f[1:] - mel_f[:-1]
    ramps = mel_f[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = torch.clamp(torch.minimum(lower, upper), min=0.0)
    if norm == "slaney":
        weights = weights * (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, None]
    if not bool(((mel_f[:-2] == 0) | (weights.amax(dim=1) > 0)).all()):
        warnings.warn(
            f"Empty filters detected in the mel filterbank: n_mels={n_mels} is too many for "
            f"n_fft={n_fft} at sample_rate={sample_rate} (f_max={f_max}); some channels will "
            "always be zero. Reduce n_mels or increase n_fft.",
            stacklevel=stacklevel,
        )
    return weights


def _cached_filterbank(
    sample_rate, n_fft, n_mels, f_min, f_max, mel_scale, norm, dtype, device
) -> tuple[torch.Tensor, int, int]:
    """(M, F) filterbank plus the [lo, hi) range of bins where any filter is non-zero."""
    key = (sample_rate, n_fft, n_mels, float(f_min), f_max, mel_scale, norm, dtype, str(device))
    hit = _FILTER_CACHE.get(key)
    if hit is None:
        weights = _filterbank64(sample_rate, n_fft, n_mels, f_min, f_max, mel_scale, norm, 4)
        used = torch.nonzero(weights.amax(dim=0) > 0).flatten()
        lo, hi = (int(used[0]), int(used[-1]) + 1) if used.numel() else (0, 1)
        hit = (weights.to(dtype=dtype, device=device), lo, hi)
        if len(_FILTER_CACHE) > 32:
            _FILTER_CACHE.clear()
        _FILTER_CACHE[key] = hit
    return hit


def mel_filterbank(
    *,
    sample_rate: int,
    n_fft: int,
    n_mels: int = 128,
    f_min: float = 0.0,
    f_max: float | None = None,
    mel_scale: str = "slaney",
    norm: str | None = "slaney",
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Triangular mel filters, laid out (M, F): ``mel = filterbank @ spectrogram``.

    Filter ``m`` rises linearly from mel frequency ``m`` to ``m + 1`` and falls to ``m + 2``
    of ``M + 2`` points evenly spaced on the mel scale in [f_min, f_max]. With
    ``norm="slaney"`` each filter is divided by its width in Hz / 2 (constant energy).
    Computed in float64 and cast. Warns (like librosa) when some filters are empty.

    Args:
        sample_rate: sampling rate in Hz.
        n_fft: FFT size; ``F = n_fft // 2 + 1``.
        n_mels: number of filters ``M``.
        f_min: lowest edge in Hz.
        f_max: highest edge in Hz, ``<= sample_rate / 2`` (default: Nyquist).
        mel_scale: "slaney" or "htk".
        norm: "slaney" or None.
        dtype: result dtype (default ``torch.get_default_dtype()``).
        device: result device.

    Returns:
        (M, F) filterbank (a fresh tensor).

    References:
        librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax, htk, norm, dtype).
    """
    f_max = _check_mel_args(sample_rate, n_fft, n_mels, f_min, f_max, mel_scale, norm)
    dtype = torch.get_default_dtype() if dtype is None else dtype
    weights = _filterbank64(sample_rate, n_fft, n_mels, f_min, f_max, mel_scale, norm, 3)
    return weights.to(dtype=dtype, device=device)


def mel_spectrogram(
    waveform: torch.Tensor,
    *,
    sample_rate: int,
    n_fft: int = 1024,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: str | torch.Tensor = "hann",
    center: bool = True,
    pad_mode: str = "reflect",
    power: float = 2.0,
    n_mels: int = 128,
    f_min: float = 0.0,
    f_max: float | None = None,
    mel_scale: str = "slaney",
    norm: str | None = "slaney",
    filterbank: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mel-spectrogram ``filterbank @ |STFT|^power``.

    Only the bins where a filter is non-zero are squared and projected (the rest would be
    multiplied by zero), and the projection is one frame-major matrix product.

    Args:
        waveform: (..., T) real signal.
        sample_rate: sampling rate in Hz.
        n_fft, hop_length, win_length, window, center, pad_mode: as in
            :func:`~synesthesia.functional.stft`.
        power: exponent of the magnitude (2 = power, 1 = magnitude).
        n_mels, f_min, f_max, mel_scale, norm: as in :func:`mel_filterbank`.
        filterbank: a precomputed (M, F) filterbank to use instead (e.g. a module's buffer);
            the other mel arguments are then ignored.

    Returns:
        (..., M, N) mel-spectrogram (a transposed view of a frame-major buffer).

    References:
        librosa.feature.melspectrogram(y, sr, n_fft, hop_length, win_length, window, center,
        pad_mode, power, n_mels=..., fmin=..., fmax=..., htk=..., norm=...).
    """
    from synesthesia.functional.spectral import _check_waveform

    waveform = _check_waveform(waveform)
    power = check_power(power)
    n_fft, hop_length, win_length = resolve_lengths(n_fft, hop_length, win_length)
    if filterbank is None:
        f_max = _check_mel_args(sample_rate, n_fft, n_mels, f_min, f_max, mel_scale, norm)
        filters, lo, hi = _cached_filterbank(
            sample_rate,
            n_fft,
            n_mels,
            f_min,
            f_max,
            mel_scale,
            norm,
            waveform.dtype,
            waveform.device,
        )
    else:
        filters = check_float_tensor("filterbank", filterbank, min_dim=2)
        if filters.dim() != 2 or filters.shape[1] != n_fft // 2 + 1:
            raise ParameterError(
                f"filterbank with shape {tuple(filters.shape)} must be (M, n_fft // 2 + 1 = "
                f"{n_fft // 2 + 1})"
            )
        filters = filters.to(waveform.dtype)
        lo, hi = 0, filters.shape[1]
        if filters.device.type == "cpu":  # on accelerators, skip the host sync
            used = torch.nonzero(filters.amax(dim=0) > 0).flatten()
            if used.numel():
                lo, hi = int(used[0]), int(used[-1]) + 1
    win = get_window(window, win_length, n_fft=n_fft, dtype=waveform.dtype, device=waveform.device)
    weights = filters[:, lo:hi].T  # (F', M): only the bins some filter uses

    def project(spec: torch.Tensor) -> torch.Tensor:
        return magnitude_power(spec[..., lo:hi], power) @ weights

    if needs_grad(waveform) or needs_grad(filters):
        spec = stft_frames(
            waveform,
            n_fft=n_fft,
            hop_length=hop_length,
            window=win,
            center=center,
            pad_mode=pad_mode,
        )
        return project(spec).transpose(-1, -2)
    frames = frame_signal(
        waveform, n_fft=n_fft, hop_length=hop_length, center=center, pad_mode=pad_mode
    )
    mel = blockwise_frames(frames, win, project, filters.shape[0], waveform.dtype)
    return mel.transpose(-1, -2)


def log_mel_spectrogram(
    waveform: torch.Tensor, *, sample_rate: int, log_floor: float = 1e-5, **mel_kwargs
) -> torch.Tensor:
    """Natural-log mel-spectrogram ``log(max(mel, log_floor))`` (vocoder / TTS features).

    Args:
        waveform: (..., T) real signal.
        sample_rate: sampling rate in Hz.
        log_floor: floor before the log (> 0), ``AudioConfig.log_floor``.
        **mel_kwargs: keyword arguments of :func:`mel_spectrogram` (n_fft, hop_length, ...,
            power).

    Returns:
        (..., M, N) log-mel.

    References:
        Kong et al., "HiFi-GAN", NeurIPS 2020 (``log(clamp(mel, min=1e-5))`` features).
    """
    if isinstance(log_floor, bool) or not isinstance(log_floor, (int, float)) or log_floor <= 0:
        raise ParameterError(f"log_floor={log_floor!r} must be a positive number")
    mel = mel_spectrogram(waveform, sample_rate=sample_rate, **mel_kwargs)
    return torch.clamp(mel, min=log_floor).log()


def sharpen_log_mel(
    mel: torch.Tensor, *, factor: float, floor: float | None = None
) -> torch.Tensor:
    """Post-filter against over-smoothing: widen each band's excursions around its mean.

    ``mean + factor · (mel − mean)`` with the mean of every band over the frames of the
    utterance, in the log domain (a contrast stretch of each band's log energy over time).
    Models trained with an L1/L2 loss on mel frames predict their conditional mean and come
    out flatter than speech (the over-smoothing statistical parametric synthesis compensates
    with a global-variance post-filter, Toda & Tokuda 2007); ``factor > 1`` restores some of
    the lost contrast. ``factor = 1`` returns ``mel`` unchanged.

    Args:
        mel: (..., M, N) natural-log mel of one utterance per row, every frame valid.
        factor: the stretch (> 0).
        floor: lowest value of the result (e.g. ``log(AudioConfig.log_floor)``), None: none.

    Returns:
        (..., M, N) log-mel.

    References:
        Toda & Tokuda, "A Speech Parameter Generation Algorithm Considering Global Variance
        for HMM-Based Speech Synthesis", IEICE Trans. 2007; Silén et al., "Ways to implement
        global variance in statistical speech synthesis", Interspeech 2012.
    """
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not factor > 0:
        raise ParameterError(f"factor={factor!r} must be a positive number")
    if not isinstance(mel, torch.Tensor) or mel.ndim < 2 or mel.shape[-1] == 0:
        shape = tuple(mel.shape) if isinstance(mel, torch.Tensor) else type(mel).__name__
        raise ParameterError(f"mel with shape {shape} must be (..., M, N) with N > 0 frames")
    if factor == 1:
        return mel
    mean = mel.mean(dim=-1, keepdim=True)
    out = mean + factor * (mel - mean)
    return out if floor is None else out.clamp(min=floor)


def inverse_mel(
    mel: torch.Tensor,
    *,
    sample_rate: int,
    n_fft: int,
    f_min: float = 0.0,
    f_max: float | None = None,
    mel_scale: str = "slaney",
    norm: str | None = "slaney",
    power: float = 2.0,
    n_iter: int = 100,
) -> torch.Tensor:
    """Approximate linear magnitude from a mel-spectrogram (non-negative least squares).

    Solves ``min_{S >= 0} ||filterbank @ S - mel||²`` per frame, started from the clamped
    pseudo-inverse ``max(0, pinv(filterbank) @ mel)`` and refined by ``n_iter`` projected
    gradient steps of size ``1 / ||filterbank||₂²`` (a convergent NNLS solver; librosa uses
    L-BFGS-B on the same problem). Returns ``S ** (1 / power)``, i.e. a magnitude
    spectrogram ready for :func:`~synesthesia.functional.griffin_lim`.

    Args:
        mel: (..., M, N) mel-spectrogram made with ``power``.
        sample_rate, n_fft, f_min, f_max, mel_scale, norm: the filterbank it was made with.
        power: exponent used when making ``mel``.
        n_iter: projected-gradient refinements (0 = clamped pseudo-inverse only).

    Returns:
        (..., F, N) non-negative magnitude, same dtype as ``mel``.

    References:
        librosa.feature.inverse.mel_to_stft (NNLS); Lawson & Hanson, "Solving Least Squares
        Problems", 1974.
    """
    mel = check_float_tensor("mel", mel, min_dim=2)
    power = check_power(power)
    if isinstance(n_iter, bool) or not isinstance(n_iter, int) or n_iter < 0:
        raise ParameterError(f"n_iter={n_iter!r} must be a non-negative integer")
    n_mels = mel.shape[-2]
    f_max = _check_mel_args(sample_rate, n_fft, n_mels, f_min, f_max, mel_scale, norm)
    filters, _, _ = _cached_filterbank(
        sample_rate, n_fft, n_mels, f_min, f_max, mel_scale, norm, mel.dtype, mel.device
    )
    pinv = torch.linalg.pinv(filters.to(torch.float64)).to(mel.dtype)  # (F, M)
    spec = (pinv @ mel).clamp_(min=0.0)
    if n_iter:
        gram = filters.T @ filters  # (F, F)
        target = filters.T @ mel  # (..., F, N)
        step = 1.0 / float(torch.linalg.matrix_norm(filters.to(torch.float64), ord=2) ** 2)
        for _ in range(n_iter):
            spec = (spec - step * (gram @ spec - target)).clamp_(min=0.0)
    return spec if power == 1.0 else spec.pow(1.0 / power)
