"""The Speech2Face voice-encoder loss: L1 between L2-normalised features + distillation.

References:
    Oh et al., "Speech2Face: Learning the Face Behind a Voice", CVPR 2019, Eq. 1:
    ``‖f_v/‖f_v‖ − f_F/‖f_F‖‖₁`` between the voice encoder's prediction and the face
    feature, plus a knowledge-distillation term on the face classifier's logits of the two
    features at a temperature (Hinton, Vinyals & Dean 2015); the paper's third term (on the
    face decoder's first layer) is not used here.
"""

from __future__ import annotations

from torch import Tensor

from synesthesia.errors import ParameterError
from synesthesia.functional.distillation import distillation_kl_loss

__all__ = ["normalized_l1_loss", "speech2face_loss"]


def _check_pair(predicted: Tensor, target: Tensor) -> None:
    if not isinstance(predicted, Tensor) or not isinstance(target, Tensor):
        raise ParameterError("predicted and target must be tensors")
    if predicted.shape != target.shape or predicted.dim() < 1:
        raise ParameterError(
            f"target of shape {tuple(target.shape)} must match predicted of shape "
            f"{tuple(predicted.shape)} (…, E)"
        )


def normalized_l1_loss(predicted: Tensor, target: Tensor, *, eps: float = 1e-8) -> Tensor:
    """``mean over items of Σ_e |p̂_e − t̂_e|`` with ``x̂ = x / max(‖x‖₂, eps)`` along E.

    Args:
        predicted: (…, E) predicted features (gradients flow).
        target: (…, E) target features (treated as constants).
        eps: floor of the norms.

    Returns:
        A scalar in ``predicted``'s dtype (between 0 and 2·√E).
    """
    _check_pair(predicted, target)
    if not eps > 0:
        raise ParameterError(f"eps={eps!r} must be positive")
    p = predicted / predicted.norm(dim=-1, keepdim=True).clamp(min=eps)
    t = target.detach().to(predicted.dtype)
    t = t / t.norm(dim=-1, keepdim=True).clamp(min=eps)
    return (p - t).abs().sum(dim=-1).mean()


def speech2face_loss(
    predicted: Tensor,
    target: Tensor,
    *,
    predicted_logits: Tensor | None = None,
    target_logits: Tensor | None = None,
    l1_weight: float = 1.0,
    distill_weight: float = 1.0,
    temperature: float = 2.0,
) -> tuple[Tensor, dict[str, Tensor]]:
    """``l1_weight · normalized_l1 + distill_weight · T²·KL(softmax(t/T) ‖ softmax(p/T))``.

    Args:
        predicted: (B, E) the voice encoder's features.
        target: (B, E) the face encoder's features of the speaker's face.
        predicted_logits: (B, K) the (frozen) face classifier applied to ``predicted``.
        target_logits: (B, K) the face classifier's logits of the face; both logits are
            needed when ``distill_weight > 0``.
        l1_weight: weight of the normalised L1 term (>= 0).
        distill_weight: weight of the distillation term (>= 0).
        temperature: distillation temperature T > 0.

    Returns:
        ``(total, {"l1": ..., "distill": ...})`` (a term with weight 0 is still reported
        when it can be computed).
    """
    for name, value in (("l1_weight", l1_weight), ("distill_weight", distill_weight)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            raise ParameterError(f"{name}={value!r} must be a non-negative number")
    if l1_weight == 0 and distill_weight == 0:
        raise ParameterError("l1_weight=0 and distill_weight=0: at least one must be positive")
    parts = {"l1": normalized_l1_loss(predicted, target)}
    total = l1_weight * parts["l1"]
    if predicted_logits is None or target_logits is None:
        if distill_weight > 0:
            raise ParameterError(
                f"distill_weight={distill_weight!r} > 0 needs predicted_logits and target_logits"
            )
    else:
        parts["distill"] = distillation_kl_loss(
            predicted_logits, target_logits, temperature=temperature
        )
        total = total + distill_weight * parts["distill"]
    return total, parts
