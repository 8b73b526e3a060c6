"""VoiceEncoder: the Speech2Face voice encoder (log-mel CNN → pooled over time → face feature).

A scaled-down version of the paper's voice encoder: 2-D conv blocks over the log-mel
spectrogram (the paper uses the complex spectrogram of 6 s of speech), pooling in frequency
and time, an average over the remaining time steps, then two fully connected layers that
regress the E-dim face feature of the speaker.

Variable-length clips travel with ``waveform_lengths``: only the frames whose analysis window
lies inside the clip count (see :meth:`VoiceEncoder.frame_lengths`), every block zeroes the
frames past each clip's end, and the time average is masked — so a clip padded with anything
gives the same feature as the clip alone (in eval mode).

References:
    Oh et al., "Speech2Face: Learning the Face Behind a Voice", CVPR 2019 (voice encoder:
    conv + batch norm + ReLU blocks with max pooling, average pooling over time, two FC
    layers predicting the face feature).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from synesthesia.config import AudioConfig
from synesthesia.errors import ParameterError
from synesthesia.functional._checks import check_min_samples
from synesthesia.functional.attention import lengths_to_mask
from synesthesia.models.base import PretrainedModel
from synesthesia.models.registry import register_model
from synesthesia.transforms.audio import LogMelSpectrogram

__all__ = ["VoiceEncoder", "default_voice_audio_config"]


def default_voice_audio_config() -> AudioConfig:
    """16 kHz, 25 ms windows every 10 ms, 40 mel bands (the voice encoder's analysis)."""
    return AudioConfig(
        sample_rate=16000, n_fft=512, hop_length=160, win_length=400, n_mels=40, f_max=8000.0
    )


def _positive_ints(name: str, values: Sequence[int]) -> tuple[int, ...]:
    values = tuple(values)
    if not values or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in values):
        raise ParameterError(f"{name}={values!r} must be a non-empty sequence of positive integers")
    return values


class VoiceEncoder(PretrainedModel):
    """Log-mel → [Conv2d 3×3 → BatchNorm → ReLU → MaxPool] × len(channels) → masked time mean
    → Linear → ReLU → Linear → face feature.

    Args:
        audio_config: the log-mel analysis (:func:`default_voice_audio_config`).
        channels: output channels of each conv block.
        freq_pools: max-pool factor along mel bins after each block.
        time_pools: max-pool factor along frames after each block.
        hidden_dim: width of the first fully connected layer.
        embedding_dim: E, the face feature's width.
        mel_mean: subtracted from the log-mel before the convs.
        mel_std: the log-mel is divided by it after the shift.

    Shapes:
        forward: waveform (B, T), waveform_lengths (B,) → features (B, E).
    """

    architecture = "voice_encoder"

    def __init__(
        self,
        *,
        audio_config: AudioConfig | dict | None = None,
        channels: Sequence[int] = (32, 64, 128, 128),
        freq_pools: Sequence[int] = (2, 2, 2, 1),
        time_pools: Sequence[int] = (2, 2, 2, 1),
        hidden_dim: int = 256,
        embedding_dim: int = 64,
        mel_mean: float = -5.0,
        mel_std: float = 3.0,
    ) -> None:
        super().__init__()
        if audio_config is None:
            audio_config = default_voice_audio_config()
        elif isinstance(audio_config, dict):
            audio_config = AudioConfig.from_dict(audio_config)
        if not isinstance(audio_config, AudioConfig):
            raise ParameterError(f"audio_config={audio_config!r} must be an AudioConfig")
        if not audio_config.center:
            raise ParameterError(
                "audio_config.center=False is not supported (frames must be centred)"
            )
        channels = _positive_ints("channels", channels)
        freq_pools = _positive_ints("freq_pools", freq_pools)
        time_pools = _positive_ints("time_pools", time_pools)
        if not len(channels) == len(freq_pools) == len(time_pools):
            raise ParameterError(
                f"channels={channels}, freq_pools={freq_pools} and time_pools={time_pools} "
                "must have the same length"
            )
        for name, value in (("hidden_dim", hidden_dim), ("embedding_dim", embedding_dim)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ParameterError(f"{name}={value!r} must be a positive integer")
        if not mel_std > 0:
            raise ParameterError(f"mel_std={mel_std!r} must be positive")
        bins = audio_config.n_mels
        for pool in freq_pools:
            bins //= pool
        if bins < 1:
            raise ParameterError(
                f"freq_pools={freq_pools} pool n_mels={audio_config.n_mels} below one bin"
            )
        self.audio_config = audio_config
        self.channels, self.freq_pools, self.time_pools = channels, freq_pools, time_pools
        self.hidden_dim, self.embedding_dim = hidden_dim, embedding_dim
        self.mel_mean, self.mel_std = float(mel_mean), float(mel_std)
        self.log_mel = LogMelSpectrogram.from_config(audio_config)
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        self.pools = nn.ModuleList()
        previous = 1
        for width, fp, tp in zip(channels, freq_pools, time_pools):
            self.convs.append(nn.Conv2d(previous, width, 3, padding=1))
            self.norms.append(nn.BatchNorm2d(width))
            self.pools.append(nn.MaxPool2d((fp, tp)))
            previous = width
        self.head = nn.Sequential(
            nn.Linear(previous * bins, hidden_dim),
            nn.ReLU(inplace=True),
            nn.Linear(hidden_dim, embedding_dim),
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "audio_config": self.audio_config,
            "channels": list(self.channels),
            "freq_pools": list(self.freq_pools),
            "time_pools": list(self.time_pools),
            "hidden_dim": self.hidden_dim,
            "embedding_dim": self.embedding_dim,
            "mel_mean": self.mel_mean,
            "mel_std": self.mel_std,
        }

    @property
    def sample_rate(self) -> int:
        """The rate clips must be at."""
        return self.audio_config.sample_rate

    @property
    def time_reduction(self) -> int:
        """Frames per output step (the product of ``time_pools``)."""
        out = 1
        for pool in self.time_pools:
            out *= pool
        return out

    @property
    def min_length(self) -> int:
        """The shortest clip (samples) that leaves at least one output step."""
        c = self.audio_config
        return (self.time_reduction - 1) * c.hop_length + c.n_fft // 2 + 1

    def frame_lengths(self, waveform_lengths: Tensor) -> Tensor:
        """Valid frames (B,) of clips of ``waveform_lengths`` (B,) samples: the frames whose
        centred window ends inside the clip, ``N = (T - n_fft // 2) // hop_length + 1``."""
        c = self.audio_config
        return ((waveform_lengths - c.n_fft // 2).clamp(min=-c.hop_length) // c.hop_length) + 1

    def forward(self, waveform: Tensor, waveform_lengths: Tensor | None = None) -> Tensor:
        """Face features (B, E) of clips (B, T) (``waveform_lengths`` (B,) when padded)."""
        if waveform.dim() != 2:
            raise ParameterError(f"waveform of shape {tuple(waveform.shape)} must be (B, T)")
        batch, length = waveform.shape
        if waveform_lengths is None:
            waveform_lengths = torch.full(
                (batch,), length, dtype=torch.long, device=waveform.device
            )
        elif waveform_lengths.shape != (batch,) or int(waveform_lengths.max()) > length:
            raise ParameterError(
                f"waveform_lengths={waveform_lengths.tolist()} must be ({batch},) values "
                f"<= T={length}"
            )
        shortest = int(waveform_lengths.min())
        check_min_samples(
            shortest, self.min_length, sample_rate=self.sample_rate, what="the voice encoder"
        )
        frames = self.frame_lengths(waveform_lengths)
        x = (self.log_mel(waveform) - self.mel_mean) / self.mel_std  # (B, M, N)
        x = x[:, None]  # (B, 1, M, N)
        for conv, norm, pool, step in zip(self.convs, self.norms, self.pools, self.time_pools):
            mask = lengths_to_mask(frames.clamp(max=x.shape[-1]), max_length=x.shape[-1])
            x = x * mask[:, None, None, :].to(x.dtype)  # zero the frames past each clip
            x = torch.relu(norm(conv(x)))
            x = pool(x)  # (B, C, M', N')
            frames = frames // step
        mask = lengths_to_mask(frames.clamp(max=x.shape[-1]), max_length=x.shape[-1]).to(x.dtype)
        x = x.flatten(1, 2)  # (B, C · M', N')
        pooled = (x * mask[:, None, :]).sum(-1) / mask.sum(-1, keepdim=True)  # (B, C · M')
        return self.head(pooled)

    @torch.no_grad()
    def infer(self, waveform: Tensor, waveform_lengths: Tensor | None = None) -> Tensor:
        """:meth:`forward` without gradients (call ``eval()`` first)."""
        return self(waveform, waveform_lengths)

    def example_inputs(self, batch_size: int = 2) -> dict[str, Tensor]:
        device = next(self.parameters()).device
        length = 2 * self.min_length
        lengths = torch.full((batch_size,), length, dtype=torch.long, device=device)
        lengths[-1] = self.min_length + 10
        return {
            "waveform": torch.randn(batch_size, length, device=device) * 0.1,
            "waveform_lengths": lengths,
        }


register_model(
    "voice_encoder_tiny",
    VoiceEncoder,
    audio_config=AudioConfig(
        sample_rate=8000, n_fft=256, hop_length=80, win_length=200, n_mels=16, f_max=4000.0
    ),
    channels=(4, 8),
    freq_pools=(2, 2),
    time_pools=(2, 2),
    hidden_dim=16,
    embedding_dim=8,
)
register_model("voice_encoder_small", VoiceEncoder, channels=(16, 32, 64, 64), hidden_dim=128)
