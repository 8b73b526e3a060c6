"""DualEncoder: audio and images mapped into one unit-norm embedding space.

Two towers: an audio encoder (a 2-D CNN on log-mel spectrograms, or a SoundNet-style 1-D CNN
on raw waveforms) and a small image CNN, each followed by an MLP projection head with L2
normalisation, so that matching audio and images lie close together on the unit sphere. Train
with :class:`synesthesia.nn.InfoNCELoss` (CLIP-style) or the pair/triplet losses on the
concatenated embeddings; retrieve with :func:`synesthesia.metrics.retrieval_metrics`.

References:
    Aytar, Vondrick & Torralba, "SoundNet", NeurIPS 2016; Arandjelović & Zisserman,
    "Objects that Sound", ECCV 2018 (audio and image towers into a shared embedding);
    Radford et al., "CLIP", ICML 2021 (symmetric contrastive training of two towers).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from synesthesia.errors import ParameterError
from synesthesia.models.base import PretrainedModel
from synesthesia.models.registry import register_model
from synesthesia.nn.audio_encoders import LogMelEncoder, SoundNetEncoder
from synesthesia.nn.image_encoders import ConvImageEncoder
from synesthesia.nn.projection import ProjectionHead

__all__ = ["DualEncoder"]

AUDIO_ENCODERS = ("logmel", "soundnet")


class DualEncoder(PretrainedModel):
    """Audio tower + image tower → unit-norm embeddings (B, E) in one space.

    Args:
        audio_encoder: "logmel" (audio input is a log-mel (B, M, N)) or "soundnet" (audio
            input is a waveform (B, T)).
        n_mels: M of the log-mel input ("logmel" only).
        audio_channels: channels of the audio encoder's layers.
        audio_kernel_sizes: SoundNet kernels ("soundnet" only; one per layer).
        audio_strides: SoundNet strides ("soundnet" only).
        audio_pool_sizes: SoundNet max-pool sizes ("soundnet" only).
        image_in_channels: C of the images.
        image_channels: channels of the image encoder's blocks.
        embedding_dim: E, the shared embedding width.
        projection_hidden_dim: hidden width of both projection heads.
        projection_num_layers: Linear layers per projection head.

    Shapes:
        encode_audio: (B, M, N) log-mel or (B, T) waveform, lengths (B,) → (B, E).
        encode_image: (B, C, H, W) → (B, E).
        forward: (audio, image) → (audio embeddings (B, E), image embeddings (B, E)).
    """

    architecture = "dual_encoder"

    def __init__(
        self,
        *,
        audio_encoder: str = "logmel",
        n_mels: int = 40,
        audio_channels: Sequence[int] = (32, 64, 128),
        audio_kernel_sizes: Sequence[int] = (64, 32, 16, 8, 4),
        audio_strides: Sequence[int] = (2, 2, 2, 2, 2),
        audio_pool_sizes: Sequence[int] = (8, 8, 1, 1, 4),
        image_in_channels: int = 3,
        image_channels: Sequence[int] = (32, 64, 128),
        embedding_dim: int = 64,
        projection_hidden_dim: int = 128,
        projection_num_layers: int = 2,
    ) -> None:
        super().__init__()
        if audio_encoder not in AUDIO_ENCODERS:
            raise ParameterError(
                f"audio_encoder={audio_encoder!r} must be one of {list(AUDIO_ENCODERS)}"
            )
        self.audio_encoder_name = audio_encoder
        self.n_mels = n_mels
        self.audio_channels = tuple(audio_channels)
        self.audio_kernel_sizes = tuple(audio_kernel_sizes)
        self.audio_strides = tuple(audio_strides)
        self.audio_pool_sizes = tuple(audio_pool_sizes)
        self.image_in_channels = image_in_channels
        self.image_channels = tuple(image_channels)
        self.embedding_dim = embedding_dim
        self.projection_hidden_dim = projection_hidden_dim
        self.projection_num_layers = projection_num_layers
        if audio_encoder == "logmel":
            self.audio_encoder = LogMelEncoder(n_mels=n_mels, channels=self.audio_channels)
        else:
            self.audio_encoder = SoundNetEncoder(
                channels=self.audio_channels,
                kernel_sizes=self.audio_kernel_sizes,
                strides=self.audio_strides,
                pool_sizes=self.audio_pool_sizes,
            )
        self.image_encoder = ConvImageEncoder(
            in_channels=image_in_channels, channels=self.image_channels
        )
        head = {
            "embedding_dim": embedding_dim,
            "hidden_dim": projection_hidden_dim,
            "num_layers": projection_num_layers,
        }
        self.audio_head = ProjectionHead(self.audio_encoder.output_dim, **head)
        self.image_head = ProjectionHead(self.image_encoder.output_dim, **head)

    def get_config(self) -> dict[str, Any]:
        return {
            "audio_encoder": self.audio_encoder_name,
            "n_mels": self.n_mels,
            "audio_channels": list(self.audio_channels),
            "audio_kernel_sizes": list(self.audio_kernel_sizes),
            "audio_strides": list(self.audio_strides),
            "audio_pool_sizes": list(self.audio_pool_sizes),
            "image_in_channels": self.image_in_channels,
            "image_channels": list(self.image_channels),
            "embedding_dim": self.embedding_dim,
            "projection_hidden_dim": self.projection_hidden_dim,
            "projection_num_layers": self.projection_num_layers,
        }

    @property
    def audio_input(self) -> str:
        """What :meth:`encode_audio` takes: "mel" (B, M, N) or "waveform" (B, T)."""
        return "mel" if self.audio_encoder_name == "logmel" else "waveform"

    def encode_audio(self, audio: Tensor, audio_lengths: Tensor | None = None) -> Tensor:
        """Unit-norm embeddings (B, E) of log-mels (B, M, N) or waveforms (B, T).

        Args:
            audio: a batch of log-mel spectrograms or waveforms (see :attr:`audio_input`).
            audio_lengths: valid frames (log-mel) or samples (waveform) per item (B,).
        """
        return self.audio_head(self.audio_encoder(audio, audio_lengths))

    def encode_image(self, image: Tensor) -> Tensor:
        """Unit-norm embeddings (B, E) of images (B, C, H, W)."""
        return self.image_head(self.image_encoder(image))

    def forward(
        self, audio: Tensor, image: Tensor, *, audio_lengths: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """Embeddings of paired audio and images: ((B, E), (B, E))."""
        return self.encode_audio(audio, audio_lengths), self.encode_image(image)

    @torch.no_grad()
    def infer(self, audio: Tensor, image: Tensor, *, audio_lengths: Tensor | None = None) -> Tensor:
        """Cosine similarity matrix (B_audio, B_image) between audio and images, no grad."""
        audio_embeddings, image_embeddings = self(audio, image, audio_lengths=audio_lengths)
        return audio_embeddings @ image_embeddings.transpose(0, 1)

    def example_inputs(self, batch_size: int = 2) -> dict[str, Tensor]:
        """Random inputs of a valid shape for smoke tests: {"audio": ..., "image": ...}."""
        if self.audio_input == "mel":
            audio = torch.randn(batch_size, self.n_mels, 4 * self.audio_encoder.min_frames)
        else:
            audio = torch.randn(batch_size, 2 * self.audio_encoder.min_length)
        image = torch.rand(batch_size, self.image_in_channels, 8, 8)
        device = next(self.parameters()).device
        return {"audio": audio.to(device), "image": image.to(device)}


register_model(
    "dual_encoder_tiny",
    DualEncoder,
    audio_encoder="logmel",
    n_mels=16,
    audio_channels=(8, 16),
    image_channels=(8, 16),
    embedding_dim=16,
    projection_hidden_dim=32,
)
register_model(
    "dual_encoder_soundnet_tiny",
    DualEncoder,
    audio_encoder="soundnet",
    audio_channels=(8, 8, 16),
    audio_kernel_sizes=(32, 16, 8),
    audio_strides=(2, 2, 2),
    audio_pool_sizes=(4, 4, 1),
    image_channels=(8, 16),
    embedding_dim=16,
    projection_hidden_dim=32,
)
register_model(
    "dual_encoder_small",
    DualEncoder,
    audio_encoder="logmel",
    n_mels=40,
    audio_channels=(32, 64, 128),
    image_channels=(32, 64, 128),
    embedding_dim=64,
    projection_hidden_dim=128,
)
register_model(
    "dual_encoder_soundnet_small",
    DualEncoder,
    audio_encoder="soundnet",
    audio_channels=(16, 32, 64, 128, 256),
    audio_kernel_sizes=(64, 32, 16, 8, 4),
    audio_strides=(2, 2, 2, 2, 2),
    audio_pool_sizes=(8, 8, 1, 1, 4),
    image_channels=(32, 64, 128),
    embedding_dim=64,
    projection_hidden_dim=128,
)
