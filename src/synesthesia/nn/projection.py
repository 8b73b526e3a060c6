"""Projection heads: features → L2-normalised embeddings on the unit sphere.

References:
    Chen et al., "A Simple Framework for Contrastive Learning of Visual Representations"
    (SimCLR), ICML 2020 (MLP projection head); Radford et al. (CLIP), ICML 2021 (linear
    projection to a shared, normalised embedding space).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from synesthesia.errors import ParameterError

__all__ = ["ProjectionHead"]


class ProjectionHead(nn.Module):
    """MLP (Linear → ReLU)* → Linear, then L2 normalisation.

    Args:
        in_dim: D of the input features.
        embedding_dim: E of the output embedding.
        hidden_dim: width of the hidden layers (defaults to ``in_dim``).
        num_layers: number of Linear layers (1 = a linear projection).
        dropout: dropout before each hidden ReLU's output is used (0 = none).

    Shapes:
        forward: features (B, D) → unit-norm embeddings (B, E).
    """

    def __init__(
        self,
        in_dim: int,
        *,
        embedding_dim: int = 128,
        hidden_dim: int | None = None,
        num_layers: int = 2,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        hidden_dim = in_dim if hidden_dim is None else hidden_dim
        for name, value in (
            ("in_dim", in_dim),
            ("embedding_dim", embedding_dim),
            ("hidden_dim", hidden_dim),
            ("num_layers", num_layers),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ParameterError(f"{name}={value!r} must be a positive integer")
        if not 0.0 <= dropout < 1.0:
            raise ParameterError(f"dropout={dropout!r} must lie in [0, 1)")
        layers: list[nn.Module] = []
        previous = in_dim
        for _ in range(num_layers - 1):
            layers += [nn.Linear(previous, hidden_dim), nn.ReLU(inplace=True)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            previous = hidden_dim
        layers.append(nn.Linear(previous, embedding_dim))
        self.mlp = nn.Sequential(*layers)
        self.embedding_dim = embedding_dim

    def forward(self, features: Tensor) -> Tensor:
        """Unit-norm embeddings (B, E) of features (B, D)."""
        return F.normalize(self.mlp(features), dim=-1)
