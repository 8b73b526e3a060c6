"""The reference WaveNet generation loop in plain torch (the "torch" backend).

It runs the streaming ``step`` of every block (ring-buffered causal convs) for all rows of a
batch at once, one time step after another, and samples with the functional samplers of
:mod:`synesthesia.functional.distributions`. The compiled backend
(:mod:`synesthesia.models.wavenet.numba_backend`) must reproduce it.

References:
    Paine et al., "Fast WaveNet Generation Algorithm", 2016.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from synesthesia.nn.wavenet_blocks import frame_positions

__all__ = ["torch_stream"]


def torch_stream(
    model,
    frame_cond: torch.Tensor,
    mel_lengths: torch.Tensor,
    *,
    uniforms: torch.Tensor,
    temperature: float,
    forced: torch.Tensor | None,
    record: bool,
    on_progress: Callable[[int], Any] | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The reference generation loop: every block's streaming ``step``, batched over rows.

    Args:
        model: a WaveNet.
        frame_cond: (B, N, L, G) from ``WaveNet.frame_conditioning``.
        mel_lengths: (B,) valid frames per row.
        uniforms: (B, T, 2) float64 uniforms for the sampler.
        temperature: sampling temperature.
        forced: (B, T) float64 inputs to feed instead of the samples (teacher forcing).
        record: also return the head parameters (B, K, T).
        on_progress: called with the number of steps done, every 256 steps.

    Returns:
        ``(samples (B, T) float64, outputs (B, K, T) or None)``; samples are mu-law classes
        for "mulaw", waveform values otherwise.
    """
    batch, num_samples = uniforms.shape[:2]
    dtype = frame_cond.dtype
    device = frame_cond.device
    n0, n1, weight = frame_positions(
        num_samples, model.hop_length, mel_lengths, model.interpolation
    )
    weight = weight.to(dtype)
    rows = torch.arange(batch, device=device)
    states = [block.conv.init_state(batch, dtype=dtype) for block in model.blocks]
    samples = torch.zeros(batch, num_samples, dtype=torch.float64, device=device)
    outputs = (
        torch.zeros(batch, model.output_channels, num_samples, dtype=dtype, device=device)
        if record
        else None
    )
    previous = torch.full((batch,), model.start_value, dtype=torch.float64, device=device)
    hidden_w, hidden_b = model.output_hidden.weight[:, :, 0], model.output_hidden.bias
    proj_w, proj_b = model.output_proj.weight[:, :, 0], model.output_proj.bias
    last = model.num_layers - 1
    for t in range(num_samples):
        if model.output == "mulaw":
            x = model.input_layer(previous.long())
        else:
            x = F.linear(
                previous.to(dtype).unsqueeze(1),
                model.input_layer.weight[:, :, 0],
                model.input_layer.bias,
            )
        c0 = frame_cond[rows, n0[:, t]]  # (B, L, G)
        c1 = frame_cond[rows, n1[:, t]]
        cond = c0 + weight[:, t, None, None] * (c1 - c0)
        skips = 0
        for i, (block, state) in enumerate(zip(model.blocks, states)):
            x, skip = block.step(x, state, cond_bias=cond[:, i], need_residual=i < last)
            skips = skips + skip
        hidden = F.relu(F.linear(F.relu(skips * model.skip_scale), hidden_w, hidden_b))
        params = F.linear(hidden, proj_w, proj_b)
        if outputs is not None:
            outputs[:, :, t] = params
        sample = model.sample_output(params, uniforms[:, t], temperature=temperature)
        samples[:, t] = sample.to(torch.float64)
        previous = forced[:, t] if forced is not None else samples[:, t]
        if on_progress is not None and (t + 1) % 256 == 0:
            on_progress(256)
    if on_progress is not None:
        on_progress(num_samples % 256)
    return samples, outputs
