"""Vocal tract length perturbation (VTLP): piecewise-linear warping of the frequency axis.

References:
    Jaitly & Hinton, "Vocal Tract Length Perturbation (VTLP) improves speech recognition",
    ICML workshop on deep learning for audio, speech and language, 2013 (eq. 1, f_hi = 4800
    Hz); Kaldi ``VtlnWarpFreq`` (the same piecewise-linear family).
"""

from __future__ import annotations

import math

import torch

from synesthesia.errors import ParameterError
from synesthesia.functional._checks import check_float_tensor, check_positive_int
from synesthesia.functional.augment import _as_tensor, _leading

__all__ = ["vtlp_warp_frequencies", "vtlp", "vtlp_waveform"]


def vtlp_warp_frequencies(
    frequencies: torch.Tensor,
    *,
    warp_factor: float | torch.Tensor,
    sample_rate: int,
    boundary_frequency: float = 4800.0,
) -> torch.Tensor:
    """Jaitly & Hinton's piecewise-linear warp ``f -> f'`` (fixes 0 and Nyquist).

    ``f' = alpha f`` for ``f <= f_hi min(alpha, 1) / alpha``, above that the line to
    ``(fs / 2, fs / 2)``. ``alpha = warp_factor`` (a number or a tensor broadcastable
    against ``frequencies``).

    References:
        Jaitly & Hinton 2013, eq. (1); nlpaug / Kaldi ``VtlnWarpFreq`` (linear variant).
    """
    nyquist = sample_rate / 2
    alpha = torch.as_tensor(warp_factor, dtype=frequencies.dtype, device=frequencies.device)
    knee = boundary_frequency * torch.clamp(alpha, max=1.0) / alpha
    upper = nyquist - (nyquist - boundary_frequency * torch.clamp(alpha, max=1.0)) / (
        nyquist - knee
    ) * (nyquist - frequencies)
    return torch.where(frequencies <= knee, alpha * frequencies, upper)


def vtlp(
    spectrogram: torch.Tensor,
    *,
    warp_factor: float | torch.Tensor,
    sample_rate: int,
    boundary_frequency: float = 4800.0,
) -> torch.Tensor:
    """Vocal tract length perturbation of a linear-frequency (power) spectrogram.

    Output bin at frequency ``f`` takes the input at ``w^-1(f)`` (linear interpolation
    between bins), where ``w`` is :func:`vtlp_warp_frequencies`: a spectral peak (formant,
    harmonic) at ``f`` below the knee moves to ``warp_factor * f``. Apply it before the mel
    projection (it is a linear map of the bins, so also a warp of the mel filterbank).

    Args:
        spectrogram: (..., F, N) real spectrogram, ``F = n_fft // 2 + 1`` bins over
            [0, sample_rate / 2].
        warp_factor: alpha, typically in [0.9, 1.1]: a number or a tensor broadcastable to
            the leading dims (e.g. (B,)).
        sample_rate: in Hz.
        boundary_frequency: ``f_hi`` of the paper (Hz), below Nyquist.

    Returns:
        (..., F, N) warped spectrogram. Differentiable in ``spectrogram``.

    Raises:
        ParameterError: warp_factor <= 0 or NaN, boundary outside (0, Nyquist).

    References:
        Jaitly & Hinton 2013 (ICML workshop on deep learning for audio, speech and language).
    """
    spectrogram = check_float_tensor("spectrogram", spectrogram, min_dim=2)
    alpha, position = _source_positions(
        spectrogram, warp_factor, sample_rate, boundary_frequency
    )  # (..., 1), (..., F)
    num_bins = spectrogram.shape[-2]
    below = position.floor().long().clamp(max=num_bins - 2)
    frac = (position - below)[..., None]
    low = spectrogram.gather(-2, below[..., None].expand(*below.shape, spectrogram.shape[-1]))
    high = spectrogram.gather(
        -2, (below + 1)[..., None].expand(*below.shape, spectrogram.shape[-1])
    )
    return (1 - frac) * low + frac * high


def _source_positions(
    spectrogram: torch.Tensor,
    warp_factor: float | torch.Tensor,
    sample_rate: int,
    boundary_frequency: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Checked alpha (..., 1) and the fractional input bin (..., F) each output bin reads."""
    check_positive_int("sample_rate", sample_rate)
    if not 0 < boundary_frequency < sample_rate / 2:
        raise ParameterError(
            f"boundary_frequency={boundary_frequency!r} must be in (0, {sample_rate / 2})"
        )
    real = spectrogram.real if spectrogram.is_complex() else spectrogram
    alpha = _as_tensor("warp_factor", warp_factor, real)
    if bool((alpha <= 0).any()):
        raise ParameterError(f"warp_factor={alpha.tolist()!r} must be > 0")
    num_bins = spectrogram.shape[-2]
    lead = spectrogram.shape[:-2]
    alpha = _leading(alpha, lead)  # (..., 1)
    freqs = torch.linspace(0, sample_rate / 2, num_bins, dtype=real.dtype, device=real.device)
    # inverse warp: w is piecewise linear and increasing, so invert by swapping the knots
    knots = torch.stack(
        [
            torch.zeros_like(alpha),
            boundary_frequency * torch.clamp(alpha, max=1.0) / alpha,
            torch.full_like(alpha, sample_rate / 2),
        ],
        -1,
    )  # (..., 1, 3) input frequencies
    warped = vtlp_warp_frequencies(
        knots,
        warp_factor=alpha[..., None],
        sample_rate=sample_rate,
        boundary_frequency=boundary_frequency,
    )  # (..., 1, 3) where they land
    source = _interp(
        freqs.expand(*alpha.shape[:-1], num_bins), warped[..., 0, :], knots[..., 0, :]
    )  # (..., F) frequency read for each output bin
    position = (source / (sample_rate / 2) * (num_bins - 1)).clamp(0, num_bins - 1)
    return alpha, position.expand(*lead, num_bins)


def _interp(x: torch.Tensor, xp: torch.Tensor, fp: torch.Tensor) -> torch.Tensor:
    """Piecewise-linear interpolation of (..., K) knots at (..., P) points (xp increasing)."""
    index = torch.searchsorted(xp.contiguous(), x.contiguous()).clamp(1, xp.shape[-1] - 1)
    x0, x1 = xp.gather(-1, index - 1), xp.gather(-1, index)
    y0, y1 = fp.gather(-1, index - 1), fp.gather(-1, index)
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


def vtlp_waveform(
    waveform: torch.Tensor,
    *,
    warp_factor: float | torch.Tensor,
    sample_rate: int,
    boundary_frequency: float = 4800.0,
    n_fft: int = 512,
    hop_length: int | None = None,
) -> torch.Tensor:
    """VTLP applied to a waveform by a phase vocoder on the frequency axis.

    Output bin ``k`` takes the magnitude of :func:`vtlp` (linear interpolation between the
    input bins around ``w^-1(f_k)``) and a phase that advances, frame to frame, at the
    *warped* instantaneous frequency ``w(f_in)`` of the nearest source bin (``f_in`` from
    the measured phase advance, as in a phase vocoder), starting from that bin's phase;
    the result is resynthesised by least-squares ISTFT. A component at ``f`` below the knee
    comes out at ``warp_factor * f`` (duration unchanged). Use it where the model's
    features are computed later from the waveform; on features, use :func:`vtlp`.

    Args:
        waveform: (..., T) real signal.
        warp_factor: alpha (a number, or a tensor broadcastable to the leading dims).
        sample_rate: in Hz.
        boundary_frequency: ``f_hi`` in Hz.
        n_fft: STFT size (Hann window, ``center=True``, zero padding).
        hop_length: STFT hop (default ``n_fft // 4``).

    Returns:
        (..., T) same dtype and device.

    References:
        Jaitly & Hinton 2013; phase vocoder as in librosa.phase_vocoder (Laroche & Dolson
        1999), here reading across bins instead of across frames.
    """
    from synesthesia.functional.spectral import istft, stft

    waveform = check_float_tensor("waveform", waveform)
    hop_length = n_fft // 4 if hop_length is None else hop_length
    kwargs = dict(n_fft=n_fft, hop_length=hop_length, window="hann", center=True)
    spec = stft(waveform, pad_mode="constant", **kwargs)  # (..., F, N)
    alpha, position = _source_positions(spec, warp_factor, sample_rate, boundary_frequency)
    magnitude = vtlp(
        spec.abs(),
        warp_factor=warp_factor,
        sample_rate=sample_rate,
        boundary_frequency=boundary_frequency,
    )
    num_bins, num_frames = spec.shape[-2], spec.shape[-1]
    phase = spec.angle()  # (..., F, N)
    expected = torch.linspace(
        0, math.pi * hop_length, num_bins, dtype=phase.dtype, device=phase.device
    )[:, None]  # 2 pi k hop / n_fft
    delta = phase[..., 1:] - phase[..., :-1] - expected
    delta = delta - 2 * math.pi * torch.round(delta / (2 * math.pi))
    to_hz = sample_rate / (2 * math.pi * hop_length)
    inst_hz = (expected + delta) * to_hz  # (..., F, N - 1) instantaneous frequency
    nearest = position.round().long()[..., None]  # (..., F, 1)
    inst_hz = inst_hz.gather(-2, nearest.expand(*nearest.shape[:-1], num_frames - 1))
    warped_hz = vtlp_warp_frequencies(
        inst_hz,
        warp_factor=alpha[..., None],
        sample_rate=sample_rate,
        boundary_frequency=boundary_frequency,
    )
    start = phase[..., :1].gather(-2, nearest)  # (..., F, 1)
    advance = torch.cumsum(warped_hz / to_hz, dim=-1)
    out_phase = torch.cat([start, start + advance], dim=-1)
    return istft(torch.polar(magnitude, out_phase), length=waveform.shape[-1], **kwargs)
