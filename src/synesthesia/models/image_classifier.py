"""ImageClassifier: a small image CNN with a linear classifier (the visual teacher).

In the SoundNet recipe a visual network that already recognises scenes labels unlabeled video
frames; its class posteriors become the training targets of an audio network. Here the
teacher is a :class:`~synesthesia.nn.ConvImageEncoder` + Linear, trained on labelled images.

References:
    Aytar, Vondrick & Torralba, "SoundNet", NeurIPS 2016 (visual teachers: ImageNet and
    Places CNNs); Simonyan & Zisserman, ICLR 2015 (3 × 3 conv blocks).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from synesthesia.errors import ParameterError
from synesthesia.models.base import PretrainedModel
from synesthesia.models.registry import register_model
from synesthesia.nn.image_encoders import ConvImageEncoder

__all__ = ["ImageClassifier"]


class ImageClassifier(PretrainedModel):
    """Conv blocks → global mean → dropout → Linear(D, K).

    Args:
        num_classes: K.
        in_channels: C of the images.
        channels: output channels of each conv block.
        dropout: dropout before the classifier.

    Shapes:
        forward: images (B, C, H, W) → logits (B, K).
    """

    architecture = "image_classifier"

    def __init__(
        self,
        *,
        num_classes: int = 6,
        in_channels: int = 3,
        channels: Sequence[int] = (32, 64, 128),
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise ParameterError(f"num_classes={num_classes!r} must be an integer >= 2")
        if not 0.0 <= dropout < 1.0:
            raise ParameterError(f"dropout={dropout!r} must lie in [0, 1)")
        self.num_classes, self.in_channels = num_classes, in_channels
        self.channels, self.dropout_p = tuple(channels), float(dropout)
        self.encoder = ConvImageEncoder(in_channels=in_channels, channels=self.channels)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(self.encoder.output_dim, num_classes)

    def get_config(self) -> dict[str, Any]:
        return {
            "num_classes": self.num_classes,
            "in_channels": self.in_channels,
            "channels": list(self.channels),
            "dropout": self.dropout_p,
        }

    def forward(self, images: Tensor) -> Tensor:
        """Logits (B, K) of images (B, C, H, W)."""
        return self.classifier(self.dropout(self.encoder(images)))

    @torch.no_grad()
    def infer(self, images: Tensor) -> Tensor:
        """Class probabilities (B, K), no grad."""
        return torch.softmax(self(images), dim=-1)

    def example_inputs(self, batch_size: int = 2) -> dict[str, Tensor]:
        device = next(self.parameters()).device
        return {"images": torch.rand(batch_size, self.in_channels, 16, 16, device=device)}


register_model("image_classifier_tiny", ImageClassifier, num_classes=3, channels=(8, 16))
register_model("scene_teacher_small", ImageClassifier, num_classes=6, channels=(16, 32, 64))
