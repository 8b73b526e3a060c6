"""Short-time Fourier analysis and synthesis: windows, stft, istft, power spectra.

Layout: a waveform is (..., T); its STFT is complex (..., F, N) with ``F = n_fft // 2 + 1``
bins and ``N = 1 + (T + 2 (n_fft // 2) - n_fft) // hop_length`` frames when ``center=True``
(``1 + T // hop_length`` for an even ``n_fft``, ``1 + (T - 1) // hop_length`` for an odd one),
else ``1 + (T - n_fft) // hop_length``. ``hop_length`` may exceed ``win_length``. Internally
frames are kept frame-major (..., N, F), the order the FFT produces them, and returned as a
transposed view, like ``torch.stft``.

References:
    Allen & Rabiner, "A unified approach to short-time Fourier analysis and synthesis",
    Proc. IEEE 1977; Griffin & Lim 1984 (least-squares ISTFT); behaviour matched to
    librosa 0.11 ``stft`` / ``istft`` (window padding, centring, window-sum-square
    normalisation, ``length`` handling).
"""

from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F

from synesthesia.errors import ParameterError
from synesthesia.functional._checks import check_finite, check_float_tensor, check_positive_int

__all__ = [
    "WINDOWS",
    "PAD_MODES",
    "get_window",
    "stft",
    "istft",
    "power_spectrum",
    "spectrogram",
]

#: window names accepted everywhere (periodic windows, as librosa's ``fftbins=True``)
WINDOWS = ("hann", "hamming", "blackman", "rectangular")
#: padding modes for ``center=True`` (``torch.nn.functional.pad`` names)
PAD_MODES = ("constant", "reflect", "replicate", "circular")

_WINDOW_CACHE: dict[tuple, torch.Tensor] = {}


# -- argument handling ---------------------------------------------------------------------
def resolve_lengths(
    n_fft: int, hop_length: int | None, win_length: int | None
) -> tuple[int, int, int]:
    """Validate ``n_fft``, ``hop_length`` and ``win_length`` and fill librosa's defaults.

    ``win_length`` defaults to ``n_fft`` and ``hop_length`` to ``win_length // 4``.
    Rules: all positive integers; ``win_length <= n_fft``. ``hop_length`` may exceed
    ``win_length`` (and ``n_fft``), as in librosa (its core-stft-005/006 fixtures use
    ``n_fft=128, hop_length=256``): the analysis then skips samples, and :func:`istft` warns
    that those cannot be reconstructed.
    """
    check_positive_int("n_fft", n_fft)
    win_length = n_fft if win_length is None else check_positive_int("win_length", win_length)
    if win_length > n_fft:
        raise ParameterError(f"win_length={win_length} must be <= n_fft={n_fft}")
    hop_length = max(1, win_length // 4) if hop_length is None else hop_length
    check_positive_int("hop_length", hop_length)
    return n_fft, hop_length, win_length


def warn_if_frames_leave_gaps(hop_length: int, win_length: int, *, stacklevel: int = 3) -> None:
    """Warn when ``hop_length > win_length``: synthesis cannot rebuild the uncovered samples."""
    if hop_length > win_length:
        warnings.warn(
            f"hop_length={hop_length} > win_length={win_length}: the windows leave gaps; "
            "samples no window covers cannot be reconstructed and are 0 (as in librosa)",
            stacklevel=stacklevel,
        )


def _check_pad_mode(pad_mode: str) -> None:
    if pad_mode not in PAD_MODES:
        raise ParameterError(f"pad_mode={pad_mode!r} must be one of {PAD_MODES}")


def get_window(
    window: str | torch.Tensor,
    win_length: int,
    *,
    n_fft: int | None = None,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """A periodic analysis window of ``win_length`` samples, zero-padded to ``n_fft``.

    The window is centred in the ``n_fft`` frame: ``(n_fft - win_length) // 2`` zeros on the
    left and the rest on the right, as ``librosa.util.pad_center`` does.

    Args:
        window: a name from :data:`WINDOWS` or a 1-D tensor of ``win_length`` samples.
        win_length: window length ``<= n_fft``.
        n_fft: frame length (default ``win_length``).
        dtype: floating dtype (default ``torch.get_default_dtype()``).
        device: device of the result.

    Returns:
        (n_fft,) window. Cached per settings/device/dtype: treat it as read-only.

    References:
        scipy.signal.get_window(name, win_length, fftbins=True); librosa.filters.get_window.
    """
    n_fft = win_length if n_fft is None else n_fft
    dtype = torch.get_default_dtype() if dtype is None else dtype
    if isinstance(window, torch.Tensor):
        if window.dim() != 1 or window.shape[0] not in (win_length, n_fft):
            raise ParameterError(
                f"window with shape {tuple(window.shape)} must be 1-D with win_length="
                f"{win_length} or n_fft={n_fft} samples"
            )
        base = window.to(dtype=dtype, device=device)
    else:
        key = (window, win_length, n_fft, dtype, str(torch.device(device or "cpu")))
        cached = _WINDOW_CACHE.get(key)
        if cached is not None:
            return cached
        if window not in WINDOWS:
            raise ParameterError(f"window={window!r} must be one of {WINDOWS} or a tensor")
        # computed in float64 (as scipy does), then cast
        n = torch.arange(win_length, dtype=torch.float64)
        phase = 2 * math.pi * n / win_length
        if window == "hann":
            base = 0.5 - 0.5 * torch.cos(phase)
        elif window == "hamming":
            base = 0.54 - 0.46 * torch.cos(phase)
        elif window == "blackman":
            base = 0.42 - 0.5 * torch.cos(phase) + 0.08 * torch.cos(2 * phase)
        else:
            base = torch.ones(win_length, dtype=torch.float64)
        base = base.to(dtype=dtype, device=device)
    if base.shape[0] < n_fft:
        left = (n_fft - base.shape[0]) // 2
        base = F.pad(base, (left, n_fft - base.shape[0] - left))
    if not isinstance(window, torch.Tensor):
        if len(_WINDOW_CACHE) > 64:
            _WINDOW_CACHE.clear()
        _WINDOW_CACHE[key] = base
    return base


def _check_waveform(waveform: torch.Tensor, name: str = "waveform") -> torch.Tensor:
    waveform = check_float_tensor(name, waveform)
    check_finite(name, waveform)
    return waveform


def _pad_center(waveform: torch.Tensor, pad: int, pad_mode: str) -> torch.Tensor:
    """Pad ``pad`` samples on both sides of (..., T).

    "constant" and "reflect" are built with one copy of the signal plus two small edge
    writes (torch's reflection-pad kernel was several times slower than a copy on long
    signals); the other modes use ``torch.nn.functional.pad``. Differentiable either way.
    """
    length = waveform.shape[-1]
    if pad_mode in ("constant", "reflect") and pad < length:
        out = waveform.new_empty(*waveform.shape[:-1], length + 2 * pad)
        out[..., pad : pad + length] = waveform
        if pad_mode == "constant":
            out[..., :pad] = 0
            out[..., pad + length :] = 0
        else:  # x[pad], ..., x[1] | x | x[T-2], ..., x[T-1-pad]
            out[..., :pad] = waveform[..., 1 : pad + 1].flip(-1)
            out[..., pad + length :] = waveform[..., length - 1 - pad : length - 1].flip(-1)
        return out
    flat = waveform.reshape(-1, 1, length)
    if pad_mode == "constant":
        padded = F.pad(flat, (pad, pad))
    else:
        padded = F.pad(flat, (pad, pad), mode=pad_mode)
    return padded.reshape(*waveform.shape[:-1], length + 2 * pad)


def frame_signal(
    waveform: torch.Tensor, *, n_fft: int, hop_length: int, center: bool, pad_mode: str
) -> torch.Tensor:
    """Pad (if ``center``) and cut (..., T) into overlapping frames (..., N, n_fft) (a view)."""
    _check_pad_mode(pad_mode)
    length = waveform.shape[-1]
    if center:
        pad = n_fft // 2
        if pad_mode == "reflect" and pad >= length:
            raise ParameterError(
                f"waveform with T={length} samples is too short for pad_mode='reflect' with "
                f"n_fft={n_fft} (needs T > n_fft // 2 = {pad})"
            )
        waveform = _pad_center(waveform, pad, pad_mode)
    if waveform.shape[-1] < n_fft:
        raise ParameterError(
            f"n_fft={n_fft} is larger than the (padded) signal of {waveform.shape[-1]} samples"
        )
    return waveform.unfold(-1, n_fft, hop_length)


#: frames (summed over leading items) per block in the blockwise paths: a block of frames,
#: its spectrum and what is derived from it stay in the CPU's L2 cache
BLOCK_FRAMES = 256


def frame_blocks(num_frames: int, num_items: int) -> list[tuple[slice, slice]]:
    """(items, frames) index pairs covering (B, N) in blocks of about ``BLOCK_FRAMES`` frames.

    Long signals are cut per item into runs of ``BLOCK_FRAMES`` consecutive frames (one
    contiguous stretch of memory each); items of ``BLOCK_FRAMES`` to ``2 * BLOCK_FRAMES - 1``
    frames are one block each (not a full block plus a small remainder: 16 × 4 s at hop 256,
    345 frames each, took 5.7 ms that way and 4.9 ms this way); short ones are grouped several
    items to a block.
    """
    if BLOCK_FRAMES <= num_frames < 2 * BLOCK_FRAMES:
        return [(slice(b, b + 1), slice(0, num_frames)) for b in range(num_items)]
    if num_frames >= BLOCK_FRAMES:
        return [
            (slice(b, b + 1), slice(n, min(n + BLOCK_FRAMES, num_frames)))
            for b in range(num_items)
            for n in range(0, num_frames, BLOCK_FRAMES)
        ]
    per_block = max(1, BLOCK_FRAMES // max(1, num_frames))
    return [
        (slice(b, min(b + per_block, num_items)), slice(0, num_frames))
        for b in range(0, num_items, per_block)
    ]


def block_size(blocks: list[tuple[slice, slice]]) -> tuple[int, int]:
    """Largest (items, frames) extent of the blocks."""
    return (
        max(b.stop - b.start for b, _ in blocks),
        max(f.stop - f.start for _, f in blocks),
    )


def needs_grad(x: torch.Tensor) -> bool:
    """True when autograd will record operations on ``x``."""
    return torch.is_grad_enabled() and x.requires_grad


def blockwise_frames(
    frames: torch.Tensor, window: torch.Tensor, fn, out_width: int, out_dtype: torch.dtype
) -> torch.Tensor:
    """Apply ``fn(rfft(window * block))`` to blocks of frames (..., N, n_fft) -> (..., N, W).

    The windowed block and its spectrum are small enough to stay in cache, and the full
    (..., N, F) complex STFT is never written out unless ``fn`` is the identity. Used only
    when no gradient is needed (the plain path is the autograd path; tests check both agree).
    """
    lead, (num_frames, n_fft) = frames.shape[:-2], frames.shape[-2:]
    flat = frames.reshape(-1, num_frames, n_fft)
    items = flat.shape[0]
    blocks = frame_blocks(num_frames, items)
    out = torch.empty(items, num_frames, out_width, dtype=out_dtype, device=frames.device)
    scratch = torch.empty(*block_size(blocks), n_fft, dtype=frames.dtype, device=frames.device)
    for item, frame in blocks:
        block = scratch[: item.stop - item.start, : frame.stop - frame.start]
        torch.mul(flat[item, frame], window, out=block)
        out[item, frame] = fn(torch.fft.rfft(block, dim=-1))
    return out.reshape(*lead, num_frames, out_width)


def stft_frames(
    waveform: torch.Tensor,
    *,
    n_fft: int,
    hop_length: int,
    window: torch.Tensor,
    center: bool,
    pad_mode: str,
) -> torch.Tensor:
    """Complex STFT in frame-major layout (..., N, F), contiguous (no argument checks)."""
    frames = frame_signal(
        waveform, n_fft=n_fft, hop_length=hop_length, center=center, pad_mode=pad_mode
    )
    if needs_grad(waveform):
        return torch.fft.rfft(frames * window, dim=-1)
    complex_dtype = torch.complex128 if waveform.dtype == torch.float64 else torch.complex64
    return blockwise_frames(frames, window, lambda spec: spec, n_fft // 2 + 1, complex_dtype)


def stft(
    waveform: torch.Tensor,
    *,
    n_fft: int = 1024,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: str | torch.Tensor = "hann",
    center: bool = True,
    pad_mode: str = "reflect",
) -> torch.Tensor:
    """Short-time Fourier transform ``X[f, n] = sum_t w[t] x[n hop + t] exp(-2 pi i f t / n_fft)``.

    Args:
        waveform: (..., T) real signal, float32 or float64.
        n_fft: FFT size; ``F = n_fft // 2 + 1``.
        hop_length: samples between frames (default ``win_length // 4``); may exceed
            ``win_length`` (frames then skip samples), as librosa allows.
        win_length: window length ``<= n_fft`` (default ``n_fft``); zero-padded, centred.
        window: name from :data:`WINDOWS` or a tensor.
        center: pad ``n_fft // 2`` on both sides so frame ``n`` is centred on ``n hop``.
        pad_mode: padding for ``center`` ("constant", "reflect", "replicate", "circular";
            librosa calls the last two "edge" and "wrap"). Note librosa's default is
            "constant"; ours is "reflect" like torchaudio and AudioConfig.

    Returns:
        (..., F, N) complex tensor (complex64 for float32 input), a transposed view of a
        frame-major buffer. ``N = 1 + T // hop_length`` when ``center`` (even ``n_fft``;
        ``1 + (T - 1) // hop_length`` for an odd one).

    Raises:
        ParameterError: bad lengths, window or pad_mode, NaN/inf input, or a signal shorter
            than one frame.

    References:
        librosa.stft(y, n_fft, hop_length, win_length, window, center, pad_mode).
    """
    waveform = _check_waveform(waveform)
    n_fft, hop_length, win_length = resolve_lengths(n_fft, hop_length, win_length)
    win = get_window(window, win_length, n_fft=n_fft, dtype=waveform.dtype, device=waveform.device)
    spec = stft_frames(
        waveform, n_fft=n_fft, hop_length=hop_length, window=win, center=center, pad_mode=pad_mode
    )
    return spec.transpose(-1, -2)


# -- synthesis -----------------------------------------------------------------------------
def overlap_add(frames: torch.Tensor, *, hop_length: int) -> torch.Tensor:
    """Sum frames (..., N, K) shifted by ``hop_length`` into (..., K + hop_length (N - 1)).

    Frames are zero-padded to a multiple of ``hop_length`` and added as ``K / hop_length``
    strided slabs, so the work is a few vectorised additions (differentiable).
    """
    *lead, num_frames, size = frames.shape
    parts = -(-size // hop_length)
    if parts * hop_length != size:
        frames = F.pad(frames, (0, parts * hop_length - size))
    slabs = frames.reshape(*lead, num_frames, parts, hop_length)
    out = frames.new_zeros(*lead, num_frames + parts - 1, hop_length)
    for r in range(parts):
        out[..., r : r + num_frames, :] += slabs[..., r, :]
    return out.reshape(*lead, (num_frames + parts - 1) * hop_length)[
        ..., : size + hop_length * (num_frames - 1)
    ]


def window_sumsquare(window: torch.Tensor, *, num_frames: int, hop_length: int) -> torch.Tensor:
    """Sum over ``num_frames`` frames of the squared (n_fft,) window: (n_fft + hop (N - 1),).

    References:
        librosa.filters.window_sumsquare.
    """
    squared = (window * window).expand(num_frames, -1)
    return overlap_add(squared, hop_length=hop_length)


def istft_frames(
    spec_frames: torch.Tensor,
    *,
    n_fft: int,
    hop_length: int,
    window: torch.Tensor,
    center: bool,
    length: int | None,
    inverse_envelope: torch.Tensor | None = None,
) -> torch.Tensor:
    """Inverse of :func:`stft_frames` for a frame-major (..., N, F) spectrum (no checks)."""
    num_frames = spec_frames.shape[-2]
    if length is not None:
        padded_length = length + 2 * (n_fft // 2) if center else length
        num_frames = min(num_frames, -(-padded_length // hop_length))
        spec_frames = spec_frames[..., :num_frames, :]
    frames = torch.fft.irfft(spec_frames, n=n_fft, dim=-1)
    frames = frames * window
    signal = overlap_add(frames, hop_length=hop_length)
    if inverse_envelope is None:
        inverse_envelope = inverse_window_envelope(
            window, num_frames=num_frames, hop_length=hop_length
        )
    signal = signal * inverse_envelope
    start = n_fft // 2 if center else 0
    if length is None:
        stop = signal.shape[-1] - start
        return signal[..., start:stop]
    signal = signal[..., start : start + length]
    if signal.shape[-1] < length:
        signal = F.pad(signal, (0, length - signal.shape[-1]))
    return signal


def inverse_window_envelope(
    window: torch.Tensor, *, num_frames: int, hop_length: int
) -> torch.Tensor:
    """``1 / window_sumsquare`` where it exceeds the dtype's tiny, else 0 (as librosa)."""
    envelope = window_sumsquare(window, num_frames=num_frames, hop_length=hop_length)
    tiny = torch.finfo(envelope.dtype).tiny
    nonzero = envelope > tiny
    return torch.where(nonzero, 1.0 / torch.where(nonzero, envelope, 1.0), 0.0)


def istft(
    spec: torch.Tensor,
    *,
    n_fft: int | None = None,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: str | torch.Tensor = "hann",
    center: bool = True,
    length: int | None = None,
) -> torch.Tensor:
    """Inverse STFT by weighted overlap-add (least-squares estimate, Griffin & Lim 1984).

    Frames are inverse-FFT'd, multiplied by the window, overlap-added and divided by the sum
    of squared windows wherever that sum is above the dtype's ``tiny`` (elsewhere the output
    is left as the plain overlap-add, as in librosa). ``istft(stft(x)) == x`` up to rounding
    for any window satisfying the NOLA condition.

    Args:
        spec: (..., F, N) complex STFT.
        n_fft: FFT size (default ``2 (F - 1)``).
        hop_length: samples between frames (default ``win_length // 4``). Above
            ``win_length`` the windows leave gaps: those samples cannot be reconstructed and
            are 0, as in librosa, and a UserWarning says so.
        win_length: window length (default ``n_fft``).
        window: name from :data:`WINDOWS` or a tensor.
        center: whether the STFT was centred (``n_fft // 2`` samples are trimmed each side).
        length: exact output length ``T`` (zero-padded or trimmed); default is all samples.

    Returns:
        (..., T) real signal, float32 for complex64 input, float64 for complex128.

    References:
        librosa.istft(stft_matrix, hop_length, win_length, n_fft, window, center, length).
    """
    if not isinstance(spec, torch.Tensor) or not spec.is_complex() or spec.dim() < 2:
        raise ParameterError("spec must be a complex tensor of shape (..., F, N)")
    check_finite("spec", torch.view_as_real(spec))
    num_bins = spec.shape[-2]
    n_fft = 2 * (num_bins - 1) if n_fft is None else n_fft
    n_fft, hop_length, win_length = resolve_lengths(n_fft, hop_length, win_length)
    if n_fft // 2 + 1 != num_bins:
        raise ParameterError(f"n_fft={n_fft} gives {n_fft // 2 + 1} bins but spec has F={num_bins}")
    if length is not None:
        check_positive_int("length", length)
    warn_if_frames_leave_gaps(hop_length, win_length)
    real_dtype = spec.real.dtype
    win = get_window(window, win_length, n_fft=n_fft, dtype=real_dtype, device=spec.device)
    return istft_frames(
        spec.transpose(-1, -2),
        n_fft=n_fft,
        hop_length=hop_length,
        window=win,
        center=center,
        length=length,
    )


# -- power -------------------------------------------------------------------------------
def magnitude_power(spec_frames: torch.Tensor, power: float) -> torch.Tensor:
    """``|X|^power`` of a complex tensor, computed as ``re² + im²`` on the real view.

    ``re * re`` then an in-place ``addcmul`` is several times faster on CPU than
    ``X.abs()`` (a hypot) or ``view_as_real(X).square().sum(-1)`` (a reduction over a
    length-2 axis). Under autograd a magnitude (power < 2) uses ``X.abs()`` so that the
    gradient at ``X = 0`` is 0 rather than NaN.
    """
    if power != 2.0 and torch.is_grad_enabled() and spec_frames.requires_grad:
        return spec_frames.abs().pow(power) if power != 1.0 else spec_frames.abs()
    parts = torch.view_as_real(spec_frames)
    real, imag = parts[..., 0], parts[..., 1]
    out = real * real
    out.addcmul_(imag, imag)
    if power == 2.0:
        return out
    if power == 1.0:
        return out.sqrt_()
    return out.pow_(power / 2.0)


def check_power(power: float) -> float:
    """Validate a spectrogram exponent (> 0)."""
    if isinstance(power, bool) or not isinstance(power, (int, float)) or not power > 0:
        raise ParameterError(f"power={power!r} must be a positive number (1 or 2 usually)")
    return float(power)


def power_spectrum(
    x: torch.Tensor,
    *,
    n_fft: int | None = None,
    window: str | torch.Tensor = "rectangular",
) -> torch.Tensor:
    """Power spectrum ``|rfft(w x, n_fft)|²`` of a whole signal or one frame (last axis).

    No scaling is applied (not a density): a sinusoid of amplitude ``a`` on a bin with a
    rectangular window gives ``(a T / 2)²``. ``n_fft`` longer than ``T`` zero-pads.

    Args:
        x: (..., T) real signal or frame.
        n_fft: FFT size ``>= T`` (default ``T``); ``F = n_fft // 2 + 1``.
        window: name from :data:`WINDOWS` (periodic, ``T`` samples) or a tensor of ``T``.

    Returns:
        (..., F) power, same dtype as ``x``.

    References:
        numpy.abs(numpy.fft.rfft(w * x, n_fft)) ** 2; equals one frame of
        librosa.stft(x, center=False) squared.
    """
    x = _check_waveform(x, "x")
    length = x.shape[-1]
    n_fft = length if n_fft is None else check_positive_int("n_fft", n_fft)
    if n_fft < length:
        raise ParameterError(f"n_fft={n_fft} must be >= the signal length T={length}")
    win = get_window(window, length, n_fft=length, dtype=x.dtype, device=x.device)
    return magnitude_power(torch.fft.rfft(x * win, n=n_fft, dim=-1), 2.0)


def spectrogram(
    waveform: torch.Tensor,
    *,
    n_fft: int = 1024,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: str | torch.Tensor = "hann",
    center: bool = True,
    pad_mode: str = "reflect",
    power: float = 2.0,
) -> torch.Tensor:
    """Magnitude (``power=1``) or power (``power=2``) spectrogram ``|STFT|^power``.

    Args:
        waveform: (..., T) real signal.
        n_fft, hop_length, win_length, window, center, pad_mode: as in :func:`stft`.
        power: exponent of the magnitude (> 0).

    Returns:
        (..., F, N) real tensor (a transposed view of a frame-major buffer).

    References:
        librosa's ``_spectrogram``: ``np.abs(librosa.stft(...)) ** power``.
    """
    power = check_power(power)
    spec = stft(
        waveform,
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window,
        center=center,
        pad_mode=pad_mode,
    )
    return magnitude_power(spec.transpose(-1, -2), power).transpose(-1, -2)
