"""Band-limited resampling, speed perturbation, phase-vocoder time stretch and pitch shift.

All functions work on (..., T) waveforms, batched over the leading dims, in the input's
dtype and on its device. :func:`resample` and :func:`speed_perturb` are differentiable with
respect to the waveform (a strided convolution with a fixed windowed-sinc kernel bank).

References:
    J. O. Smith, "Digital Audio Resampling Home Page" (bandlimited interpolation); the
    polyphase windowed-sinc kernel of torchaudio.functional.resample (sinc_interp_hann /
    sinc_interp_kaiser); Flanagan & Golden 1966 and Laroche & Dolson 1999 (phase vocoder),
    matched to librosa 0.11 ``phase_vocoder`` / ``effects.time_stretch`` /
    ``effects.pitch_shift``; Ko et al., "Audio augmentation for speech recognition",
    Interspeech 2015 (speed perturbation).
"""

from __future__ import annotations

import math
from fractions import Fraction

import torch
import torch.nn.functional as F

from synesthesia.errors import ParameterError
from synesthesia.functional._checks import check_finite, check_float_tensor, check_positive_int

__all__ = ["resample", "speed_perturb", "time_stretch", "pitch_shift", "RESAMPLING_WINDOWS"]

#: interpolation windows accepted by :func:`resample`
RESAMPLING_WINDOWS = ("hann", "kaiser")
#: speed factors are rounded to the nearest fraction with this largest denominator
MAX_DENOMINATOR = 100

_KERNEL_CACHE: dict[tuple, tuple[torch.Tensor, int]] = {}


def _check_real(name: str, value: object, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ParameterError(f"{name}={value!r} must be a finite real number")
    if positive and value <= 0:
        raise ParameterError(f"{name}={value!r} must be > 0")
    return float(value)


def _sinc_kernel(
    orig: int,
    new: int,
    lowpass_filter_width: int,
    rolloff: float,
    window: str,
    beta: float,
    dtype: torch.dtype,
    device: torch.device,
) -> tuple[torch.Tensor, int]:
    """(new, 1, 2 width + orig) polyphase kernel bank and ``width`` (computed in float64)."""
    key = (orig, new, lowpass_filter_width, rolloff, window, beta, dtype, str(device))
    cached = _KERNEL_CACHE.get(key)
    if cached is not None:
        return cached
    base_freq = min(orig, new) * rolloff
    width = math.ceil(lowpass_filter_width * orig / base_freq)
    idx = torch.arange(-width, width + orig, dtype=torch.float64) / orig
    t = torch.arange(0, -new, -1, dtype=torch.float64)[:, None] / new + idx[None, :]
    t = (t * base_freq).clamp(-lowpass_filter_width, lowpass_filter_width)
    if window == "hann":
        win = torch.cos(t * math.pi / lowpass_filter_width / 2) ** 2
    else:
        ratio = (t / lowpass_filter_width).clamp(-1, 1)
        win = torch.special.i0(beta * torch.sqrt(1 - ratio**2)) / torch.special.i0(
            torch.tensor(beta, dtype=torch.float64)
        )
    t = t * math.pi
    sinc = torch.where(t == 0, torch.ones_like(t), torch.sin(t) / torch.where(t == 0, 1.0, t))
    kernels = (sinc * win * (base_freq / orig))[:, None, :].to(dtype=dtype, device=device)
    if len(_KERNEL_CACHE) > 64:
        _KERNEL_CACHE.clear()
    _KERNEL_CACHE[key] = (kernels, width)
    return kernels, width


def resample(
    waveform: torch.Tensor,
    *,
    orig_sample_rate: int,
    new_sample_rate: int,
    lowpass_filter_width: int = 6,
    rolloff: float = 0.99,
    window: str = "hann",
    beta: float = 14.769656459379492,
) -> torch.Tensor:
    """Band-limited resampling by a rational ratio with a polyphase windowed-sinc filter.

    The ratio is reduced by the gcd to ``new / orig``; output sample ``j`` interpolates the
    input at time ``j orig / new`` with a sinc of cutoff ``rolloff * min(orig, new) / 2``
    (in units of the reduced rates) truncated to ``lowpass_filter_width`` zero crossings and
    tapered by a Hann or Kaiser window. Beyond the ends the input is taken as zero.

    Args:
        waveform: (..., T) real signal.
        orig_sample_rate: its rate in Hz (positive integer).
        new_sample_rate: wanted rate in Hz (positive integer).
        lowpass_filter_width: zero crossings of the sinc on each side (sharper, slower).
        rolloff: cutoff as a fraction of the lower Nyquist rate, in (0, 1].
        window: "hann" or "kaiser".
        beta: Kaiser shape (only for ``window="kaiser"``; 14.77 gives ~-100 dB sidelobes).

    Returns:
        (..., T') with ``T' = ceil(T new / orig)``, same dtype and device. Differentiable.

    Raises:
        ParameterError: non-positive rates or width, rolloff outside (0, 1], unknown window,
            NaN/inf input.

    References:
        torchaudio.functional.resample (same kernel, sinc_interp_hann / sinc_interp_kaiser);
        checked against analytic band-limited tones and scipy.signal.resample_poly.
    """
    waveform = check_float_tensor("waveform", waveform)
    check_finite("waveform", waveform)
    orig = check_positive_int("orig_sample_rate", orig_sample_rate)
    new = check_positive_int("new_sample_rate", new_sample_rate)
    check_positive_int("lowpass_filter_width", lowpass_filter_width)
    rolloff = _check_real("rolloff", rolloff, positive=True)
    if rolloff > 1:
        raise ParameterError(f"rolloff={rolloff!r} must be in (0, 1]")
    if window not in RESAMPLING_WINDOWS:
        raise ParameterError(f"window={window!r} must be one of {RESAMPLING_WINDOWS}")
    beta = _check_real("beta", beta)
    if orig == new:
        return waveform
    gcd = math.gcd(orig, new)
    orig, new = orig // gcd, new // gcd
    kernels, width = _sinc_kernel(
        orig,
        new,
        lowpass_filter_width,
        rolloff,
        window,
        beta,
        waveform.dtype,
        waveform.device,
    )
    lead, length = waveform.shape[:-1], waveform.shape[-1]
    if length == 0 or waveform.numel() == 0:
        return waveform.new_zeros(*lead, -(-new * length // orig))
    flat = F.pad(waveform.reshape(-1, 1, length), (width, width + orig))
    out = F.conv1d(flat, kernels, stride=orig)  # (B', new, frames)
    out = out.transpose(1, 2).reshape(flat.shape[0], -1)  # (B', frames * new)
    target = -(-new * length // orig)
    return out[:, :target].reshape(*lead, target)


def speed_factor_fraction(factor: float) -> Fraction:
    """``factor`` as the nearest fraction with denominator <= 100 (ParameterError if <= 0)."""
    factor = _check_real("factor", factor, positive=True)
    fraction = Fraction(factor).limit_denominator(MAX_DENOMINATOR)
    if fraction <= 0:
        raise ParameterError(f"factor={factor!r} is too small (rounds to 0)")
    return fraction


def speed_perturb(
    waveform: torch.Tensor, *, factor: float, lowpass_filter_width: int = 6
) -> torch.Tensor:
    """Play (..., T) ``factor`` times faster: duration / factor, every frequency x factor.

    Implemented as :func:`resample` from ``factor`` to 1 (the rates of Kaldi's / ESPnet's
    speed perturbation), with ``factor`` rounded to the nearest fraction ``p / q`` with
    ``q <= 100`` (0.9, 1.1, 0.95 ... are exact).

    Args:
        waveform: (..., T) real signal.
        factor: speed factor > 0 (> 1 faster and higher, < 1 slower and lower).
        lowpass_filter_width: as in :func:`resample`.

    Returns:
        (..., T') with ``T' = ceil(T q / p)`` (``= ceil(T / factor)`` for an exact factor).
        Differentiable.

    Raises:
        ParameterError: ``factor`` not a finite number > 0.

    References:
        Ko et al., Interspeech 2015; torchaudio.transforms.SpeedPerturbation.
    """
    fraction = speed_factor_fraction(factor)
    return resample(
        waveform,
        orig_sample_rate=fraction.numerator,
        new_sample_rate=fraction.denominator,
        lowpass_filter_width=lowpass_filter_width,
    )


def time_stretch(
    waveform: torch.Tensor,
    *,
    rate: float,
    n_fft: int = 512,
    hop_length: int | None = None,
) -> torch.Tensor:
    """Change the duration of (..., T) by ``1 / rate`` keeping its pitch (phase vocoder).

    The STFT columns are read at fractional times ``0, rate, 2 rate, ...``: magnitudes are
    interpolated linearly between neighbouring frames, and the phase is accumulated from the
    measured per-bin phase advance (the expected advance ``2 pi k hop / n_fft`` plus the
    deviation wrapped to (-pi, pi]), then resynthesised by :func:`istft`.

    Args:
        waveform: (..., T) real signal.
        rate: speed-up > 0 (2 = half as long).
        n_fft: FFT size of the analysis.
        hop_length: hop (default ``n_fft // 4``).

    Returns:
        (..., round(T / rate)) real signal.

    Raises:
        ParameterError: ``rate`` not a finite number > 0, bad STFT settings.

    References:
        librosa.effects.time_stretch / librosa.phase_vocoder (same algorithm, librosa 0.11).
    """
    from synesthesia.functional.spectral import istft, stft

    rate = _check_real("rate", rate, positive=True)
    waveform = check_float_tensor("waveform", waveform)
    hop_length = n_fft // 4 if hop_length is None else hop_length
    spec = stft(
        waveform,
        n_fft=n_fft,
        hop_length=hop_length,
        window="hann",
        center=True,
        pad_mode="constant",
    )  # (..., F, N)
    num_frames = spec.shape[-1]
    steps = torch.arange(0, num_frames, rate, dtype=torch.float64, device=spec.device)
    spec = F.pad(spec, (0, 2))  # two zero frames after the end, as librosa
    left = steps.floor().long()
    alpha = (steps - left).to(waveform.dtype)
    first, second = spec[..., left], spec[..., left + 1]  # (..., F, N')
    magnitude = (1 - alpha) * first.abs() + alpha * second.abs()
    num_bins = spec.shape[-2]
    expected = torch.linspace(
        0, math.pi * hop_length, num_bins, dtype=waveform.dtype, device=spec.device
    )[:, None]
    delta = second.angle() - first.angle() - expected
    delta = delta - 2 * math.pi * torch.round(delta / (2 * math.pi))
    increments = (expected + delta)[..., :-1]
    phase = spec[..., :1].angle() + F.pad(torch.cumsum(increments, dim=-1), (1, 0))
    stretched = torch.polar(magnitude, phase)
    length = round(waveform.shape[-1] / rate)
    return istft(stretched, n_fft=n_fft, hop_length=hop_length, window="hann", length=length)


def pitch_shift(
    waveform: torch.Tensor,
    *,
    sample_rate: int,
    semitones: float,
    n_fft: int = 512,
    hop_length: int | None = None,
) -> torch.Tensor:
    """Raise the pitch of (..., T) by ``semitones`` keeping its duration.

    Time-stretch by ``rate = 2^(-semitones / 12)`` with :func:`time_stretch`, then
    :func:`speed_perturb` by ``1 / rate`` (duration back to ``T``, every frequency times
    ``2^(semitones / 12)``); the result is cut or zero-padded to exactly ``T`` samples.

    Args:
        waveform: (..., T) real signal.
        sample_rate: its rate in Hz (kept; only checked).
        semitones: shift in equal-tempered semitones (negative = down), |semitones| <= 24.
        n_fft: phase-vocoder FFT size (512 at 16 kHz = 32 ms).
        hop_length: phase-vocoder hop (default ``n_fft // 4``).

    Returns:
        (..., T) real signal, same dtype and device.

    Raises:
        ParameterError: ``semitones`` NaN/inf or beyond two octaves, bad ``sample_rate``.

    References:
        librosa.effects.pitch_shift(y, sr=sample_rate, n_steps=semitones) (same recipe).
    """
    check_positive_int("sample_rate", sample_rate)
    semitones = _check_real("semitones", semitones)
    if abs(semitones) > 24:
        raise ParameterError(f"semitones={semitones!r} must be within [-24, 24]")
    length = waveform.shape[-1] if isinstance(waveform, torch.Tensor) else 0
    if semitones == 0:
        return check_float_tensor("waveform", waveform)
    rate = 2.0 ** (-semitones / 12)
    stretched = time_stretch(waveform, rate=rate, n_fft=n_fft, hop_length=hop_length)
    shifted = speed_perturb(stretched, factor=1 / rate)
    if shifted.shape[-1] >= length:
        return shifted[..., :length]
    return F.pad(shifted, (0, length - shifted.shape[-1]))
