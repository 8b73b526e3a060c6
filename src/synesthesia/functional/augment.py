"""Data augmentation: noise at a given SNR, synthetic reverberation, VTLP, SpecAugment masks.

Every function is batched over leading dims, keeps the input's dtype and device, and draws
randomness only from an explicit ``torch.Generator`` (on the CPU; the draws are then moved
to the input's device), so the same seed gives the same output on any device. Padded
batches travel with ``*_lengths`` (B,): padding stays zero and is never counted in levels.

Resampling, speed and pitch live in :mod:`synesthesia.functional.resample`, the telephone
channel in :mod:`synesthesia.functional.telephone`, VTLP in :mod:`synesthesia.functional.vtlp`,
SpecAugment in :mod:`synesthesia.functional.specaugment`.

References:
    Ko et al., "A study on data augmentation of reverberant speech for robust speech
    recognition", ICASSP 2017 (noise + simulated RIRs); Schroeder, "New method of measuring
    reverberation time", JASA 1965; torchaudio.functional.add_noise / fftconvolve for
    conventions.
"""

from __future__ import annotations

import torch

from synesthesia.errors import ParameterError
from synesthesia.functional._checks import check_finite, check_float_tensor, check_positive_int
from synesthesia.functional.attention import lengths_to_mask

__all__ = [
    "add_noise",
    "white_noise",
    "pink_noise",
    "babble_noise",
    "fft_convolve",
    "synthetic_rir",
    "reverberate",
]


# -- helpers ---------------------------------------------------------------------------
def _length_mask(lengths: torch.Tensor | None, like: torch.Tensor, name: str) -> torch.Tensor:
    """(B, T) float mask from (B,) lengths for (B, T) ``like`` (all ones when None)."""
    total = like.shape[-1]
    if lengths is None:
        return like.new_ones(like.shape[-1:])
    if not isinstance(lengths, torch.Tensor) or lengths.dim() != 1:
        raise ParameterError(f"{name} must be a 1-D integer tensor (B,), got {lengths!r}")
    if lengths.is_floating_point() or lengths.is_complex() or lengths.dtype == torch.bool:
        raise ParameterError(f"{name} dtype={lengths.dtype} must be an integer dtype")
    if like.dim() < 2 or like.shape[0] != lengths.shape[0]:
        raise ParameterError(
            f"{name} with shape {tuple(lengths.shape)} needs an input (B, ..., T) with "
            f"B={lengths.shape[0]}, got {tuple(like.shape)}"
        )
    if lengths.numel() and (int(lengths.min()) < 0 or int(lengths.max()) > total):
        raise ParameterError(f"{name}={lengths.tolist()} must lie in [0, T={total}]")
    mask = lengths_to_mask(lengths, max_length=total, device=like.device).to(like.dtype)  # (B, T)
    return mask.reshape(mask.shape[0], *([1] * (like.dim() - 2)), total)


def _as_tensor(name: str, value: float | torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        if value.is_complex() or value.dtype == torch.bool:
            raise ParameterError(f"{name} with dtype {value.dtype} must be real")
        value = value.to(dtype=like.dtype, device=like.device)
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParameterError(f"{name}={value!r} must be a number or a tensor")
    else:
        value = torch.tensor(float(value), dtype=like.dtype, device=like.device)
    if not bool(torch.isfinite(value.detach()).all()):
        raise ParameterError(f"{name}={value.tolist()!r} must be finite (no NaN/inf)")
    return value


def _leading(value: torch.Tensor, lead: torch.Size) -> torch.Tensor:
    """Broadcast a scalar or (B,)-like per-item value against the leading dims, plus T."""
    if value.dim() > len(lead):
        raise ParameterError(
            f"per-item value with shape {tuple(value.shape)} has more dims than the leading "
            f"dims {tuple(lead)} of the input"
        )
    value = value.reshape(tuple(value.shape) + (1,) * (len(lead) - value.dim()))
    return value[..., None]


def _check_generator(generator: torch.Generator | None) -> None:
    if generator is not None and not isinstance(generator, torch.Generator):
        raise ParameterError(f"generator={generator!r} must be a torch.Generator or None")


# -- noise -----------------------------------------------------------------------------
def add_noise(
    waveform: torch.Tensor,
    noise: torch.Tensor,
    *,
    snr_db: float | torch.Tensor,
    waveform_lengths: torch.Tensor | None = None,
) -> torch.Tensor:
    """Add ``noise`` scaled so the signal-to-noise ratio is exactly ``snr_db``.

    ``y = x + g n`` with ``g = sqrt(P_x / (P_n 10^(snr_db / 10)))``, where ``P`` is the mean
    square over the valid samples of each item. Silent noise (``P_n = 0``) adds nothing,
    and neither does any noise to a silent item (the SNR is relative to the signal); the
    noise is added only to the valid samples, padding stays as it was.

    Args:
        waveform: (..., T) clean signal, e.g. (B, T).
        noise: (..., T) noise, broadcastable to ``waveform``.
        snr_db: wanted SNR in dB: a number, or a tensor broadcastable to the leading dims,
            e.g. (B,) for one SNR per item.
        waveform_lengths: (B,) valid samples per item of a padded (B, ..., T) batch.

    Returns:
        (..., T) noisy signal. Differentiable in ``waveform``, ``noise`` and ``snr_db``.

    Raises:
        ParameterError: NaN/inf inputs or SNR, shape mismatch, bad lengths.

    References:
        torchaudio.functional.add_noise (same formula, with lengths).
    """
    waveform = check_float_tensor("waveform", waveform)
    noise = check_float_tensor("noise", noise)
    check_finite("waveform", waveform)
    check_finite("noise", noise)
    try:
        noise = noise.expand_as(waveform)
    except RuntimeError:
        raise ParameterError(
            f"noise with shape {tuple(noise.shape)} must broadcast to waveform "
            f"{tuple(waveform.shape)}"
        ) from None
    snr = _leading(_as_tensor("snr_db", snr_db, waveform), waveform.shape[:-1])
    mask = _length_mask(waveform_lengths, waveform, "waveform_lengths")
    count = mask.sum(-1, keepdim=True).clamp(min=1)
    signal_power = (waveform * mask).pow(2).sum(-1, keepdim=True) / count
    noise = noise * mask
    noise_power = noise.pow(2).sum(-1, keepdim=True) / count
    silent = noise_power <= torch.finfo(waveform.dtype).tiny
    ratio = signal_power / torch.where(silent, 1.0, noise_power) * 10 ** (-snr / 10)
    gain = torch.where(silent, 0.0, torch.sqrt(ratio.clamp(min=0)))
    return waveform + gain * noise


def white_noise(
    shape: tuple[int, ...] | torch.Size,
    *,
    generator: torch.Generator | None = None,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Unit-variance Gaussian white noise of ``shape`` (..., T), drawn on the CPU."""
    _check_generator(generator)
    if not shape or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in shape):
        raise ParameterError(f"shape={tuple(shape)!r} must be a non-empty tuple of sizes >= 0")
    dtype = torch.get_default_dtype() if dtype is None else dtype
    return torch.randn(tuple(shape), generator=generator, dtype=dtype).to(device)


def pink_noise(
    shape: tuple[int, ...] | torch.Size,
    *,
    generator: torch.Generator | None = None,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Unit-variance pink (1/f power) noise of ``shape`` (..., T), by spectral shaping.

    White Gaussian noise is shaped in the frequency domain by ``1 / sqrt(k)`` at rFFT bin
    ``k`` (the DC bin is zeroed), so the power density falls 3 dB per octave; each item is
    then scaled to unit variance.

    Returns:
        (..., T) tensor (T >= 2), same randomness as :func:`white_noise` for the same seed.

    References:
        Timmer & König, A&A 1995 (spectral shaping of Gaussian noise); audiomentations.
    """
    white = white_noise(shape, generator=generator, dtype=torch.float64)
    length = white.shape[-1]
    if length < 2:
        raise ParameterError(f"shape={tuple(shape)!r} needs at least T=2 samples for pink noise")
    spectrum = torch.fft.rfft(white)
    bins = torch.arange(spectrum.shape[-1], dtype=torch.float64)
    shaping = torch.where(bins > 0, bins.clamp(min=1).rsqrt(), 0.0)
    pink = torch.fft.irfft(spectrum * shaping, n=length)
    pink = pink - pink.mean(-1, keepdim=True)
    pink = pink / pink.std(-1, keepdim=True).clamp(min=1e-12)
    dtype = torch.get_default_dtype() if dtype is None else dtype
    return pink.to(dtype=dtype, device=device)


def babble_noise(
    bank: torch.Tensor,
    *,
    num_samples: int,
    batch_size: int,
    num_talkers: int = 4,
    bank_lengths: torch.Tensor | None = None,
    exclude: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Babble: each output item is the sum of ``num_talkers`` different clips of ``bank``.

    Clips are drawn without replacement per item (never the clip ``exclude[b]``, e.g. the
    item itself when the bank is the batch), each normalised to unit RMS over its valid
    samples, started at a random offset and repeated cyclically to ``num_samples``.

    Args:
        bank: (K, T_bank) clips (e.g. the utterances of the batch).
        num_samples: length ``T`` of each output item.
        batch_size: number ``B`` of items.
        num_talkers: clips per item; reduced to the clips available (K, or K - 1 with
            ``exclude``), zero noise if none is.
        bank_lengths: (K,) valid samples per clip (all ``T_bank`` by default; each >= 1).
        exclude: (B,) index of a clip item ``b`` must not use (or -1 for none).
        generator: source of randomness.

    Returns:
        (B, T) babble, same dtype and device as ``bank``.

    References:
        Krishnamurthy & Hansen, "Babble noise: modeling, analysis, and applications", 2009.
    """
    bank = check_float_tensor("bank", bank, min_dim=2)
    if bank.dim() != 2:
        raise ParameterError(f"bank with shape {tuple(bank.shape)} must be (K, T_bank)")
    check_finite("bank", bank)
    check_positive_int("num_samples", num_samples)
    check_positive_int("batch_size", batch_size)
    check_positive_int("num_talkers", num_talkers)
    _check_generator(generator)
    num_clips, bank_length = bank.shape
    if bank_lengths is None:
        bank_lengths = torch.full((num_clips,), bank_length, dtype=torch.long)
    mask = _length_mask(bank_lengths, bank, "bank_lengths")
    bank_lengths = bank_lengths.cpu()
    if num_clips and int(bank_lengths.min()) < 1:
        raise ParameterError(f"bank_lengths={bank_lengths.tolist()} must all be >= 1")
    scores = torch.rand(batch_size, num_clips, generator=generator, dtype=torch.float64)
    available = num_clips
    if exclude is not None:
        exclude = exclude.cpu().long()
        if exclude.shape != (batch_size,):
            raise ParameterError(f"exclude with shape {tuple(exclude.shape)} must be (B,)")
        hit = torch.arange(num_clips)[None, :] == exclude[:, None]
        scores = torch.where(hit, 2.0, scores)
        available -= int(bool(hit.any()))  # never more talkers than every item can get
    talkers = min(num_talkers, available)
    offsets = torch.rand(batch_size, max(talkers, 1), generator=generator, dtype=torch.float64)
    if talkers == 0:
        return bank.new_zeros(batch_size, num_samples)
    chosen = scores.argsort(-1)[:, :talkers]  # (B, talkers)
    rms = ((bank * mask).pow(2).sum(-1) / bank_lengths.to(bank)).sqrt().clamp(min=1e-12)
    normalised = bank / rms[:, None]
    lengths = bank_lengths[chosen]  # (B, talkers)
    starts = (offsets[:, :talkers] * lengths).long()
    steps = torch.arange(num_samples)
    index = (starts[..., None] + steps) % lengths[..., None]  # (B, talkers, T)
    clips = normalised[chosen.to(bank.device)]  # (B, talkers, T_bank)
    return clips.gather(-1, index.to(bank.device)).sum(1)


# -- reverberation ---------------------------------------------------------------------
def fft_convolve(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Full linear convolution of (..., T) with (..., L) along the last axis: (..., T + L - 1).

    References:
        scipy.signal.fftconvolve(x, kernel, mode="full", axes=-1).
    """
    size = x.shape[-1] + kernel.shape[-1] - 1
    fast = 1 << (size - 1).bit_length()
    product = torch.fft.rfft(x, n=fast) * torch.fft.rfft(kernel, n=fast)
    return torch.fft.irfft(product, n=fast)[..., :size]


def synthetic_rir(
    *,
    sample_rate: int,
    rt60: float | torch.Tensor,
    duration: float | None = None,
    direct_to_reverberant_db: float | torch.Tensor = 0.0,
    predelay: float = 0.002,
    generator: torch.Generator | None = None,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Room impulse responses: a unit direct path, then exponentially decaying noise.

    ``h[0] = 1`` (the direct path); from ``predelay`` on, ``h[t] = a e(t) 10^(-3 t / (rt60 fs))``
    with ``e`` white Gaussian noise, so the energy decays by 60 dB in ``rt60`` seconds, and
    ``a`` set so that direct energy / tail energy = ``direct_to_reverberant_db``.

    Args:
        sample_rate: in Hz.
        rt60: reverberation time in seconds (> 0): a number or a (B,) tensor.
        duration: RIR length in seconds (default ``max(rt60)``: the tail reaches -60 dB).
        direct_to_reverberant_db: DRR in dB, a number or (B,) tensor.
        predelay: seconds between the direct path and the tail (>= 0).
        generator: source of randomness.
        dtype, device: of the result.

    Returns:
        (L,) RIR for scalar settings, else (B, L); ``L = round(duration * sample_rate)``.

    Raises:
        ParameterError: non-positive or NaN rt60/duration, bad sample_rate.

    References:
        Ko et al. 2017 (simulated RIRs); Schroeder 1965 (the decay the tests measure).
    """
    check_positive_int("sample_rate", sample_rate)
    _check_generator(generator)
    dtype = torch.get_default_dtype() if dtype is None else dtype
    probe = torch.zeros((), dtype=torch.float64)
    rt60 = _as_tensor("rt60", rt60, probe)
    drr = _as_tensor("direct_to_reverberant_db", direct_to_reverberant_db, probe)
    if bool((rt60 <= 0).any()):
        raise ParameterError(f"rt60={rt60.tolist()!r} must be > 0 seconds")
    if isinstance(predelay, bool) or not isinstance(predelay, (int, float)) or predelay < 0:
        raise ParameterError(f"predelay={predelay!r} must be a number >= 0 seconds")
    if duration is None:
        duration = float(rt60.max())
    if isinstance(duration, bool) or not isinstance(duration, (int, float)) or duration <= 0:
        raise ParameterError(f"duration={duration!r} must be a number > 0 seconds")
    length = max(2, round(duration * sample_rate))
    batched = rt60.dim() > 0 or drr.dim() > 0
    rt60, drr = torch.broadcast_tensors(rt60.reshape(-1), drr.reshape(-1))
    noise = torch.randn(rt60.shape[0], length, generator=generator, dtype=torch.float64)
    t = torch.arange(length, dtype=torch.float64) / sample_rate
    start = min(length - 1, max(1, round(predelay * sample_rate)))
    envelope = 10 ** (-3 * t[None, :] / rt60[:, None])
    tail = noise * envelope
    tail[:, :start] = 0
    energy = tail.pow(2).sum(-1, keepdim=True)
    tail = tail * torch.sqrt(10 ** (-drr[:, None] / 10) / energy)
    tail[:, 0] = 1.0
    rir = tail if batched else tail[0]
    return rir.to(dtype=dtype, device=device)


def reverberate(
    waveform: torch.Tensor,
    rir: torch.Tensor,
    *,
    waveform_lengths: torch.Tensor | None = None,
    align: bool = False,
) -> torch.Tensor:
    """Convolve (..., T) with room impulse responses, keeping ``T`` samples (no delay).

    The output is the first ``T`` samples of the full convolution: the RIR's sample 0 lines
    up with the input's sample 0. The RIR is used as given, so with :func:`synthetic_rir`
    (``h[0] = 1``) the dry (direct-path) signal passes at its own level and the tail adds
    energy. With ``align=True`` each RIR is first shifted so its largest tap (the direct
    path of a measured RIR) is at sample 0 and divided by that tap's magnitude.

    Args:
        waveform: (..., T) dry signal.
        rir: (..., L) impulse responses broadcastable to the leading dims, e.g. (L,) or (B, L).
        waveform_lengths: (B,) valid samples: the tail beyond an item's end is cut (zeroed),
            exactly as reverberating the unpadded item alone.
        align: move and scale the peak as described.

    Returns:
        (..., T) wet signal. Differentiable in ``waveform`` and ``rir``.

    References:
        torchaudio.functional.fftconvolve; scipy.signal.fftconvolve (mode="full")[..., :T].
    """
    waveform = check_float_tensor("waveform", waveform)
    rir = check_float_tensor("rir", rir)
    check_finite("waveform", waveform)
    check_finite("rir", rir)
    if align:
        peak = rir.abs().argmax(-1, keepdim=True)  # (..., 1)
        steps = torch.arange(rir.shape[-1], device=rir.device)
        index = steps + peak
        shifted = rir.gather(-1, index.clamp(max=rir.shape[-1] - 1))
        rir = torch.where(index < rir.shape[-1], shifted, 0.0) / rir.gather(-1, peak).abs()
    rir = rir.to(waveform.dtype)
    mask = _length_mask(waveform_lengths, waveform, "waveform_lengths")
    wet = fft_convolve(waveform * mask, rir)[..., : waveform.shape[-1]]
    return wet * mask
