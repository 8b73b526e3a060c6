"""FaceEncoder: the Speech2Face face network (image CNN → E-dim face feature → identity logits).

In Speech2Face a pretrained face recognition network (VGG-Face) gives the face feature that
the voice encoder learns to predict and that the face decoder turns back into a face. Here
that network is ours: a :class:`~synesthesia.nn.ConvImageEncoder` (3 × 3 conv blocks + global
mean), a linear layer to the E-dim feature, and a classifier over the training identities
trained with cross-entropy (:class:`~synesthesia.training.speech2face` stage "face"). With
``attribute_classes`` it is also an attribute classifier: one linear head per attribute on the
same feature, trained beside the identities, so that the feature carries the attributes (the
face decoder draws them back, the voice encoder learns to predict them). ``grid`` keeps a
coarse layout in the feature (see :class:`~synesthesia.nn.ConvImageEncoder`).

References:
    Oh et al., "Speech2Face", CVPR 2019 (the face feature: VGG-Face fc7, 4096-d; the
    distillation targets: its classification logits); Parkhi, Vedaldi & Zisserman, "Deep
    Face Recognition", BMVC 2015.
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

__all__ = ["FaceEncoder"]


class FaceEncoder(PretrainedModel):
    """Conv blocks → global mean (or a G × G grid) → Linear(D, E) = face feature → dropout →
    Linear(E, K) (+ one Linear(E, V_a) per attribute).

    Args:
        num_classes: K, the identities (or attribute classes) of the classifier.
        embedding_dim: E, the face feature's width.
        in_channels: C of the images.
        channels: output channels of each conv block.
        dropout: dropout before the classifier(s).
        grid: ``None`` (global mean) or G: pool the last conv map to G × G cells.
        attribute_classes: V_a, the number of values of each attribute head (empty: none).

    Shapes:
        forward: images (B, C, H, W) → (features (B, E), logits (B, K)).
        features: → (B, E); classify: features (B, E) → logits (B, K);
        classify_attributes: features (B, E) → [logits (B, V_a) per attribute].
    """

    architecture = "face_encoder"

    def __init__(
        self,
        *,
        num_classes: int = 10,
        embedding_dim: int = 64,
        in_channels: int = 3,
        channels: Sequence[int] = (32, 64, 128, 128),
        dropout: float = 0.1,
        grid: int | None = None,
        attribute_classes: Sequence[int] = (),
    ) -> None:
        super().__init__()
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise ParameterError(f"num_classes={num_classes!r} must be an integer >= 2")
        if (
            isinstance(embedding_dim, bool)
            or not isinstance(embedding_dim, int)
            or embedding_dim < 1
        ):
            raise ParameterError(f"embedding_dim={embedding_dim!r} must be a positive integer")
        if not 0.0 <= dropout < 1.0:
            raise ParameterError(f"dropout={dropout!r} must lie in [0, 1)")
        self.num_classes, self.embedding_dim, self.in_channels = (
            num_classes,
            embedding_dim,
            in_channels,
        )
        self.channels, self.dropout_p = tuple(channels), float(dropout)
        attribute_classes = tuple(attribute_classes)
        if any(isinstance(v, bool) or not isinstance(v, int) or v < 2 for v in attribute_classes):
            raise ParameterError(
                f"attribute_classes={attribute_classes!r} must be integers >= 2 (values of each)"
            )
        self.grid, self.attribute_classes = grid, attribute_classes
        self.encoder = ConvImageEncoder(in_channels=in_channels, channels=self.channels, grid=grid)
        self.project = nn.Linear(self.encoder.output_dim, embedding_dim)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(embedding_dim, num_classes)
        self.attribute_heads = nn.ModuleList(
            nn.Linear(embedding_dim, values) for values in attribute_classes
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "num_classes": self.num_classes,
            "embedding_dim": self.embedding_dim,
            "in_channels": self.in_channels,
            "channels": list(self.channels),
            "dropout": self.dropout_p,
            **({"grid": self.grid} if self.grid is not None else {}),
            **(
                {"attribute_classes": list(self.attribute_classes)}
                if self.attribute_classes
                else {}
            ),
        }

    def features(self, images: Tensor) -> Tensor:
        """Face features (B, E) of images (B, C, H, W) in [0, 1]."""
        return self.project(self.encoder(images))

    def classify(self, features: Tensor) -> Tensor:
        """Logits (B, K) of face features (B, E) (the distillation targets)."""
        return self.classifier(self.dropout(features))

    def classify_attributes(self, features: Tensor) -> list[Tensor]:
        """One logits tensor (B, V_a) per attribute head of face features (B, E)."""
        dropped = self.dropout(features)
        return [head(dropped) for head in self.attribute_heads]

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """(features (B, E), logits (B, K)) of images (B, C, H, W)."""
        features = self.features(images)
        return features, self.classify(features)

    @torch.no_grad()
    def infer(self, images: Tensor) -> Tensor:
        """Face features (B, E), no grad (call ``eval()`` first)."""
        return self.features(images)

    def example_inputs(self, batch_size: int = 2) -> dict[str, Tensor]:
        device = next(self.parameters()).device
        return {"images": torch.rand(batch_size, self.in_channels, 16, 16, device=device)}


register_model("face_encoder_tiny", FaceEncoder, num_classes=3, embedding_dim=8, channels=(4, 8))
register_model("face_encoder_small", FaceEncoder, channels=(16, 32, 64, 64))
