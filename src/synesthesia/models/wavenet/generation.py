"""WaveNet generation: choosing a backend, rounding weights, and running the sample loop.

:meth:`WaveNet.generate` and :meth:`WaveNet.incremental_forward` validate their inputs and
call :func:`stream`, which projects the conditioning at frame rate, shows a progress bar and
hands the loop to a backend: :mod:`.torch_backend` (the reference) or :mod:`.numba_backend`
(one compiled kernel). Both read the same pre-drawn uniforms and return the same samples.

References:
    Paine et al., "Fast WaveNet Generation Algorithm", 2016.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import torch
from tqdm.auto import tqdm

from synesthesia.errors import ParameterError
from synesthesia.models.wavenet import numba_backend
from synesthesia.models.wavenet.torch_backend import torch_stream

if TYPE_CHECKING:
    from synesthesia.models.wavenet.model import WaveNet

__all__ = [
    "BACKENDS",
    "NUMBA_CHUNK",
    "WEIGHT_DTYPES",
    "check_weight_dtype",
    "resolve_backend",
    "rounded_copy",
    "stream",
]

BACKENDS = ("auto", "torch", "numba")
#: ``weight_dtype`` values accepted by generation (None: the model's own dtype)
WEIGHT_DTYPES = (None, torch.float16)
#: steps per numba kernel call (between progress-bar updates).
NUMBA_CHUNK = 4096


def check_weight_dtype(model: WaveNet, weight_dtype: torch.dtype | None) -> torch.dtype | None:
    """Return ``weight_dtype`` if generation accepts it for ``model``, else raise."""
    if weight_dtype not in WEIGHT_DTYPES:
        raise ParameterError(
            f"weight_dtype={weight_dtype!r} must be None (the model's dtype) or torch.float16"
        )
    if weight_dtype is not None and model.output_hidden.weight.dtype != torch.float32:
        raise ParameterError(
            f"weight_dtype={weight_dtype} needs a float32 model, not "
            f"{model.output_hidden.weight.dtype} (products and sums run in float32)"
        )
    return weight_dtype


def rounded_copy(model: WaveNet, weight_dtype: torch.dtype) -> WaveNet:
    """A copy whose :meth:`~WaveNet.per_sample_matrices` are rounded to ``weight_dtype`` (and
    stored back in float32): the function the half-precision numba kernel computes."""
    twin = copy.deepcopy(model)
    with torch.no_grad():
        for weight in twin.per_sample_matrices():
            weight.copy_(weight.to(weight_dtype).to(weight.dtype))
    return twin


def resolve_backend(model: WaveNet, backend: str) -> str:
    """ "torch" or "numba" for ``backend`` ("auto": numba on CPU when it imports)."""
    if backend not in BACKENDS:
        raise ParameterError(f"backend={backend!r} must be one of {BACKENDS}")
    on_cpu = next(model.parameters()).device.type == "cpu"
    if backend == "torch":
        return "torch"
    if not on_cpu:
        if backend == "numba":
            raise ParameterError("backend='numba' needs the model on the CPU")
        return "torch"
    if numba_backend.numba_available():
        return "numba"
    numba_backend.warn_unavailable()
    return "torch"


def stream(
    model: WaveNet,
    mel: torch.Tensor,
    mel_lengths: torch.Tensor,
    global_cond: torch.Tensor | None,
    *,
    uniforms: torch.Tensor,
    temperature: float,
    backend: str,
    progress: bool,
    forced: torch.Tensor | None = None,
    record: bool = False,
    weight_dtype: torch.dtype | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Run the generation loop; returns samples (B, T) float64 and optionally (B, K, T).

    Inputs are trusted (checked by the WaveNet methods that call it); ``backend`` is a
    resolved one ("torch" or "numba")."""
    frame_cond = model.frame_conditioning(mel, mel_lengths=mel_lengths, global_cond=global_cond)
    batch, num_samples = uniforms.shape[:2]
    bar = tqdm(
        total=num_samples,
        unit="sample",
        unit_scale=True,
        desc=f"WaveNet ({backend}, batch {batch})",
        disable=None if progress else True,
        leave=False,
    )
    with bar:
        if backend == "numba":
            return numba_backend.stream(
                model,
                frame_cond,
                mel_lengths,
                uniforms=uniforms,
                temperature=temperature,
                forced=forced,
                record=record,
                chunk=NUMBA_CHUNK,
                on_progress=bar.update,
                weight_dtype=weight_dtype,
            )
        return torch_stream(
            model if weight_dtype is None else rounded_copy(model, weight_dtype),
            frame_cond,
            mel_lengths,
            uniforms=uniforms,
            temperature=temperature,
            forced=forced,
            record=record,
            on_progress=bar.update,
        )
