"""Fast WaveNet generation: the whole sample-by-sample loop as one compiled numba kernel.

The torch reference path (:func:`.torch_backend.torch_stream`) issues a few hundred small torch
calls per sample, so its speed is bound by per-call overhead (microseconds each), not by the
arithmetic. Here the weights are exported once as contiguous float NumPy arrays (the model's
dtype, float32 or float64) and one ``@njit`` kernel runs the loop: per layer a ring buffer of
the last ``(kernel_size - 1) * dilation`` inputs, mat-vec products written as plain loops
(vectorised by LLVM), the tanh·sigmoid gate, skip sum, output head and sampling from the
same pre-drawn uniforms as the torch path. Rows of a batch run in parallel (``prange``), each
to its own length. The per-layer conditioning is projected at frame rate beforehand
(:meth:`WaveNet.frame_conditioning`) and interpolated per sample, with the conv bias folded in.

With ``weight_dtype=torch.float16`` the matrices multiplied at every sample are exported as
half-precision bit patterns (``uint16``) that the kernel widens to float32 as it loads them:
a batch-1 mat-vec streams every weight once per sample, so half the bytes is what speeds it
up; software prefetching of the next rows is added when those half weights exceed the L2
cache (:func:`prefetch_distance`).

When numba does not import, :func:`numba_available` is False and WaveNet falls back to the
torch path with one warning.

References:
    Paine et al., "Fast WaveNet Generation Algorithm", 2016 (per-layer queues of past
    activations); Lam et al., numba: "a LLVM-based Python JIT compiler", 2015.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import torch

__all__ = [
    "numba_available",
    "reset_availability",
    "warn_unavailable",
    "export_weights",
    "PER_SAMPLE_MATRICES",
    "prefetch_distance",
    "stream",
]

logger = logging.getLogger(__name__)

_STATE: dict[str, Any] = {"checked": False, "kernel": None, "warned": False}
_HEAD_CODES = {"mulaw": 0, "mol": 1, "gaussian": 2}


def _import_kernel():
    from synesthesia.models.wavenet.numba_kernel import row_loop  # imports numba

    return row_loop


def numba_available() -> bool:
    """Whether the compiled kernel can be used (numba imports); checked once."""
    if not _STATE["checked"]:
        _STATE["checked"] = True
        try:
            _STATE["kernel"] = _import_kernel()
        except ImportError as exc:
            logger.info("numba is unavailable (%s); WaveNet generation uses torch", exc)
            _STATE["kernel"] = None
    return _STATE["kernel"] is not None


def warn_unavailable() -> None:
    """Warn (once per process) that the torch fallback is used."""
    if not _STATE["warned"]:
        _STATE["warned"] = True
        warnings.warn(
            "numba is not installed; WaveNet generation falls back to the slower torch path "
            "(pip install numba for the fast one)",
            RuntimeWarning,
            stacklevel=3,
        )


def reset_availability() -> None:
    """Forget the availability check and the warning (tests monkeypatch the import)."""
    _STATE.update(checked=False, kernel=None, warned=False)


#: the exported matrices multiplied at every sample (``WaveNet.per_sample_matrices``, laid out
#: for the kernel): the ones ``weight_dtype`` rounds and whose size decides prefetching
PER_SAMPLE_MATRICES = ("conv_w", "out_w", "hidden_w", "proj_w")


def export_weights(model, weight_dtype: torch.dtype | None = None) -> dict[str, np.ndarray]:
    """Contiguous NumPy copies of a WaveNet's weights in the layouts the kernel reads.

    With ``weight_dtype=torch.float16`` the matrices of :data:`PER_SAMPLE_MATRICES` are
    rounded to half precision and returned as their ``uint16`` bit patterns (the kernel widens
    them to float32 as it loads them); everything else keeps the model's dtype.

    Returns:
        ``input_table`` (Q, R) for mulaw, else (2, R) = [weight, bias]; ``conv_w``
        (L, G, k R); ``conv_b`` (L, G); ``out_w`` (L, R + S, G/2) residual and skip 1×1
        stacked; ``out_b`` (L, R + S); ``hidden_w`` (S, S); ``hidden_b`` (S,); ``proj_w``
        (K, S); ``proj_b`` (K,); ``dilations``, ``offsets`` (L,) int64; ``buffer_rows``.
    """

    def arr(t: torch.Tensor) -> np.ndarray:
        return np.ascontiguousarray(t.detach().cpu().numpy())

    blocks = model.blocks
    if model.output == "mulaw":
        input_table = arr(model.input_layer.weight)
    else:
        w = model.input_layer.weight[:, 0, 0]
        input_table = arr(torch.stack([w, model.input_layer.bias]))
    sizes = [(model.kernel_size - 1) * d for d in model.dilations]

    def residual(block, name: str) -> torch.Tensor:  # the last block has none: zeros
        if block.res_proj is None:
            shape = (model.residual_channels, block.skip_proj.weight.shape[1])
            return block.skip_proj.weight.new_zeros(shape if name == "weight" else shape[:1])
        return block.res_proj.weight[:, :, 0] if name == "weight" else block.res_proj.bias

    weights = {
        "input_table": input_table,
        # (L, G, k R): tap j of every conv side by side, matching [x(t - (k-1) d), ..., x(t)]
        "conv_w": arr(torch.stack([b.conv.weight.permute(0, 2, 1).flatten(1) for b in blocks])),
        "conv_b": arr(torch.stack([b.conv.bias for b in blocks])),
        # (L, R + S, G / 2): residual rows first, then skip rows
        "out_w": arr(
            torch.stack(
                [torch.cat([residual(b, "weight"), b.skip_proj.weight[:, :, 0]]) for b in blocks]
            )
        ),
        "out_b": arr(
            torch.stack([torch.cat([residual(b, "bias"), b.skip_proj.bias]) for b in blocks])
        ),
        "hidden_w": arr(model.output_hidden.weight[:, :, 0]),
        "hidden_b": arr(model.output_hidden.bias),
        "proj_w": arr(model.output_proj.weight[:, :, 0]),
        "proj_b": arr(model.output_proj.bias),
        "dilations": np.asarray(model.dilations, dtype=np.int64),
        "offsets": np.asarray(np.cumsum([0, *sizes[:-1]]), dtype=np.int64),
        "buffer_rows": np.int64(sum(sizes)),
    }
    if weight_dtype is not None:
        for name in PER_SAMPLE_MATRICES:
            weights[name] = arr(torch.from_numpy(weights[name]).to(weight_dtype)).view(np.uint16)
    return weights


def _l2_cache_bytes() -> int:
    """The per-core L2 cache size from sysfs (Linux); 1 MiB when unknown."""
    try:
        with open("/sys/devices/system/cpu/cpu0/cache/index2/size", encoding="ascii") as handle:
            text = handle.read().strip().upper()
        scale = {"K": 1 << 10, "M": 1 << 20}.get(text[-1:], 1)
        return int(text.rstrip("KM")) * scale
    except (OSError, ValueError):
        return 1 << 20


#: how far beyond the next block of rows the mat-vec prefetches (bytes)
PREFETCH_BYTES = 2048


def prefetch_distance(weights: dict[str, np.ndarray]) -> int:
    """The kernel's ``ahead`` (elements) for exported ``weights``: software prefetching only
    pays for half-precision matrices too big for the L2 cache. Measured on a 2-core Xeon
    (Sapphire Rapids, 2 MiB L2): 6.3 MB of half weights, mat-vec 10.9 → 12.1 GMAC/s with
    prefetching; half weights in L2 (1.1 MB) 23.0 → 19.3, float32 from L3 7.3 → 6.8
    (slower), so those run without.
    """
    mats = [weights[name] for name in PER_SAMPLE_MATRICES]
    if mats[0].dtype != np.uint16 or sum(m.nbytes for m in mats) <= _l2_cache_bytes():
        return 0
    return PREFETCH_BYTES // mats[0].itemsize


def stream(
    model,
    frame_cond: torch.Tensor,
    mel_lengths: torch.Tensor,
    *,
    uniforms: torch.Tensor,
    temperature: float,
    forced: torch.Tensor | None,
    record: bool,
    chunk: int,
    on_progress: Callable[[int], Any] | None = None,
    weight_dtype: torch.dtype | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Run the generation loop in the compiled kernel (see ``WaveNet._stream``).

    Args:
        model: a WaveNet on the CPU.
        frame_cond: (B, N, L, G) from ``WaveNet.frame_conditioning``.
        mel_lengths: (B,) valid frames per row.
        uniforms: (B, T, 2) float64.
        temperature: sampling temperature.
        forced: (B, T) float64 inputs to feed instead of the samples (teacher forcing).
        record: also return the head parameters (B, K, T).
        chunk: steps per kernel call (progress granularity).
        on_progress: called with the number of steps done after each call.
        weight_dtype: None or ``torch.float16`` (half-precision weight matrices, float32
            model; see :func:`export_weights`).

    Returns:
        ``(samples (B, T) float64, outputs (B, K, T) or None)``.
    """
    if not numba_available():
        raise RuntimeError("numba is not available")
    kernel = _STATE["kernel"]
    w = export_weights(model, weight_dtype)
    dtype = w["conv_b"].dtype  # activations (the matrices may be half-precision bits)
    batch, num_samples = uniforms.shape[:2]
    hop = model.hop_length
    cond = frame_cond.detach().cpu().numpy().astype(dtype, copy=False)
    cond = np.ascontiguousarray(cond + w["conv_b"][None, None])  # fold the conv bias in
    frame_lengths = mel_lengths.cpu().numpy().astype(np.int64)
    sample_lengths = np.minimum(frame_lengths * hop, num_samples)
    uniforms_np = np.ascontiguousarray(uniforms.cpu().numpy(), dtype=np.float64)
    forced_np = (
        np.zeros((batch, 1), dtype=np.float64)
        if forced is None
        else np.ascontiguousarray(forced.cpu().numpy(), dtype=np.float64)
    )
    outputs = np.zeros((batch, model.output_channels, num_samples if record else 1), dtype=dtype)
    buffers = np.zeros((batch, int(w["buffer_rows"]), model.residual_channels), dtype=dtype)
    previous = np.full(batch, model.start_value, dtype=np.float64)
    samples = np.zeros((batch, num_samples), dtype=np.float64)
    args = (
        cond,
        frame_lengths,
        sample_lengths,
        hop,
        model.interpolation == "nearest",
        _HEAD_CODES[model.output],
        model.num_mixtures,
        model.log_scale_min,
        float(temperature),
        model.skip_scale,
        dtype == np.float32,  # rational tanh/sigmoid for float32, libm for float64
        prefetch_distance(w),
        w["input_table"],
        w["conv_w"],
        w["dilations"],
        w["offsets"],
        w["out_w"],
        w["out_b"],
        w["hidden_w"],
        w["hidden_b"],
        w["proj_w"],
        w["proj_b"],
        uniforms_np,
        forced_np,
        forced is not None,
        record,
        outputs,
        buffers,
        previous,
        samples,
    )
    # Rows are independent: with several threads (torch.get_num_threads()), rows run
    # concurrently; the kernel releases the GIL (nogil=True).
    threads = max(1, min(batch, torch.get_num_threads()))
    pool = ThreadPoolExecutor(threads) if threads > 1 else None
    try:
        for start in range(0, num_samples, chunk):
            stop = min(num_samples, start + chunk)
            if pool is None:
                for row in range(batch):
                    kernel(row, start, stop, *args)
            else:
                list(pool.map(lambda row, a=start, b=stop: kernel(row, a, b, *args), range(batch)))
            if on_progress is not None:
                on_progress(stop - start)
    finally:
        if pool is not None:
            pool.shutdown()
    out = torch.from_numpy(outputs) if record else None
    return torch.from_numpy(samples), out
