"""Audio encoders for joint embeddings: a SoundNet-style 1-D CNN and a 2-D CNN on log-mel.

Both map a (padded) batch to one feature vector per item (B, D), averaging over the valid
frames only when lengths are given, so a clip's features do not depend on its padding (except
through batch-norm statistics in training mode).

References:
    Aytar, Vondrick & Torralba, "SoundNet: Learning Sound Representations from Unlabeled
    Video", NeurIPS 2016 (1-D conv stacks with large strides, batch norm, max pooling; the
    reference 8-layer layout uses kernels 64/32/16/8/4/4/4, stride 2, pools 8/8/4).
    Hershey et al., "CNN Architectures for Large-Scale Audio Classification", ICASSP 2017
    (VGG-style 2-D CNN on log-mel patches).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from synesthesia.errors import ParameterError

__all__ = ["LogMelEncoder", "SoundNetEncoder", "masked_mean"]


def _positive_ints(name: str, values: Sequence[int]) -> tuple[int, ...]:
    values = tuple(values)
    if not values or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in values):
        raise ParameterError(f"{name}={values!r} must be a non-empty sequence of positive integers")
    return values


def masked_mean(x: Tensor, lengths: Tensor | None) -> Tensor:
    """Mean over the last axis of (B, C, N), counting only the first ``lengths[b]`` frames.

    Args:
        x: features (B, C, N).
        lengths: valid frames per item (B,), or ``None`` for all N.

    Returns:
        (B, C).
    """
    if lengths is None:
        return x.mean(dim=-1)
    lengths = lengths.to(x.device).clamp(min=1, max=x.shape[-1])
    valid = torch.arange(x.shape[-1], device=x.device) < lengths.unsqueeze(1)  # True = keep
    summed = (x * valid.unsqueeze(1).to(x.dtype)).sum(dim=-1)
    return summed / lengths.unsqueeze(1).to(x.dtype)


def _check_lengths(lengths: Tensor | None, batch_size: int, max_length: int, name: str) -> None:
    if lengths is None:
        return
    if not isinstance(lengths, Tensor) or lengths.shape != (batch_size,):
        raise ParameterError(f"{name} must be a LongTensor of shape (B,)=({batch_size},)")
    if lengths.numel() and (int(lengths.min()) < 1 or int(lengths.max()) > max_length):
        raise ParameterError(
            f"{name}={lengths.tolist()} must lie in [1, {max_length}] (the padded length)"
        )


class SoundNetEncoder(nn.Module):
    """SoundNet-style 1-D CNN on raw waveforms.

    Each layer is Conv1d(kernel k, stride s, padding k // 2) → BatchNorm1d → ReLU, followed by
    MaxPool1d(p) when its pool size p > 1; features are averaged over the remaining frames.

    Args:
        in_channels: C of the waveform (1 for mono).
        channels: output channels of each conv layer.
        kernel_sizes: kernel of each layer.
        strides: stride of each layer.
        pool_sizes: max-pool size after each layer (1 = none).

    Shapes:
        forward: waveform (B, T) or (B, C, T), waveform_lengths (B,) → features (B, D) with
        D = ``channels[-1]``. The frame count after the stack is :meth:`output_length` (T);
        inputs shorter than :attr:`min_length` samples raise ParameterError.
    """

    def __init__(
        self,
        *,
        in_channels: int = 1,
        channels: Sequence[int] = (16, 32, 64, 128, 256),
        kernel_sizes: Sequence[int] = (64, 32, 16, 8, 4),
        strides: Sequence[int] = (2, 2, 2, 2, 2),
        pool_sizes: Sequence[int] = (8, 8, 1, 1, 4),
    ) -> None:
        super().__init__()
        (in_channels,) = _positive_ints("in_channels", (in_channels,))
        self.channels = _positive_ints("channels", channels)
        self.kernel_sizes = _positive_ints("kernel_sizes", kernel_sizes)
        self.strides = _positive_ints("strides", strides)
        self.pool_sizes = _positive_ints("pool_sizes", pool_sizes)
        n = len(self.channels)
        if not len(self.kernel_sizes) == len(self.strides) == len(self.pool_sizes) == n:
            raise ParameterError(
                f"kernel_sizes, strides and pool_sizes must each have len(channels)={n} entries"
            )
        self.in_channels = in_channels
        layers: list[nn.Module] = []
        previous = in_channels
        for width, kernel, stride, pool in zip(
            self.channels, self.kernel_sizes, self.strides, self.pool_sizes
        ):
            layers += [
                nn.Conv1d(previous, width, kernel, stride=stride, padding=kernel // 2),
                nn.BatchNorm1d(width),
                nn.ReLU(inplace=True),
            ]
            if pool > 1:
                layers.append(nn.MaxPool1d(pool))
            previous = width
        self.layers = nn.Sequential(*layers)
        self.output_dim = previous
        self.min_length = self._find_min_length()

    def output_length(self, length: int | Tensor) -> int | Tensor:
        """Frames after the stack for ``length`` input samples (int or LongTensor (B,))."""
        for kernel, stride, pool in zip(self.kernel_sizes, self.strides, self.pool_sizes):
            # a layer needs at least one input frame; once 0, every later layer stays 0
            after = ((length + 2 * (kernel // 2) - kernel) // stride + 1) // pool
            if isinstance(length, Tensor):
                length = torch.where(length >= 1, after, torch.zeros_like(after))
            else:
                length = after if length >= 1 else 0
        return length

    def _find_min_length(self) -> int:
        low, high = 1, 1
        while self.output_length(high) < 1:
            high *= 2
        while low < high:
            mid = (low + high) // 2
            if self.output_length(mid) >= 1:
                high = mid
            else:
                low = mid + 1
        return low

    def forward(self, waveform: Tensor, waveform_lengths: Tensor | None = None) -> Tensor:
        """Features (B, D) of waveforms (B, T) or (B, C, T) with valid lengths (B,)."""
        if waveform.dim() == 2 and self.in_channels == 1:
            waveform = waveform.unsqueeze(1)
        if waveform.dim() != 3 or waveform.shape[1] != self.in_channels:
            raise ParameterError(
                f"waveform of shape {tuple(waveform.shape)} must be (B, T) or "
                f"(B, C={self.in_channels}, T)"
            )
        length = waveform.shape[-1]
        if length < self.min_length:
            raise ParameterError(
                f"waveform length T={length} is shorter than this encoder's minimum input of "
                f"{self.min_length} samples"
            )
        _check_lengths(waveform_lengths, waveform.shape[0], length, "waveform_lengths")
        features = self.layers(waveform)  # (B, D, N)
        frame_lengths = None
        if waveform_lengths is not None:
            frame_lengths = self.output_length(waveform_lengths.to(torch.long))
        return masked_mean(features, frame_lengths)


class LogMelEncoder(nn.Module):
    """2-D CNN on log-mel spectrograms (VGG-ish blocks, then time averaging).

    Each block is Conv2d(3 × 3) → BatchNorm2d → ReLU → MaxPool2d(2); after the blocks the
    frequency axis is averaged, then the valid frames.

    Args:
        n_mels: M, the mel bins of the input (at least ``2 ** len(channels)``).
        channels: output channels of each block.

    Shapes:
        forward: mel (B, M, N), mel_lengths (B,) → features (B, D) with D = ``channels[-1]``.
        N must be at least :attr:`min_frames` = ``2 ** len(channels)``.
    """

    def __init__(self, *, n_mels: int = 40, channels: Sequence[int] = (16, 32, 64)) -> None:
        super().__init__()
        (n_mels,) = _positive_ints("n_mels", (n_mels,))
        self.channels = _positive_ints("channels", channels)
        self.min_frames = 2 ** len(self.channels)
        if n_mels < self.min_frames:
            raise ParameterError(
                f"n_mels={n_mels} must be at least 2 ** len(channels) = {self.min_frames}"
            )
        self.n_mels = n_mels
        blocks: list[nn.Module] = []
        previous = 1
        for width in self.channels:
            blocks += [
                nn.Conv2d(previous, width, 3, padding=1),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            ]
            previous = width
        self.blocks = nn.Sequential(*blocks)
        self.output_dim = previous

    def output_length(self, frames: int | Tensor) -> int | Tensor:
        """Frames after the blocks for ``frames`` input frames."""
        return frames // self.min_frames

    def forward(self, mel: Tensor, mel_lengths: Tensor | None = None) -> Tensor:
        """Features (B, D) of log-mel spectrograms (B, M, N) with valid frames (B,)."""
        if mel.dim() != 3 or mel.shape[1] != self.n_mels:
            raise ParameterError(f"mel of shape {tuple(mel.shape)} must be (B, M={self.n_mels}, N)")
        frames = mel.shape[-1]
        if frames < self.min_frames:
            raise ParameterError(
                f"mel with N={frames} frames is shorter than this encoder's minimum of "
                f"{self.min_frames} frames"
            )
        _check_lengths(mel_lengths, mel.shape[0], frames, "mel_lengths")
        features = self.blocks(mel.unsqueeze(1)).mean(dim=2)  # (B, D, N')
        frame_lengths = None
        if mel_lengths is not None:
            frame_lengths = self.output_length(mel_lengths.to(torch.long))
        return masked_mean(features, frame_lengths)
