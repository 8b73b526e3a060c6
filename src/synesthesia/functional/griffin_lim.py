"""Phase reconstruction: (fast) Griffin-Lim, and the spectral convergence measure.

References:
    Griffin & Lim, "Signal estimation from modified short-time Fourier transform", IEEE
    TASSP 1984; Perraudin, Balazs & Søndergaard, "A fast Griffin-Lim algorithm", WASPAA 2013
    (momentum); matched step for step to librosa 0.11 ``griffinlim``.
"""

from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F

from synesthesia.errors import ParameterError
from synesthesia.functional._checks import check_finite, check_float_tensor, check_positive_int
from synesthesia.functional.spectral import (
    _check_pad_mode,
    block_size,
    frame_blocks,
    get_window,
    inverse_window_envelope,
    resolve_lengths,
    warn_if_frames_leave_gaps,
)

__all__ = ["griffin_lim", "spectral_convergence"]


def _initial_phase(
    init: str | torch.Tensor,
    shape: torch.Size,
    *,
    dtype: torch.dtype,
    device: torch.device,
    seed: int | None,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """Unit-modulus complex (..., N, F) start, frame-major."""
    if isinstance(init, torch.Tensor):
        expected = (*shape[:-2], shape[-1], shape[-2])
        if tuple(init.shape) != expected or init.is_complex():
            raise ParameterError(
                f"init with shape {tuple(init.shape)} must be a real tensor of phases (radians) "
                f"shaped like the magnitude {expected}"
            )
        phase = init.to(dtype=dtype, device=device).transpose(-1, -2)
    elif init == "random":
        if generator is None:
            generator = torch.Generator(device=device)
            if seed is not None:
                generator.manual_seed(seed)
            else:
                generator.seed()
        phase = torch.rand(shape, generator=generator, dtype=dtype, device=device)
        phase.mul_(2 * math.pi)
    elif init == "zeros":
        return torch.ones(shape, dtype=dtype, device=device).to(_complex_of(dtype))
    else:
        raise ParameterError(f"init={init!r} must be 'random', 'zeros' or a tensor of phases")
    return torch.polar(torch.ones_like(phase), phase).contiguous()


def _complex_of(dtype: torch.dtype) -> torch.dtype:
    return torch.complex128 if dtype == torch.float64 else torch.complex64


@torch.no_grad()
def griffin_lim(
    magnitude: torch.Tensor,
    *,
    n_iter: int = 32,
    momentum: float = 0.99,
    init: str | torch.Tensor = "random",
    seed: int | None = None,
    generator: torch.Generator | None = None,
    n_fft: int | None = None,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: str | torch.Tensor = "hann",
    center: bool = True,
    pad_mode: str = "reflect",
    length: int | None = None,
) -> torch.Tensor:
    """Estimate a waveform whose STFT magnitude is ``magnitude`` (fast Griffin-Lim).

    Each iteration inverts ``S e^{i phi}``, re-analyses it and takes the new phase, with
    Perraudin's momentum ``a = momentum / (1 + momentum)``:
    ``phi <- angle(X_t - a X_{t-1})`` (plain Griffin-Lim for ``momentum=0``). Same update
    order, initialisation and final inversion as librosa, so with the same initial phases
    the results agree to rounding. All buffers (spectra, frames, signal, envelope) are
    allocated once and reused in place; frames stay frame-major so every FFT is contiguous.

    Not differentiable (runs under ``torch.no_grad``).

    Args:
        magnitude: (..., F, N) non-negative STFT magnitude (power 1).
        n_iter: number of iterations (>= 1).
        momentum: momentum (>= 0; librosa's default 0.99; > 1 warns, may be unstable).
        init: "random" (uniform phases, seeded by ``seed``/``generator``), "zeros" (zero
            phase, librosa's ``init=None``) or a real tensor (..., F, N) of phases in radians.
        seed: seed of the random initial phase (ignored with ``generator``).
        generator: torch generator for the random initial phase.
        n_fft: FFT size (default ``2 (F - 1)``).
        hop_length, win_length, window, center, pad_mode: as in
            :func:`~synesthesia.functional.stft` (``hop_length > win_length`` warns, as
            istft does: samples no window covers come out 0).
        length: output length ``T``; its STFT must have the same ``N`` frames
            (``N = 1 + (T + 2 (n_fft // 2) - n_fft) // hop_length`` when ``center``).

    Returns:
        (..., T) waveform. By default ``T`` is istft's length,
        ``n_fft + hop_length (N - 1) - 2 (n_fft // 2)`` when ``center`` (``hop_length (N - 1)``,
        plus one for an odd ``n_fft``), else ``n_fft + hop_length (N - 1)``.

    References:
        librosa.griffinlim(S, n_iter, hop_length, win_length, n_fft, window, center,
        length, pad_mode, momentum, init, random_state); Perraudin et al. 2013.
    """
    magnitude = check_float_tensor("magnitude", magnitude, min_dim=2)
    check_finite("magnitude", magnitude)
    check_positive_int("n_iter", n_iter)
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or momentum < 0:
        raise ParameterError(f"momentum={momentum!r} must be a number >= 0")
    if momentum > 1:
        warnings.warn(f"momentum={momentum} > 1 can make Griffin-Lim unstable", stacklevel=3)
    num_bins, num_frames = magnitude.shape[-2], magnitude.shape[-1]
    n_fft = 2 * (num_bins - 1) if n_fft is None else n_fft
    n_fft, hop_length, win_length = resolve_lengths(n_fft, hop_length, win_length)
    if n_fft // 2 + 1 != num_bins:
        raise ParameterError(
            f"n_fft={n_fft} gives {n_fft // 2 + 1} bins but magnitude has F={num_bins}"
        )
    _check_pad_mode(pad_mode)
    warn_if_frames_leave_gaps(hop_length, win_length, stacklevel=4)  # 4: under no_grad
    pad = n_fft // 2 if center else 0
    # istft's length: n_fft + hop (N - 1) less the 2 (n_fft // 2) centring samples, so one
    # more than hop (N - 1) for an odd n_fft (as librosa.istft)
    default_length = hop_length * (num_frames - 1) + n_fft - 2 * pad
    length = default_length if length is None else check_positive_int("length", length)
    # frames the re-analysis (stft of the padded signal) gives; for an odd n_fft with
    # centring that is 1 + (T - 1) // hop_length, not 1 + T // hop_length
    frames_of_length = 1 + (length + 2 * pad - n_fft) // hop_length
    if frames_of_length != num_frames:
        raise ParameterError(
            f"length={length} gives {frames_of_length} frames but magnitude has N={num_frames}"
        )
    if center and pad_mode == "reflect" and pad >= length:
        raise ParameterError(
            f"length={length} is too short for pad_mode='reflect' with n_fft={n_fft}"
        )

    dtype, device = magnitude.dtype, magnitude.device
    lead = magnitude.shape[:-2]
    items = math.prod(lead)
    window_t = get_window(window, win_length, n_fft=n_fft, dtype=dtype, device=device)
    # frame-major (B, N, F) state; every iteration works block by block over the frames so
    # that a block's frames, spectrum and phase update stay in cache
    target = magnitude.reshape(items, num_bins, num_frames).transpose(-1, -2).contiguous()
    shape = target.shape
    angles = _initial_phase(
        init,
        torch.Size((*lead, num_frames, num_bins)),
        dtype=dtype,
        device=device,
        seed=seed,
        generator=generator,
    ).reshape(shape)
    angles.mul_(target)  # absorb the magnitude, as librosa does
    angles_parts = torch.view_as_real(angles)
    blocks = frame_blocks(num_frames, items)
    previous: list[torch.Tensor] = [angles] * len(blocks)  # X_{t-1} per block (set at t=0)
    frames_scratch = torch.empty(*block_size(blocks), n_fft, dtype=dtype, device=device)

    # overlap-add geometry: frame column c lands in row n + c // hop, column c % hop
    parts = -(-n_fft // hop_length)
    ola = torch.empty(items, num_frames + parts - 1, hop_length, dtype=dtype, device=device)
    ola_flat = ola.view(items, -1)
    inverse_env = inverse_window_envelope(window_t, num_frames=num_frames, hop_length=hop_length)
    inverse_env = F.pad(inverse_env, (0, ola_flat.shape[-1] - inverse_env.shape[-1]))
    tiny = torch.finfo(dtype).tiny
    factor = momentum / (1.0 + momentum)

    # With centring, the re-analysis pads the trimmed signal by n_fft // 2 each side. For
    # "reflect"/"constant" that padding is written in place around the signal inside the
    # overlap-add buffer (no copy of the signal), when the buffer is long enough.
    pad_in_place = (
        center and pad_mode in ("reflect", "constant") and (length + 2 * pad <= ola_flat.shape[-1])
    )

    def overlap(spec: torch.Tensor) -> None:
        # irfft -> window -> overlap-add -> / window envelope, into `ola`; the window
        # multiply is fused into the overlap-add (one addcmul per hop-wide slab)
        ola.zero_()
        for item, frame in blocks:
            frames = torch.fft.irfft(spec[item, frame], n=n_fft, dim=-1)
            for r in range(parts):
                lo, hi = r * hop_length, min((r + 1) * hop_length, n_fft)
                ola[item, frame.start + r : frame.stop + r, : hi - lo].addcmul_(
                    frames[..., lo:hi], window_t[lo:hi]
                )
        ola_flat.mul_(inverse_env)

    def synthesise(spec: torch.Tensor) -> torch.Tensor:
        # the estimate trimmed to `length`
        overlap(spec)
        signal = ola_flat[:, pad : pad + length]
        if signal.shape[-1] < length:
            signal = F.pad(signal, (0, length - signal.shape[-1]))
        return signal

    for iteration in range(n_iter):
        if pad_in_place:
            overlap(angles)
            right = pad + length
            if pad_mode == "reflect":
                ola_flat[:, :pad] = ola_flat[:, pad + 1 : 2 * pad + 1].flip(-1)
                ola_flat[:, right : right + pad] = ola_flat[:, length - 1 : right - 1].flip(-1)
            else:
                ola_flat[:, :pad] = 0.0
                ola_flat[:, right : right + pad] = 0.0
            padded = ola_flat[:, : length + 2 * pad]
        elif center:
            signal = synthesise(angles)
            padded = signal.reshape(items, 1, length)
            padded = (
                F.pad(padded, (pad, pad))
                if pad_mode == "constant"
                else F.pad(padded, (pad, pad), mode=pad_mode)
            ).reshape(items, length + 2 * pad)
        else:
            padded = synthesise(angles).contiguous()
        all_frames = padded.unfold(-1, n_fft, hop_length)  # (B, N, n_fft) view
        for index, (item, frame) in enumerate(blocks):
            block = frames_scratch[: item.stop - item.start, : frame.stop - frame.start]
            torch.mul(all_frames[item, frame], window_t, out=block)
            rebuilt = torch.fft.rfft(block, dim=-1)
            new = angles_parts[item, frame]
            if iteration == 0:
                new.copy_(torch.view_as_real(rebuilt))
            else:  # X_t - a X_{t-1}, on the real views (a complex subtract is slower)
                torch.sub(
                    torch.view_as_real(rebuilt),
                    torch.view_as_real(previous[index]),
                    alpha=factor,
                    out=new,
                )
            previous[index] = rebuilt  # keep the block's spectrum itself: no copy
            # angles *= S / |angles| in real arithmetic (a complex abs is a slow hypot);
            # |angles|² is floored at tiny so that silent bins stay 0
            real, imag = new[..., 0], new[..., 1]
            scale = real * real
            scale.addcmul_(imag, imag).clamp_(min=tiny).rsqrt_().mul_(target[item, frame])
            angles[item, frame].mul_(scale)  # complex *= real: far faster than a
            # broadcast over the (re, im) axis of length 2
    del previous
    return synthesise(angles).reshape(*lead, length).clone()


def spectral_convergence(
    reference_magnitude: torch.Tensor, estimate_magnitude: torch.Tensor
) -> torch.Tensor:
    """Spectral convergence ``||S_ref - S_est||_F / ||S_ref||_F`` per spectrogram.

    Args:
        reference_magnitude: (..., F, N) reference STFT magnitude.
        estimate_magnitude: (..., F, N) magnitude of the estimate (same shape).

    Returns:
        (...) non-negative values (0 = identical magnitudes), reduced over the last two axes.

    References:
        Sturmel & Daudet, "Signal reconstruction from STFT magnitude: a state of the art",
        DAFx 2011; Arık et al., "Fast spectrogram inversion using multi-head CNNs", 2018.
    """
    reference = check_float_tensor("reference_magnitude", reference_magnitude, min_dim=2)
    estimate = check_float_tensor("estimate_magnitude", estimate_magnitude, min_dim=2)
    if reference.shape != estimate.shape:
        raise ParameterError(
            f"estimate_magnitude with shape {tuple(estimate.shape)} must match "
            f"reference_magnitude {tuple(reference.shape)}"
        )
    num = torch.linalg.vector_norm(reference - estimate, dim=(-2, -1))
    den = torch.linalg.vector_norm(reference, dim=(-2, -1))
    return num / den.clamp(min=torch.finfo(den.dtype).tiny)
