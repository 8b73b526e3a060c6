"""WaveNet building blocks: causal dilated convolution with a streaming state, the gated
residual block, and the frame-rate → sample-rate conditioning upsampler.

Every block has two faces that compute the same function: ``forward`` over a whole sequence
(B, C, T) for teacher-forced training, and ``step`` for one time step (B, C) during
sample-by-sample generation, carrying a small state (a ring buffer per causal conv).

References:
    van den Oord et al., "WaveNet: A Generative Model for Raw Audio", 2016 (dilated causal
    convolutions, gated activation units, residual and skip connections); Shen et al.,
    "Natural TTS Synthesis by Conditioning WaveNet on Mel Spectrogram Predictions", 2018;
    r9y9/wavenet_vocoder ``wavenet_vocoder/modules.py`` (gate split, sqrt(0.5) residual scale).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from synesthesia.errors import ParameterError
from synesthesia.functional.attention import lengths_to_mask

__all__ = [
    "CausalConv1d",
    "CausalConvState",
    "GatedResidualBlock",
    "ConditioningUpsampler",
    "upsample_frames",
    "frame_positions",
]

_INTERPOLATIONS = ("linear", "nearest")


def _positive_int(name: str, value: object, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        rule = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ParameterError(f"{name}={value!r} must be {rule}")
    return value


@dataclass
class CausalConvState:
    """Streaming state of a :class:`CausalConv1d`.

    Attributes:
        buffer: (B, C_in, S) ring buffer of the last ``S = (kernel_size - 1) * dilation``
            inputs; the input of step ``t`` sits in column ``t % S``.
        step: number of steps taken so far.
    """

    buffer: torch.Tensor
    step: int = 0


class CausalConv1d(nn.Module):
    """Dilated causal 1-D convolution: output ``t`` sees inputs ``t - (k - 1) d, ..., t``.

    ``forward`` left-pads by ``(kernel_size - 1) * dilation`` zeros; ``step`` consumes one
    input column at a time from a ring buffer (zeros before the first step), writing one
    column per step and reading ``kernel_size - 1`` taps, never copying the whole buffer.

    Args:
        in_channels: input channels ``C_in``.
        out_channels: output channels ``C_out``.
        kernel_size: taps ``k``.
        dilation: spacing ``d`` between taps.
        bias: add a learnable bias.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        kernel_size: int = 2,
        dilation: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__()
        _positive_int("in_channels", in_channels)
        _positive_int("out_channels", out_channels)
        _positive_int("kernel_size", kernel_size)
        _positive_int("dilation", dilation)
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, dilation=dilation, bias=bias)

    @property
    def weight(self) -> torch.Tensor:
        """(C_out, C_in, k) convolution weight."""
        return self.conv.weight

    @property
    def bias(self) -> torch.Tensor | None:
        """(C_out,) bias or ``None``."""
        return self.conv.bias

    @property
    def context_size(self) -> int:
        """Past inputs the output depends on besides the current one: ``(k - 1) d``."""
        return (self.kernel_size - 1) * self.dilation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Causal convolution over a whole sequence.

        Args:
            x: (B, C_in, T).

        Returns:
            (B, C_out, T).
        """
        return self.conv(F.pad(x, (self.context_size, 0)))

    def init_state(
        self, batch_size: int, *, dtype: torch.dtype | None = None, device=None
    ) -> CausalConvState:
        """A zero state (the inputs before step 0 are zeros, as in ``forward``'s padding)."""
        weight = self.conv.weight
        buffer = torch.zeros(
            batch_size,
            weight.shape[1],
            self.context_size,
            dtype=weight.dtype if dtype is None else dtype,
            device=weight.device if device is None else device,
        )
        return CausalConvState(buffer=buffer)

    def step(self, x: torch.Tensor, state: CausalConvState) -> torch.Tensor:
        """One streaming step: consume input column ``x`` and return the output column.

        Args:
            x: (B, C_in) the input at the current step.
            state: from :meth:`init_state`, updated in place.

        Returns:
            (B, C_out) equal to ``forward(sequence)[:, :, t]`` at this step ``t``.
        """
        size = self.context_size
        weight = self.conv.weight  # (C_out, C_in, k)
        out = F.linear(x, weight[:, :, -1], self.conv.bias)
        if size:
            t = state.step
            for j in range(1, self.kernel_size):  # tap j: the input j * d steps ago
                column = (t - j * self.dilation) % size
                out = out + state.buffer[:, :, column] @ weight[:, :, -1 - j].T
            state.buffer[:, :, t % size] = x
        state.step += 1
        return out


class GatedResidualBlock(nn.Module):
    """One WaveNet layer: dilated causal conv → tanh·sigmoid gate → residual and skip 1×1.

    ``h = conv(x) + cond_proj(c) + global_proj(g)``; the ``gate_channels`` of ``h`` are split
    in halves ``a, b`` and ``z = tanh(a) * sigmoid(b)`` (``gate_channels / 2`` channels);
    ``skip = skip_proj(z)``, ``residual = (res_proj(z) + x) * sqrt(0.5)``.

    Args:
        residual_channels: channels of ``x`` and of the residual output ``R``.
        gate_channels: output channels of the dilated conv (even); half survive the gate.
        skip_channels: channels of the skip output ``S``.
        kernel_size: taps of the dilated conv.
        dilation: dilation of the conv.
        cond_channels: channels of the local conditioning ``c`` (B, C_c, T); 0 for none.
        global_cond_dim: width of the global conditioning ``g`` (B, G); 0 for none.
        dropout: dropout on the conv input during training.
        residual_output: compute the residual output; the last layer of a stack feeds only
            the skip sum, so it has no residual 1×1 (every parameter gets a gradient).

    References:
        van den Oord et al. 2016, Sec. 2.3-2.5; r9y9/wavenet_vocoder ``ResidualConv1dGLU``.
    """

    def __init__(
        self,
        *,
        residual_channels: int,
        gate_channels: int,
        skip_channels: int,
        kernel_size: int = 3,
        dilation: int = 1,
        cond_channels: int = 0,
        global_cond_dim: int = 0,
        dropout: float = 0.0,
        residual_output: bool = True,
    ) -> None:
        super().__init__()
        _positive_int("residual_channels", residual_channels)
        _positive_int("gate_channels", gate_channels, minimum=2)
        if gate_channels % 2:
            raise ParameterError(
                f"gate_channels={gate_channels} must be even (tanh/sigmoid halves)"
            )
        _positive_int("skip_channels", skip_channels)
        _positive_int("cond_channels", cond_channels, minimum=0)
        _positive_int("global_cond_dim", global_cond_dim, minimum=0)
        if not 0.0 <= dropout < 1.0:
            raise ParameterError(f"dropout={dropout!r} must be in [0, 1)")
        half = gate_channels // 2
        self.dropout = dropout
        self.conv = CausalConv1d(
            residual_channels, gate_channels, kernel_size=kernel_size, dilation=dilation
        )
        self.cond_proj = (
            nn.Conv1d(cond_channels, gate_channels, 1, bias=False) if cond_channels else None
        )
        self.global_proj = (
            nn.Linear(global_cond_dim, gate_channels, bias=False) if global_cond_dim else None
        )
        self.res_proj = nn.Conv1d(half, residual_channels, 1) if residual_output else None
        self.skip_proj = nn.Conv1d(half, skip_channels, 1)

    def _gate(self, h: torch.Tensor, dim: int) -> torch.Tensor:
        a, b = h.chunk(2, dim=dim)
        return torch.tanh(a) * torch.sigmoid(b)

    def forward(
        self,
        x: torch.Tensor,
        cond: torch.Tensor | None = None,
        global_cond: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Whole-sequence pass.

        Args:
            x: (B, R, T) residual stream.
            cond: (B, C_c, T) local conditioning at sample rate (required iff cond_channels).
            global_cond: (B, G) global conditioning (required iff global_cond_dim).

        Returns:
            ``(residual (B, R, T) or None without residual_output, skip (B, S, T))``.
        """
        h = self.conv(F.dropout(x, p=self.dropout, training=self.training))
        if self.cond_proj is not None:
            if cond is None:
                raise ParameterError("cond=None but this block needs local conditioning")
            h = h + self.cond_proj(cond)
        if self.global_proj is not None:
            if global_cond is None:
                raise ParameterError("global_cond=None but this block needs global conditioning")
            h = h + self.global_proj(global_cond).unsqueeze(-1)
        z = self._gate(h, dim=1)
        if self.res_proj is None:
            return None, self.skip_proj(z)
        return (self.res_proj(z) + x) * math.sqrt(0.5), self.skip_proj(z)

    def step(
        self,
        x: torch.Tensor,
        state: CausalConvState,
        *,
        cond_bias: torch.Tensor | None = None,
        need_residual: bool = True,
    ) -> tuple[torch.Tensor | None, torch.Tensor]:
        """One generation step.

        Args:
            x: (B, R) residual stream at this step.
            state: the conv's streaming state (from ``self.conv.init_state``).
            cond_bias: (B, gate_channels) the conditioning terms at this step, i.e.
                ``cond_proj(c)[:, :, t] + global_proj(g)`` (precomputed by the caller).
            need_residual: skip the residual 1×1 (the last layer's is unused).

        Returns:
            ``(residual (B, R) or None, skip (B, S))``.
        """
        h = self.conv.step(x, state)
        if cond_bias is not None:
            h = h + cond_bias
        z = self._gate(h, dim=1)
        skip = F.linear(z, self.skip_proj.weight[:, :, 0], self.skip_proj.bias)
        if not need_residual or self.res_proj is None:
            return None, skip
        res = F.linear(z, self.res_proj.weight[:, :, 0], self.res_proj.bias)
        return (res + x) * math.sqrt(0.5), skip


def frame_positions(
    num_samples: int, hop_length: int, frame_lengths: torch.Tensor, interpolation: str
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """For each sample ``t`` and batch row: neighbouring frames ``n0, n1`` and weight of n1.

    Frame ``n`` is centred on sample ``n * hop_length`` (``center=True`` analysis), so sample
    ``t`` sits at fractional frame ``t / hop_length``. Positions beyond a row's last frame hold
    its last frame.

    Returns:
        ``n0 (B, T)``, ``n1 (B, T)`` LongTensors and ``weight (B, T)`` float64.
    """
    device = frame_lengths.device
    t = torch.arange(num_samples, device=device)
    last = (frame_lengths - 1).clamp(min=0).unsqueeze(1)  # (B, 1)
    if interpolation == "nearest":
        n0 = torch.minimum(((t + hop_length // 2) // hop_length).unsqueeze(0), last)
        return n0, n0, torch.zeros(n0.shape, dtype=torch.float64, device=device)
    base = (t // hop_length).unsqueeze(0)
    weight = ((t % hop_length).to(torch.float64) / hop_length).unsqueeze(0)
    n0 = torch.minimum(base, last)
    n1 = torch.minimum(base + 1, last)
    weight = torch.where(base >= last, torch.zeros_like(weight), weight)
    return n0, n1, weight.expand(n0.shape[0], -1)


def upsample_frames(
    features: torch.Tensor,
    *,
    hop_length: int,
    interpolation: str = "linear",
    frame_lengths: torch.Tensor | None = None,
    num_samples: int | None = None,
) -> torch.Tensor:
    """Interpolate frame-rate features to sample rate, aligned with ``center=True`` frames.

    Frame ``n`` lands on sample ``n * hop_length``; samples in between are interpolated
    linearly (or take the nearest frame), and samples after a row's last frame
    (``frame_lengths``) hold that frame. The map is linear with weights summing to one, so it
    commutes with any 1×1 convolution (with bias): ``W·up(c) + b == up(W·c + b)``.

    Args:
        features: (B, C, N).
        hop_length: samples per frame.
        interpolation: "linear" or "nearest".
        frame_lengths: (B,) valid frames per row (default: N for every row).
        num_samples: output length (default ``N * hop_length``).

    Returns:
        (B, C, T) with ``T = num_samples``.
    """
    _positive_int("hop_length", hop_length)
    if interpolation not in _INTERPOLATIONS:
        raise ParameterError(f"interpolation={interpolation!r} must be one of {_INTERPOLATIONS}")
    batch, channels, frames = features.shape
    if frame_lengths is None:
        frame_lengths = torch.full((batch,), frames, dtype=torch.long, device=features.device)
    num_samples = frames * hop_length if num_samples is None else num_samples
    n0, n1, weight = frame_positions(num_samples, hop_length, frame_lengths, interpolation)
    index0 = n0.unsqueeze(1).expand(-1, channels, -1)
    index1 = n1.unsqueeze(1).expand(-1, channels, -1)
    first = features.gather(2, index0)
    if interpolation == "nearest":
        return first
    second = features.gather(2, index1)
    weight = weight.to(features.dtype).unsqueeze(1)
    return first + weight * (second - first)


class ConditioningUpsampler(nn.Module):
    """Mel frames (B, M, N) → conditioning at sample rate (B, M, N·hop_length).

    Two stages: a learnable non-causal frame-rate network, then the fixed interpolation
    :func:`upsample_frames` (linear by default) aligned with ``center=True`` frames: frame
    ``n`` sits on sample ``n * hop_length``. The frame-rate network is a convolution over
    ``kernel_size`` frames followed by ``num_layers`` residual blocks
    ``h + W2·relu(W1 * h)`` (``W1``: ``kernel_size`` frames, ``channels → hidden_channels``;
    ``W2``: 1×1 back to ``channels``, zero-initialised so a new network starts as the plain
    convolution). Zero padding throughout, and frames past ``mel_lengths`` are zeroed before
    every convolution, so a padded batch equals its rows run alone. The blocks make the
    conditioning a non-linear function of the mel (with only the first convolution it is
    linear, and the gates are the sole non-linearity), at frame rate: once per utterance,
    not per sample. Because the interpolation comes last and is linear, the per-layer 1×1
    conditioning projections can be applied at frame rate and interpolated per sample during
    generation — ``hop_length`` times fewer multiply-adds than projecting upsampled features.

    Args:
        channels: mel bins ``M`` (input and output channels).
        hop_length: samples per frame.
        kernel_size: frames seen by each frame-rate conv (odd; 0 disables the first conv,
            and then ``num_layers`` must be 0).
        interpolation: "linear" or "nearest".
        num_layers: residual blocks after the first conv (0: the plain linear conv).
        hidden_channels: width of each block's hidden layer (default ``channels``).

    References:
        Shen et al. 2018 (mel-conditioned WaveNet); r9y9/wavenet_vocoder ``UpsampleNetwork``
        (transposed convs; this module replaces them by an exact linear interpolation).
    """

    def __init__(
        self,
        channels: int,
        *,
        hop_length: int,
        kernel_size: int = 3,
        interpolation: str = "linear",
        num_layers: int = 0,
        hidden_channels: int | None = None,
    ) -> None:
        super().__init__()
        _positive_int("channels", channels)
        _positive_int("hop_length", hop_length)
        _positive_int("kernel_size", kernel_size, minimum=0)
        _positive_int("num_layers", num_layers, minimum=0)
        hidden_channels = channels if hidden_channels is None else hidden_channels
        _positive_int("hidden_channels", hidden_channels)
        if kernel_size and kernel_size % 2 == 0:
            raise ParameterError(f"kernel_size={kernel_size} must be odd (or 0 for no conv)")
        if num_layers and not kernel_size:
            raise ParameterError(f"num_layers={num_layers} needs kernel_size > 0 (got 0)")
        if interpolation not in _INTERPOLATIONS:
            raise ParameterError(
                f"interpolation={interpolation!r} must be one of {_INTERPOLATIONS}"
            )
        self.hop_length = hop_length
        self.interpolation = interpolation
        self.frame_conv = (
            nn.Conv1d(channels, channels, kernel_size, padding=kernel_size // 2)
            if kernel_size
            else None
        )
        self.res_in = nn.ModuleList(
            nn.Conv1d(channels, hidden_channels, kernel_size, padding=kernel_size // 2)
            for _ in range(num_layers)
        )
        self.res_out = nn.ModuleList(
            nn.Conv1d(hidden_channels, channels, 1) for _ in range(num_layers)
        )
        for conv in self.res_out:
            nn.init.zeros_(conv.weight)
            nn.init.zeros_(conv.bias)

    def frame_features(
        self, mel: torch.Tensor, *, mel_lengths: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The frame-rate stage: (B, M, N) → (B, M, N)."""
        valid = None
        if mel_lengths is not None:
            valid = lengths_to_mask(mel_lengths, max_length=mel.shape[-1], device=mel.device)
            valid = valid.unsqueeze(1)  # (B, 1, N)

        def masked(x: torch.Tensor) -> torch.Tensor:
            if valid is None:
                return x
            return torch.where(valid, x, torch.zeros((), dtype=x.dtype, device=x.device))

        h = masked(mel)
        if self.frame_conv is None:
            return h
        h = self.frame_conv(h)
        for conv_in, conv_out in zip(self.res_in, self.res_out):
            h = h + conv_out(F.relu(conv_in(masked(h))))
        return h

    def forward(
        self,
        mel: torch.Tensor,
        *,
        mel_lengths: torch.Tensor | None = None,
        num_samples: int | None = None,
    ) -> torch.Tensor:
        """Upsample mel frames to sample rate.

        Args:
            mel: (B, M, N).
            mel_lengths: (B,) valid frames per row.
            num_samples: output length ``T`` (default ``N * hop_length``).

        Returns:
            (B, M, T).
        """
        features = self.frame_features(mel, mel_lengths=mel_lengths)
        return upsample_frames(
            features,
            hop_length=self.hop_length,
            interpolation=self.interpolation,
            frame_lengths=mel_lengths,
            num_samples=num_samples,
        )
