"""Metric-learning losses: contrastive, triplet with mining, symmetric InfoNCE (CLIP).

All losses take a batch of embeddings ``(B, E)``; the pair and triplet losses also take integer
class ``labels`` ``(B,)`` and build every pair / triplet of the batch from them (items with the
same label are positives of each other; an item is never its own positive).

Distances (``distance=``):

- ``"euclidean"``: ``||x_i - y_j||_2`` (``torch.cdist``; its gradient at distance 0 is 0).
- ``"squared_euclidean"``: ``||x_i - y_j||_2^2``.
- ``"cosine"``: ``1 - cos(x_i, y_j)`` (the inputs are L2-normalised first), in ``[0, 2]``.

``normalize_embeddings`` (keyword, default ``False``): L2-normalise each row before a
(squared) Euclidean distance, as pytorch-metric-learning's
``LpDistance(normalize_embeddings=True)`` (PML's default) does. The default ``False`` uses the
raw embeddings (``LpDistance(normalize_embeddings=False)``): the two agree only on unit-norm
inputs, so pass the flag that matches the PML distance you compare with. ``"cosine"`` always
normalises (that is its definition), whatever the flag.

Reductions (``reduction=``), stated exactly because libraries differ:

- ``"mean_nonzero"`` (default; pytorch-metric-learning's ``AvgNonZeroReducer``): the mean over
  the terms whose loss is ``> 0``; ``0`` (still attached to the graph) when none is. For the
  contrastive loss positive and negative pairs are reduced separately and the two means added.
- ``"mean"``: the mean over all terms (pairs or mined triplets).
- ``"sum"``: the sum over all terms.
- ``"none"``: the 1-D tensor of per-term losses (ordered pairs ``(i, j)``, ``i != j``, in
  row-major order; triplets ``(a, p, n)`` in row-major order; one per anchor for batch-hard).

References:
    Hadsell, Chopra & LeCun, "Dimensionality Reduction by Learning an Invariant Mapping",
    CVPR 2006 (contrastive). Schroff, Kalenichenko & Philbin, "FaceNet", CVPR 2015 (triplet,
    semi-hard). Hermans, Beyer & Leibe, "In Defense of the Triplet Loss for Person
    Re-Identification", 2017 (batch-all, batch-hard). Oord, Li & Vinyals, "Representation
    Learning with Contrastive Predictive Coding", 2018 and Radford et al., "Learning
    Transferable Visual Models From Natural Language Supervision" (CLIP), ICML 2021 (symmetric
    InfoNCE). Behaviour matched: pytorch-metric-learning 2.x ``ContrastiveLoss``,
    ``TripletMarginLoss`` + ``TripletMarginMiner`` / ``BatchHardMiner``, ``NTXentLoss``.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torch import Tensor

from synesthesia.errors import ParameterError

__all__ = [
    "DISTANCES",
    "MINING_STRATEGIES",
    "REDUCTIONS",
    "contrastive_loss",
    "info_nce_loss",
    "mine_triplets",
    "pairwise_distances",
    "triplet_margin_loss",
]

DISTANCES = ("euclidean", "squared_euclidean", "cosine")
MINING_STRATEGIES = ("batch_all", "hard", "semihard", "batch_hard")
REDUCTIONS = ("mean_nonzero", "mean", "sum", "none")


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ParameterError(f"{name}={value!r} must be one of {list(choices)}")


def _check_embeddings(name: str, x: Tensor) -> None:
    if not isinstance(x, Tensor) or x.dim() != 2:
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ParameterError(f"{name} of shape {shape} must be a 2-D tensor (B, E)")
    if not x.is_floating_point():
        raise ParameterError(f"{name} of dtype {x.dtype} must be a floating-point tensor")


def _check_labels(embeddings: Tensor, labels: Tensor) -> None:
    if not isinstance(labels, Tensor) or labels.shape != embeddings.shape[:1]:
        shape = tuple(labels.shape) if isinstance(labels, Tensor) else type(labels).__name__
        raise ParameterError(
            f"labels of shape {shape} must be a 1-D tensor of length B={embeddings.shape[0]}"
        )
    if labels.is_floating_point() or labels.is_complex():
        raise ParameterError(f"labels of dtype {labels.dtype} must be an integer tensor")


def _check_flag(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise ParameterError(f"{name}={value!r} must be True or False")


def _check_margin(margin: float) -> None:
    if not isinstance(margin, (int, float)) or margin < 0:
        raise ParameterError(f"margin={margin!r} must be a non-negative number")


def pairwise_distances(
    x: Tensor,
    y: Tensor | None = None,
    *,
    distance: str = "euclidean",
    normalize_embeddings: bool = False,
) -> Tensor:
    """Distances between every row of ``x`` and every row of ``y``.

    Args:
        x: embeddings (B, E).
        y: embeddings (B', E); ``None`` means ``x``.
        distance: "euclidean", "squared_euclidean" or "cosine" (``1 - cosine similarity``).
        normalize_embeddings: L2-normalise the rows of ``x`` and ``y`` first (PML's
            ``LpDistance(normalize_embeddings=True)``); ``False`` (default) uses them as
            given. No effect on "cosine", which always normalises.

    Returns:
        Distance matrix (B, B').

    References:
        ``torch.cdist``; pytorch-metric-learning ``LpDistance(normalize_embeddings, p=2,
        power=1 or 2)`` / ``CosineSimilarity``.
    """
    _check_choice("distance", distance, DISTANCES)
    _check_flag("normalize_embeddings", normalize_embeddings)
    _check_embeddings("x", x)
    if y is None:
        y = x
    _check_embeddings("y", y)
    if x.shape[1] != y.shape[1]:
        raise ParameterError(f"y of width E={y.shape[1]} must match x of width E={x.shape[1]}")
    if distance == "cosine":
        return 1.0 - F.normalize(x, dim=1) @ F.normalize(y, dim=1).transpose(0, 1)
    if normalize_embeddings:  # F.normalize (p=2, eps=1e-12), as PML's LpDistance
        same = y is x
        x = F.normalize(x, dim=1)
        y = x if same else F.normalize(y, dim=1)
    d = torch.cdist(x.unsqueeze(0), y.unsqueeze(0), p=2.0).squeeze(0)
    return d.square() if distance == "squared_euclidean" else d


def _reduce(losses: Tensor, reduction: str, anchor: Tensor) -> Tensor:
    """Reduce a 1-D loss vector; ``anchor`` keeps an empty result attached to the graph."""
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum() + anchor.sum() * 0
    if reduction == "mean":
        return losses.mean() if losses.numel() else anchor.sum() * 0
    nonzero = losses[losses > 0]
    return nonzero.mean() if nonzero.numel() else anchor.sum() * 0


def _same_label(labels: Tensor) -> tuple[Tensor, Tensor]:
    """Positive mask (same label, not self) and negative mask (other label), both (B, B)."""
    same = labels.unsqueeze(0) == labels.unsqueeze(1)
    eye = torch.eye(labels.shape[0], dtype=torch.bool, device=labels.device)
    return same & ~eye, ~same


def contrastive_loss(
    embeddings: Tensor,
    labels: Tensor,
    *,
    margin: float = 1.0,
    distance: str = "euclidean",
    normalize_embeddings: bool = False,
    reduction: str = "mean_nonzero",
) -> Tensor:
    """Contrastive (pair) loss: positives pulled to distance 0, negatives pushed beyond margin.

    Over every ordered pair ``(i, j)``, ``i != j``: a positive pair (same label) costs
    ``d_ij``, a negative pair costs ``max(0, margin - d_ij)``. With ``"mean_nonzero"`` the
    result is ``mean(non-zero positive costs) + mean(non-zero negative costs)``, which equals
    pytorch-metric-learning's ``ContrastiveLoss(pos_margin=0, neg_margin=margin,
    distance=LpDistance(normalize_embeddings=normalize_embeddings))`` on any inputs (PML's
    default distance normalises: pass ``normalize_embeddings=True`` to match it).

    Args:
        embeddings: embeddings (B, E).
        labels: integer class labels (B,).
        margin: distance beyond which negatives cost nothing (>= 0).
        distance: "euclidean", "squared_euclidean" or "cosine".
        normalize_embeddings: L2-normalise the embeddings before a (squared) Euclidean
            distance (PML's ``LpDistance(normalize_embeddings=True)``); default ``False``
            (raw embeddings). "cosine" always normalises.
        reduction: "mean_nonzero", "mean", "sum" or "none" (module docstring).

    Returns:
        Scalar loss, or the per-pair losses (K,) positives first then negatives for "none".

    References:
        Hadsell, Chopra & LeCun, CVPR 2006; pytorch-metric-learning ``ContrastiveLoss``.
    """
    _check_embeddings("embeddings", embeddings)
    _check_labels(embeddings, labels)
    _check_margin(margin)
    _check_choice("distance", distance, DISTANCES)
    _check_choice("reduction", reduction, REDUCTIONS)
    d = pairwise_distances(embeddings, distance=distance, normalize_embeddings=normalize_embeddings)
    positive, negative = _same_label(labels)
    if not positive.any() or not negative.any():
        warnings.warn(
            "contrastive_loss: the batch has no positive or no negative pair "
            f"(labels={labels.tolist()[:16]}); only one kind of pair contributes",
            stacklevel=2,
        )
    positive_losses = d[positive]
    negative_losses = F.relu(margin - d[negative])
    if reduction == "mean_nonzero":
        return _reduce(positive_losses, reduction, d) + _reduce(negative_losses, reduction, d)
    return _reduce(torch.cat([positive_losses, negative_losses]), reduction, d)


def mine_triplets(
    distances: Tensor, labels: Tensor, *, margin: float = 0.2, mining: str = "batch_all"
) -> tuple[Tensor, Tensor, Tensor]:
    """Select triplets (anchor, positive, negative) from a batch by its labels.

    Candidate triplets have ``labels[a] == labels[p]``, ``a != p`` and
    ``labels[n] != labels[a]``; with ``m = d_an - d_ap`` (the triplet's current margin):

    - ``"batch_all"``: every candidate triplet (the zero-loss ones are dropped later by the
      ``"mean_nonzero"`` reduction).
    - ``"hard"``: ``m <= 0`` (negative at least as close as the positive); pytorch-metric-
      learning ``TripletMarginMiner(type_of_triplets="hard")``.
    - ``"semihard"``: ``0 < m <= margin``; ``TripletMarginMiner(type_of_triplets="semihard")``.
    - ``"batch_hard"``: per anchor, its farthest positive and closest negative (anchors without
      a positive or a negative are skipped); ``BatchHardMiner``.

    Memory is O(B^3) for all but "batch_hard" (O(B^2)).

    Args:
        distances: distance matrix (B, B) of the batch (selection only; not differentiated).
        labels: integer class labels (B,).
        margin: the loss margin used by "semihard".
        mining: "batch_all", "hard", "semihard" or "batch_hard".

    Returns:
        Index tensors ``(anchor, positive, negative)``, each (K,), in row-major order.

    References:
        Schroff et al., FaceNet 2015; Hermans et al. 2017; pytorch-metric-learning miners.
    """
    _check_choice("mining", mining, MINING_STRATEGIES)
    _check_margin(margin)
    if distances.dim() != 2 or distances.shape[0] != distances.shape[1]:
        raise ParameterError(
            f"distances of shape {tuple(distances.shape)} must be a square matrix (B, B)"
        )
    _check_labels(distances, labels)
    d = distances.detach()
    positive, negative = _same_label(labels)
    if mining == "batch_hard":
        keep = positive.any(1) & negative.any(1)
        hardest_positive = d.masked_fill(~positive, float("-inf")).argmax(1)
        hardest_negative = d.masked_fill(~negative, float("inf")).argmin(1)
        anchor = torch.nonzero(keep).squeeze(1)
        return anchor, hardest_positive[anchor], hardest_negative[anchor]
    valid = positive.unsqueeze(2) & negative.unsqueeze(1)  # [a, p, n]
    anchor, pos, neg = torch.nonzero(valid, as_tuple=True)  # row-major order
    if mining != "batch_all":
        current = d[anchor, neg] - d[anchor, pos]  # the triplet's margin, (K,)
        if mining == "hard":
            keep = (current <= 0) & (current <= margin)
        else:  # semihard
            keep = (current > 0) & (current <= margin)
        anchor, pos, neg = anchor[keep], pos[keep], neg[keep]
    return anchor, pos, neg


def triplet_margin_loss(
    embeddings: Tensor,
    labels: Tensor,
    *,
    margin: float = 0.2,
    mining: str = "batch_all",
    distance: str = "euclidean",
    normalize_embeddings: bool = False,
    reduction: str = "mean_nonzero",
) -> Tensor:
    """Triplet margin loss ``max(0, d_ap - d_an + margin)`` over triplets mined from the batch.

    With the default ``"mean_nonzero"`` reduction this equals pytorch-metric-learning's
    ``TripletMarginLoss(margin=margin)`` fed by ``TripletMarginMiner(margin=margin,
    type_of_triplets=...)`` ("batch_all" ↔ "all", "hard", "semihard") or by
    ``BatchHardMiner()`` ("batch_hard"), loss and miner built with
    ``distance=LpDistance(normalize_embeddings=normalize_embeddings)`` (PML's default
    normalises: pass ``normalize_embeddings=True`` to match it). Hermans et al.'s batch-hard
    averages over all anchors: pass ``reduction="mean"`` for that.

    Args:
        embeddings: embeddings (B, E).
        labels: integer class labels (B,).
        margin: required gap between negative and positive distance (>= 0).
        mining: "batch_all", "hard", "semihard" or "batch_hard" (see :func:`mine_triplets`).
        distance: "euclidean", "squared_euclidean" or "cosine".
        normalize_embeddings: L2-normalise the embeddings before a (squared) Euclidean
            distance, for mining and loss alike (PML's ``LpDistance(normalize_embeddings=
            True)``); default ``False`` (raw embeddings). "cosine" always normalises.
        reduction: "mean_nonzero", "mean", "sum" or "none" (module docstring).

    Returns:
        Scalar loss, or the per-triplet losses (K,) for "none".

    References:
        Schroff et al., FaceNet 2015; Hermans et al. 2017; pytorch-metric-learning
        ``TripletMarginLoss``.
    """
    _check_embeddings("embeddings", embeddings)
    _check_labels(embeddings, labels)
    _check_margin(margin)
    _check_choice("mining", mining, MINING_STRATEGIES)
    _check_choice("distance", distance, DISTANCES)
    _check_choice("reduction", reduction, REDUCTIONS)
    d = pairwise_distances(embeddings, distance=distance, normalize_embeddings=normalize_embeddings)
    anchor, positive, negative = mine_triplets(d, labels, margin=margin, mining=mining)
    losses = F.relu(d[anchor, positive] - d[anchor, negative] + margin)
    num_candidates = anchor.numel()
    if mining in ("hard", "semihard") and num_candidates == 0:
        num_candidates = int(mine_triplets(d, labels, margin=margin, mining="batch_all")[0].numel())
    if num_candidates == 0:
        warnings.warn(
            "triplet_margin_loss: the batch holds no triplet (each needs two items of one label "
            f"and one of another; labels={labels.tolist()[:16]})",
            stacklevel=2,
        )
    return _reduce(losses, reduction, d)


def info_nce_loss(
    x: Tensor,
    y: Tensor,
    *,
    logit_scale: float | Tensor = 1.0 / 0.07,
    reduction: str = "mean",
) -> Tensor:
    """Symmetric InfoNCE (CLIP): row ``i`` of ``x`` and row ``i`` of ``y`` are the positive pair.

    ``logits = logit_scale * cos(x_i, y_j)`` (B, B);
    ``loss_i = (CE(logits[i], i) + CE(logits[:, i], i)) / 2``: cross-entropy of x→y and of
    y→x retrieval, averaged. ``logit_scale`` is the inverse temperature ``1 / tau``. The other
    ``B - 1`` rows of the other modality are the negatives (no within-modality negatives). Each
    direction equals pytorch-metric-learning's ``NTXentLoss(temperature=1/logit_scale)`` with
    ``ref_emb`` set to the other modality and labels ``arange(B)``.

    Args:
        x: embeddings of one modality (B, E); L2-normalised here.
        y: embeddings of the other modality (B, E); L2-normalised here.
        logit_scale: inverse temperature (> 0), a float or a 0-d tensor (learnable).
        reduction: "mean", "sum" or "none" (per-pair symmetric losses (B,)).

    Returns:
        Scalar loss, or (B,) for "none".

    References:
        Oord et al. 2018 (InfoNCE); Radford et al., CLIP, ICML 2021 (symmetric form);
        pytorch-metric-learning ``NTXentLoss``.
    """
    _check_embeddings("x", x)
    _check_embeddings("y", y)
    if x.shape != y.shape:
        raise ParameterError(
            f"y of shape {tuple(y.shape)} must match x of shape {tuple(x.shape)} (pairs by row)"
        )
    _check_choice("reduction", reduction, ("mean", "sum", "none"))
    scale_value = float(logit_scale.detach()) if isinstance(logit_scale, Tensor) else logit_scale
    if not scale_value > 0:
        raise ParameterError(f"logit_scale={scale_value!r} must be positive")
    if x.shape[0] < 2:
        warnings.warn(
            f"info_nce_loss: a batch of B={x.shape[0]} has no negatives; the loss is 0",
            stacklevel=2,
        )
    logits = logit_scale * (F.normalize(x, dim=1) @ F.normalize(y, dim=1).transpose(0, 1))
    target = torch.arange(x.shape[0], device=x.device)
    losses = 0.5 * (
        F.cross_entropy(logits, target, reduction="none")
        + F.cross_entropy(logits.transpose(0, 1), target, reduction="none")
    )
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.mean()
