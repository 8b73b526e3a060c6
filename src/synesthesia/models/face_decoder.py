"""FaceDecoder: a face feature → a canonical, front-facing face image.

The Speech2Face face decoder maps a face feature to a normalised face (front-facing, neutral
expression); the paper predicts landmarks and a texture and warps one onto the other. This
scaled-down decoder predicts the pixels directly: a linear layer to a 4 × 4 map, then
[nearest ×2 upsampling → 3 × 3 conv → batch norm → ReLU] blocks, then a 1 × 1 conv and a
sigmoid. It is trained on a frozen face encoder's features (L1 on pixels, optionally a
feature term), so any feature in that space — from a face or from a voice — decodes.

References:
    Oh et al., "Speech2Face", CVPR 2019 (face decoder, trained separately on the frozen face
    features); Cole et al., "Synthesizing Normalized Faces from Facial Identity Features",
    CVPR 2017 (the decoder design the paper follows).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from synesthesia.errors import ParameterError
from synesthesia.models.base import PretrainedModel
from synesthesia.models.registry import register_model

__all__ = ["FaceDecoder"]


class FaceDecoder(PretrainedModel):
    """Linear(E, C₀·4·4) → [Upsample ×2 → Conv 3×3 → BatchNorm → ReLU] per channel → 1×1 conv
    → sigmoid.

    Args:
        embedding_dim: E, the face feature's width.
        channels: C₀ (the 4 × 4 map) and each block's output channels; the image side is
            ``4 · 2 ** (len(channels) - 1)`` (64 for five entries).
        out_channels: C of the images (3 = RGB).

    Shapes:
        forward: features (B, E) → images (B, C, S, S) in [0, 1].
    """

    architecture = "face_decoder"

    def __init__(
        self,
        *,
        embedding_dim: int = 64,
        channels: Sequence[int] = (128, 128, 64, 32, 16),
        out_channels: int = 3,
    ) -> None:
        super().__init__()
        channels = tuple(channels)
        if len(channels) < 2 or any(
            isinstance(c, bool) or not isinstance(c, int) or c < 1 for c in channels
        ):
            raise ParameterError(f"channels={channels!r} must hold at least 2 positive integers")
        if (
            isinstance(embedding_dim, bool)
            or not isinstance(embedding_dim, int)
            or embedding_dim < 1
        ):
            raise ParameterError(f"embedding_dim={embedding_dim!r} must be a positive integer")
        if isinstance(out_channels, bool) or not isinstance(out_channels, int) or out_channels < 1:
            raise ParameterError(f"out_channels={out_channels!r} must be a positive integer")
        self.embedding_dim, self.channels, self.out_channels = embedding_dim, channels, out_channels
        self.image_size = 4 * 2 ** (len(channels) - 1)
        self.project = nn.Linear(embedding_dim, channels[0] * 16)
        blocks: list[nn.Module] = []
        for previous, width in zip(channels[:-1], channels[1:]):
            blocks += [
                nn.Upsample(scale_factor=2, mode="nearest"),
                nn.Conv2d(previous, width, 3, padding=1),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
            ]
        self.blocks = nn.Sequential(*blocks)
        self.to_pixels = nn.Conv2d(channels[-1], out_channels, 1)

    def get_config(self) -> dict[str, Any]:
        return {
            "embedding_dim": self.embedding_dim,
            "channels": list(self.channels),
            "out_channels": self.out_channels,
        }

    def forward(self, features: Tensor) -> Tensor:
        """Images (B, C, S, S) in [0, 1] of face features (B, E)."""
        if features.dim() != 2 or features.shape[-1] != self.embedding_dim:
            raise ParameterError(
                f"features of shape {tuple(features.shape)} must be (B, E={self.embedding_dim})"
            )
        x = torch.relu(self.project(features)).view(-1, self.channels[0], 4, 4)  # (B, C₀, 4, 4)
        return torch.sigmoid(self.to_pixels(self.blocks(x)))  # (B, C, S, S)

    @torch.no_grad()
    def infer(self, features: Tensor) -> Tensor:
        """:meth:`forward` without gradients (call ``eval()`` first)."""
        return self(features)

    def example_inputs(self, batch_size: int = 2) -> dict[str, Tensor]:
        device = next(self.parameters()).device
        return {"features": torch.randn(batch_size, self.embedding_dim, device=device)}


register_model("face_decoder_tiny", FaceDecoder, embedding_dim=8, channels=(8, 4, 4))
register_model("face_decoder_small", FaceDecoder, channels=(64, 64, 32, 16, 8))
register_model("face_decoder_base", FaceDecoder, channels=(128, 128, 64, 32, 16))
