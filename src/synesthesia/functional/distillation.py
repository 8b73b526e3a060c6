"""Knowledge distillation: the KL divergence from a teacher's softened predictions.

References:
    Hinton, Vinyals & Dean, "Distilling the Knowledge in a Neural Network", 2015 (softmax at
    temperature T, loss scaled by T² so gradients keep their size); Aytar, Vondrick & Torralba,
    "SoundNet", NeurIPS 2016 (an audio student trained by KL(teacher ‖ student) on the visual
    teacher's class posteriors of unlabeled video frames). Matches
    ``torch.nn.functional.kl_div(log_softmax(s / T), log_softmax(t / T), log_target=True)``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from synesthesia.errors import ParameterError

__all__ = ["distillation_kl_loss"]

_REDUCTIONS = ("batchmean", "sum", "none")


def distillation_kl_loss(
    student_logits: Tensor,
    teacher_logits: Tensor,
    *,
    temperature: float = 1.0,
    reduction: str = "batchmean",
) -> Tensor:
    """``T² · KL(softmax(teacher / T) ‖ softmax(student / T))`` per item, reduced.

    Args:
        student_logits: the student's class scores (B, K) (any leading dims before K).
        teacher_logits: the teacher's class scores, same shape; treated as constants (no
            gradient flows into the teacher).
        temperature: T > 0; larger T softens both distributions.
        reduction: "batchmean" (sum over K, mean over items), "sum" or "none" (per item,
            shape (B,)).

    Returns:
        A scalar (or (B,) with reduction="none") in the student's dtype.
    """
    if not isinstance(student_logits, Tensor) or not isinstance(teacher_logits, Tensor):
        raise ParameterError("student_logits and teacher_logits must be tensors")
    if student_logits.shape != teacher_logits.shape or student_logits.dim() < 1:
        raise ParameterError(
            f"teacher_logits of shape {tuple(teacher_logits.shape)} must match student_logits "
            f"of shape {tuple(student_logits.shape)} (…, K)"
        )
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
        raise ParameterError(f"temperature={temperature!r} must be a positive number")
    if not temperature > 0:
        raise ParameterError(f"temperature={temperature!r} must be a positive number")
    if reduction not in _REDUCTIONS:
        raise ParameterError(f"reduction={reduction!r} must be one of {list(_REDUCTIONS)}")
    teacher = teacher_logits.detach().to(student_logits.dtype)
    log_q = torch.log_softmax(student_logits / temperature, dim=-1)
    log_p = torch.log_softmax(teacher / temperature, dim=-1)
    per_item = (log_p.exp() * (log_p - log_q)).sum(dim=-1) * temperature**2
    if reduction == "none":
        return per_item
    if reduction == "sum":
        return per_item.sum()
    return per_item.reshape(-1).mean()
