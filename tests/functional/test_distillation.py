"""distillation_kl_loss against a direct float64 computation and torch's kl_div."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from synesthesia.errors import ParameterError
from synesthesia.functional.distillation import distillation_kl_loss


def _direct(student: np.ndarray, teacher: np.ndarray, temperature: float) -> np.ndarray:
    def softmax(z):
        z = z / temperature
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    p, q = softmax(teacher), softmax(student)
    return temperature**2 * (p * (np.log(p) - np.log(q))).sum(axis=-1)


@pytest.mark.parametrize("temperature", [0.5, 1.0, 4.0])
def test_matches_direct_float64(temperature):
    g = torch.Generator().manual_seed(0)
    student = torch.randn(7, 5, generator=g, dtype=torch.float64) * 3
    teacher = torch.randn(7, 5, generator=g, dtype=torch.float64) * 3
    expected = _direct(student.numpy(), teacher.numpy(), temperature)
    per_item = distillation_kl_loss(student, teacher, temperature=temperature, reduction="none")
    np.testing.assert_allclose(per_item.numpy(), expected, rtol=1e-12, atol=1e-14)
    mean = distillation_kl_loss(student, teacher, temperature=temperature, reduction="batchmean")
    np.testing.assert_allclose(float(mean), expected.mean(), rtol=1e-12)
    total = distillation_kl_loss(student, teacher, temperature=temperature, reduction="sum")
    np.testing.assert_allclose(float(total), expected.sum(), rtol=1e-12)
    reference = (
        torch.nn.functional.kl_div(
            torch.log_softmax(student / temperature, -1),
            torch.log_softmax(teacher / temperature, -1),
            reduction="batchmean",
            log_target=True,
        )
        * temperature**2
    )
    np.testing.assert_allclose(float(mean), float(reference), rtol=1e-12)


def test_zero_when_equal_and_gradient_only_to_student():
    student = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    teacher = student.detach().clone().requires_grad_(True)
    loss = distillation_kl_loss(student, teacher, temperature=2.0)
    assert abs(float(loss.detach())) < 1e-14
    (distillation_kl_loss(student * 2, teacher, temperature=2.0)).backward()
    assert student.grad is not None and teacher.grad is None


def test_bad_input():
    x = torch.zeros(2, 3)
    with pytest.raises(ParameterError, match="teacher_logits"):
        distillation_kl_loss(x, torch.zeros(2, 4))
    with pytest.raises(ParameterError, match="temperature"):
        distillation_kl_loss(x, x, temperature=0.0)
    with pytest.raises(ParameterError, match="reduction"):
        distillation_kl_loss(x, x, reduction="mean")
