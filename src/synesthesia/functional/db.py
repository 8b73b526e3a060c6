"""Decibel conversions and mel-frequency cepstral coefficients.

``top_db`` clips each spectrogram to ``top_db`` below its own peak, the peak taken over the
last two axes (one (F, N) or (M, N) spectrogram), so a batch gives the same result as its
items one by one. librosa takes the peak over the whole array, which is the same for a
single spectrogram.

References:
    librosa 0.11 ``power_to_db``, ``amplitude_to_db``, ``db_to_power``, ``db_to_amplitude``
    and ``feature.mfcc`` (DCT-II, orthonormal, of the power_to_db log-mel); Davis &
    Mermelstein, "Comparison of parametric representations for monosyllabic word
    recognition", IEEE TASSP 1980 (MFCC).
"""

from __future__ import annotations

import math

import torch

from synesthesia.errors import ParameterError
from synesthesia.functional._checks import check_float_tensor, check_positive_int
from synesthesia.functional.mel import mel_spectrogram

__all__ = [
    "power_to_db",
    "amplitude_to_db",
    "db_to_power",
    "db_to_amplitude",
    "dct_matrix",
    "mfcc",
]

_DCT_CACHE: dict[tuple, torch.Tensor] = {}


def _check_db_args(ref: float | str, amin: float, top_db: float | None) -> None:
    if isinstance(ref, str):
        if ref != "max":
            raise ParameterError(f"ref={ref!r} must be a positive number or 'max'")
    elif isinstance(ref, bool) or not isinstance(ref, (int, float)) or not ref > 0:
        raise ParameterError(f"ref={ref!r} must be a positive number or 'max'")
    if isinstance(amin, bool) or not isinstance(amin, (int, float)) or not amin > 0:
        raise ParameterError(f"amin={amin!r} must be a positive number")
    if top_db is not None and (
        isinstance(top_db, bool) or not isinstance(top_db, (int, float)) or top_db < 0
    ):
        raise ParameterError(f"top_db={top_db!r} must be a non-negative number or None")


def _peak(x: torch.Tensor) -> torch.Tensor:
    dims = tuple(range(-min(2, x.dim()), 0)) if x.dim() else ()
    return x.amax(dim=dims, keepdim=True) if dims else x


def power_to_db(
    power: torch.Tensor,
    *,
    ref: float | str = 1.0,
    amin: float = 1e-10,
    top_db: float | None = 80.0,
) -> torch.Tensor:
    """``10 log10(max(amin, S)) - 10 log10(max(amin, ref))``, clipped ``top_db`` below the peak.

    The reference is floored by ``amin`` as well, so with ``amin > ref`` (e.g. ``ref=1``,
    ``amin=1e3``) 0 dB sits at ``amin``, as in librosa.

    Peaks are taken per spectrogram: ``ref="max"`` and ``top_db`` use the peak over the last
    two axes (one (F, N) spectrogram), so a batch (B, F, N) or a stereo (C, F, N) input gives
    the same result as each item / channel converted alone. librosa takes the peak over the
    whole array instead, so for a stereo input whose channels peak at different levels our
    quieter channel differs from ``librosa.power_to_db`` on the whole array; it equals
    librosa applied to each channel separately. A 1-D input (F,) uses its own peak.

    Args:
        power: (..., F, N) (or (..., M, N), or (..., F)) non-negative power values.
        ref: reference power (0 dB), or "max" for each spectrogram's own peak (per
            spectrogram, not over the whole array).
        amin: floor before the log (> 0), applied to ``S`` and to ``ref``.
        top_db: dynamic range kept below each spectrogram's peak, per spectrogram (None = no
            clipping).

    Returns:
        dB values, same shape and dtype. Differentiable (sub-gradient at the clips).

    References:
        librosa.power_to_db(S, ref=ref, amin=amin, top_db=top_db) (ref="max" is np.max).
    """
    power = check_float_tensor("power", power, min_dim=0)
    _check_db_args(ref, amin, top_db)
    log_spec = 10.0 * torch.log10(torch.clamp(power, min=amin))
    if ref == "max":
        log_spec = log_spec - 10.0 * torch.log10(torch.clamp(_peak(power), min=amin))
    else:
        # 0 dB at max(amin, ref): not 0 for ref=1 when amin > 1 (librosa floors ref too)
        offset = 10.0 * math.log10(max(amin, float(ref)))
        if offset != 0.0:
            log_spec = log_spec - offset
    if top_db is not None:
        log_spec = torch.maximum(log_spec, _peak(log_spec) - top_db)
    return log_spec


def amplitude_to_db(
    amplitude: torch.Tensor,
    *,
    ref: float | str = 1.0,
    amin: float = 1e-5,
    top_db: float | None = 80.0,
) -> torch.Tensor:
    """``20 log10(max(amin, |S|) / max(amin, ref))`` clipped ``top_db`` below the peak.

    Equals ``power_to_db(S², ref=ref², amin=amin², top_db=top_db)``; the reference is
    floored by ``amin`` too, so 0 dB is at ``max(amin, ref)``, as in librosa.

    Peaks are taken per spectrogram, as in :func:`power_to_db`: ``ref="max"`` and ``top_db``
    use the peak over the last two axes, so a stereo (C, F, N) input equals each channel
    converted alone, where librosa takes the peak over the whole array.

    Args:
        amplitude: (..., F, N) magnitudes.
        ref: reference amplitude (0 dB) or "max" (the peak per spectrogram, not over the
            whole array).
        amin: floor before the log (> 0), applied to ``|S|`` and to ``ref``.
        top_db: dynamic range kept below each spectrogram's peak (None = no clipping).

    Returns:
        dB values, same shape and dtype.

    References:
        librosa.amplitude_to_db(S, ref=ref, amin=amin, top_db=top_db).
    """
    amplitude = check_float_tensor("amplitude", amplitude, min_dim=0)
    _check_db_args(ref, amin, top_db)
    squared_ref = ref if ref == "max" else float(ref) ** 2
    return power_to_db(amplitude.square(), ref=squared_ref, amin=amin**2, top_db=top_db)


def db_to_power(db: torch.Tensor, *, ref: float = 1.0) -> torch.Tensor:
    """``ref * 10^(dB / 10)``, the inverse of :func:`power_to_db` (without clipping).

    References:
        librosa.db_to_power(S_db, ref=ref).
    """
    db = check_float_tensor("db", db, min_dim=0)
    _check_db_args(ref, 1.0, None)
    return float(ref) * torch.pow(10.0, 0.1 * db)


def db_to_amplitude(db: torch.Tensor, *, ref: float = 1.0) -> torch.Tensor:
    """``ref * 10^(dB / 20)``, the inverse of :func:`amplitude_to_db` (without clipping).

    References:
        librosa.db_to_amplitude(S_db, ref=ref).
    """
    db = check_float_tensor("db", db, min_dim=0)
    _check_db_args(ref, 1.0, None)
    return float(ref) * torch.pow(10.0, 0.05 * db)


def dct_matrix(
    n_mfcc: int, n_mels: int, *, dtype: torch.dtype | None = None, device=None
) -> torch.Tensor:
    """Orthonormal DCT-II basis (n_mfcc, M): ``c = D @ x`` transforms along a length-M axis.

    ``D[k, m] = s_k cos(pi k (2m + 1) / (2M))`` with ``s_0 = sqrt(1/M)``, ``s_k = sqrt(2/M)``.

    References:
        scipy.fft.dct(x, type=2, norm="ortho").
    """
    check_positive_int("n_mfcc", n_mfcc)
    check_positive_int("n_mels", n_mels)
    if n_mfcc > n_mels:
        raise ParameterError(f"n_mfcc={n_mfcc} must be <= n_mels={n_mels}")
    dtype = torch.get_default_dtype() if dtype is None else dtype
    key = (n_mfcc, n_mels, dtype, str(torch.device(device or "cpu")))
    hit = _DCT_CACHE.get(key)
    if hit is None:
        k = torch.arange(n_mfcc, dtype=torch.float64)[:, None]
        m = torch.arange(n_mels, dtype=torch.float64)[None, :]
        basis = torch.cos(math.pi * k * (2 * m + 1) / (2 * n_mels)) * math.sqrt(2.0 / n_mels)
        basis[0] /= math.sqrt(2.0)
        hit = basis.to(dtype=dtype, device=device)
        if len(_DCT_CACHE) > 32:
            _DCT_CACHE.clear()
        _DCT_CACHE[key] = hit
    return hit


def mfcc(
    waveform: torch.Tensor,
    *,
    sample_rate: int,
    n_mfcc: int = 20,
    lifter: float = 0.0,
    amin: float = 1e-10,
    top_db: float | None = 80.0,
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
) -> torch.Tensor:
    """Mel-frequency cepstral coefficients: orthonormal DCT-II of the log-mel (dB).

    ``mfcc = D @ power_to_db(mel_spectrogram(waveform), ref=1, amin, top_db)``, keeping the
    first ``n_mfcc`` coefficients, optionally liftered by
    ``1 + (lifter / 2) sin(pi (k + 1) / lifter)``.

    Args:
        waveform: (..., T) real signal.
        sample_rate: sampling rate in Hz.
        n_mfcc: number of coefficients (``<= n_mels``).
        lifter: cepstral liftering coefficient, finite and >= 0 (0 = none).
        amin, top_db: as in :func:`power_to_db` (ref is 1).
        n_fft, hop_length, win_length, window, center, pad_mode, power, n_mels, f_min,
            f_max, mel_scale, norm: as in :func:`~synesthesia.functional.mel_spectrogram`.

    Returns:
        (..., n_mfcc, N) coefficients.

    References:
        librosa.feature.mfcc(y, sr, n_mfcc, dct_type=2, norm="ortho", lifter, **mel args).
    """
    if (
        isinstance(lifter, bool)
        or not isinstance(lifter, (int, float))
        or not math.isfinite(lifter)
        or lifter < 0
    ):
        raise ParameterError(f"lifter={lifter!r} must be a finite non-negative number")
    basis = dct_matrix(n_mfcc, n_mels, dtype=waveform.dtype, device=waveform.device)
    mel = mel_spectrogram(
        waveform,
        sample_rate=sample_rate,
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window,
        center=center,
        pad_mode=pad_mode,
        power=power,
        n_mels=n_mels,
        f_min=f_min,
        f_max=f_max,
        mel_scale=mel_scale,
        norm=norm,
    )
    log_mel = power_to_db(mel, ref=1.0, amin=amin, top_db=top_db)
    coefficients = basis @ log_mel
    if lifter > 0:
        k = torch.arange(1, n_mfcc + 1, dtype=coefficients.dtype, device=coefficients.device)
        coefficients = coefficients * (1 + (lifter / 2) * torch.sin(math.pi * k / lifter))[:, None]
    return coefficients
