"""A linear probe: multinomial logistic regression on frozen features, fitted in torch.

Features are standardised with the training mean and standard deviation, then a linear layer
is fitted by L-BFGS on ``mean cross-entropy + l2 / 2 · ‖W‖²`` (the bias is not penalised) —
the objective of scikit-learn's ``LogisticRegression(C=1 / (n · l2))`` with the lbfgs solver.

References:
    SoundNet (Aytar et al., NeurIPS 2016) evaluates its audio features with linear
    classifiers on a few labels; scikit-learn ``LogisticRegression`` (the matched objective).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from synesthesia.errors import ParameterError

__all__ = ["LinearProbe"]


class LinearProbe(nn.Module):
    """Standardise features (buffers ``mean``, ``std``), then a Linear(D, K) layer.

    Args:
        in_dim: D, the feature width.
        num_classes: K.

    Shapes:
        forward: features (B, D) → logits (B, K).
    """

    def __init__(self, in_dim: int, num_classes: int) -> None:
        super().__init__()
        for name, value, low in (("in_dim", in_dim, 1), ("num_classes", num_classes, 2)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ParameterError(f"{name}={value!r} must be an integer >= {low}")
        self.in_dim, self.num_classes = in_dim, num_classes
        self.linear = nn.Linear(in_dim, num_classes)
        self.register_buffer("mean", torch.zeros(in_dim))
        self.register_buffer("std", torch.ones(in_dim))

    def forward(self, features: Tensor) -> Tensor:
        """Logits (B, K) of features (B, D)."""
        return self.linear((features - self.mean) / self.std)

    @torch.no_grad()
    def predict(self, features: Tensor) -> Tensor:
        """Class indices (B,)."""
        return self(features).argmax(dim=-1)

    def fit(
        self, features: Tensor, labels: Tensor, *, l2: float = 1e-2, max_iter: int = 200
    ) -> LinearProbe:
        """Fit to features (B, D) with labels (B,) in [0, K); returns ``self``.

        Args:
            features: training features (B, D); detached.
            labels: class indices (B,).
            l2: weight penalty (≥ 0) on the standardised-feature weights.
            max_iter: L-BFGS iterations.
        """
        if features.dim() != 2 or features.shape[1] != self.in_dim or len(features) < 2:
            raise ParameterError(
                f"features of shape {tuple(features.shape)} must be (B >= 2, D={self.in_dim})"
            )
        if labels.shape != (len(features),):
            raise ParameterError(f"labels of shape {tuple(labels.shape)} must be (B,)")
        if int(labels.min()) < 0 or int(labels.max()) >= self.num_classes:
            raise ParameterError(f"labels must lie in [0, num_classes={self.num_classes})")
        if isinstance(l2, bool) or not isinstance(l2, (int, float)) or l2 < 0:
            raise ParameterError(f"l2={l2!r} must be a number >= 0")
        if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
            raise ParameterError(f"max_iter={max_iter!r} must be a positive integer")
        features = features.detach().to(self.linear.weight.dtype)
        self.mean.copy_(features.mean(dim=0))
        self.std.copy_(features.std(dim=0).clamp(min=1e-6))
        x = (features - self.mean) / self.std
        labels = labels.to(features.device)
        with torch.no_grad():
            self.linear.weight.zero_()
            self.linear.bias.zero_()
        optimizer = torch.optim.LBFGS(
            self.linear.parameters(),
            lr=1.0,
            max_iter=max_iter,
            tolerance_grad=1e-10,
            tolerance_change=1e-14,
            history_size=20,
            line_search_fn="strong_wolfe",
        )

        def closure() -> Tensor:
            optimizer.zero_grad()
            logits = x @ self.linear.weight.T + self.linear.bias
            loss = torch.nn.functional.cross_entropy(logits, labels)
            loss = loss + 0.5 * l2 * self.linear.weight.pow(2).sum()
            loss.backward()
            return loss

        with torch.enable_grad():
            optimizer.step(closure)
        return self
