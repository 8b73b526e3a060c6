"""Module twins of :mod:`synesthesia.functional.metric_losses`.

:class:`InfoNCELoss` owns a learnable temperature (CLIP); the pair and triplet losses store
their settings only and call the functional 1:1 (they live here beside it, as torch keeps its
losses in ``torch.nn``).

References:
    Hadsell et al. 2006; Schroff et al. (FaceNet) 2015; Hermans et al. 2017; Radford et al.
    (CLIP) 2021; pytorch-metric-learning 2.x.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from synesthesia.errors import ParameterError
from synesthesia.functional.metric_losses import (
    DISTANCES,
    MINING_STRATEGIES,
    REDUCTIONS,
    _check_choice,
    _check_flag,
    _check_margin,
    contrastive_loss,
    info_nce_loss,
    triplet_margin_loss,
)

__all__ = ["ContrastiveLoss", "InfoNCELoss", "TripletMarginLoss"]


class ContrastiveLoss(nn.Module):
    """Contrastive loss over all pairs of a labelled batch; see :func:`contrastive_loss`.

    Args:
        margin: distance beyond which negatives cost nothing.
        distance: "euclidean", "squared_euclidean" or "cosine".
        normalize_embeddings: L2-normalise the embeddings before a (squared) Euclidean
            distance, as pytorch-metric-learning's default ``LpDistance()``; default
            ``False`` (raw embeddings, ``LpDistance(normalize_embeddings=False)``).
        reduction: "mean_nonzero", "mean", "sum" or "none".
    """

    def __init__(
        self,
        *,
        margin: float = 1.0,
        distance: str = "euclidean",
        normalize_embeddings: bool = False,
        reduction: str = "mean_nonzero",
    ) -> None:
        super().__init__()
        _check_margin(margin)
        _check_choice("distance", distance, DISTANCES)
        _check_flag("normalize_embeddings", normalize_embeddings)
        _check_choice("reduction", reduction, REDUCTIONS)
        self.margin, self.distance, self.reduction = margin, distance, reduction
        self.normalize_embeddings = normalize_embeddings

    def forward(self, embeddings: Tensor, labels: Tensor) -> Tensor:
        """Loss of embeddings (B, E) with labels (B,)."""
        return contrastive_loss(
            embeddings,
            labels,
            margin=self.margin,
            distance=self.distance,
            normalize_embeddings=self.normalize_embeddings,
            reduction=self.reduction,
        )

    def extra_repr(self) -> str:
        return (
            f"margin={self.margin}, distance={self.distance!r}, "
            f"normalize_embeddings={self.normalize_embeddings}, reduction={self.reduction!r}"
        )


class TripletMarginLoss(nn.Module):
    """Triplet margin loss with in-batch mining; see :func:`triplet_margin_loss`.

    Args:
        margin: required gap between negative and positive distance.
        mining: "batch_all", "hard", "semihard" or "batch_hard".
        distance: "euclidean", "squared_euclidean" or "cosine".
        normalize_embeddings: L2-normalise the embeddings before a (squared) Euclidean
            distance, for mining and loss, as pytorch-metric-learning's default
            ``LpDistance()``; default ``False`` (raw embeddings).
        reduction: "mean_nonzero", "mean", "sum" or "none".
    """

    def __init__(
        self,
        *,
        margin: float = 0.2,
        mining: str = "batch_all",
        distance: str = "euclidean",
        normalize_embeddings: bool = False,
        reduction: str = "mean_nonzero",
    ) -> None:
        super().__init__()
        _check_margin(margin)
        _check_choice("mining", mining, MINING_STRATEGIES)
        _check_choice("distance", distance, DISTANCES)
        _check_flag("normalize_embeddings", normalize_embeddings)
        _check_choice("reduction", reduction, REDUCTIONS)
        self.margin, self.mining, self.distance, self.reduction = (
            margin,
            mining,
            distance,
            reduction,
        )
        self.normalize_embeddings = normalize_embeddings

    def forward(self, embeddings: Tensor, labels: Tensor) -> Tensor:
        """Loss of embeddings (B, E) with labels (B,)."""
        return triplet_margin_loss(
            embeddings,
            labels,
            margin=self.margin,
            mining=self.mining,
            distance=self.distance,
            normalize_embeddings=self.normalize_embeddings,
            reduction=self.reduction,
        )

    def extra_repr(self) -> str:
        return (
            f"margin={self.margin}, mining={self.mining!r}, distance={self.distance!r}, "
            f"normalize_embeddings={self.normalize_embeddings}, reduction={self.reduction!r}"
        )


class InfoNCELoss(nn.Module):
    """Symmetric InfoNCE (CLIP) with a learnable temperature; see :func:`info_nce_loss`.

    The parameter is ``log_logit_scale = log(1 / temperature)`` (CLIP's parameterisation); the
    scale used is ``min(exp(log_logit_scale), max_logit_scale)``, so it cannot exceed 100 by
    default (and gets no gradient while clamped).

    Args:
        temperature: initial temperature (CLIP: 0.07).
        learnable: whether the temperature is a trainable parameter (else a buffer).
        max_logit_scale: clamp of the inverse temperature (CLIP: 100).
        reduction: "mean", "sum" or "none".
    """

    def __init__(
        self,
        *,
        temperature: float = 0.07,
        learnable: bool = True,
        max_logit_scale: float = 100.0,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        if not isinstance(temperature, (int, float)) or temperature <= 0:
            raise ParameterError(f"temperature={temperature!r} must be a positive number")
        if not isinstance(max_logit_scale, (int, float)) or max_logit_scale <= 0:
            raise ParameterError(f"max_logit_scale={max_logit_scale!r} must be a positive number")
        _check_choice("reduction", reduction, ("mean", "sum", "none"))
        value = torch.tensor(math.log(1.0 / temperature), dtype=torch.get_default_dtype())
        if learnable:
            self.log_logit_scale = nn.Parameter(value)
        else:
            self.register_buffer("log_logit_scale", value)
        self.max_logit_scale = float(max_logit_scale)
        self.reduction = reduction

    @property
    def logit_scale(self) -> Tensor:
        """The inverse temperature in use, ``min(exp(log_logit_scale), max_logit_scale)``."""
        return self.log_logit_scale.exp().clamp(max=self.max_logit_scale)

    @property
    def temperature(self) -> float:
        """The temperature in use, ``1 / logit_scale``."""
        return 1.0 / float(self.logit_scale.detach())

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        """Loss of paired embeddings x (B, E) and y (B, E)."""
        scale = self.logit_scale.to(x.dtype)
        return info_nce_loss(x, y, logit_scale=scale, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"max_logit_scale={self.max_logit_scale}, reduction={self.reduction!r}"
