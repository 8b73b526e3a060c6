"""speech2face_loss / normalized_l1_loss against a float64 computation written out by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from synesthesia.errors import ParameterError
from synesthesia.functional.feature_losses import normalized_l1_loss, speech2face_loss


def _hand(pred, target, p_logits, t_logits, l1_weight, distill_weight, temperature):
    """Oh et al. 2019 Eq. 1 (first and last terms), numpy float64, loops where possible."""
    l1 = []
    for p, t in zip(pred, target):
        p_hat = p / np.sqrt((p * p).sum())
        t_hat = t / np.sqrt((t * t).sum())
        l1.append(np.abs(p_hat - t_hat).sum())
    kd = []
    for s, t in zip(p_logits, t_logits):
        ps = np.exp(t / temperature) / np.exp(t / temperature).sum()
        qs = np.exp(s / temperature) / np.exp(s / temperature).sum()
        kd.append(temperature**2 * (ps * np.log(ps / qs)).sum())
    return l1_weight * np.mean(l1) + distill_weight * np.mean(kd), np.mean(l1), np.mean(kd)


@pytest.mark.parametrize("weights", [(1.0, 1.0, 2.0), (0.5, 3.0, 1.0), (1.0, 0.0, 4.0)])
def test_matches_hand_reference_float64(weights):
    l1_weight, distill_weight, temperature = weights
    g = torch.Generator().manual_seed(1)
    pred, target = (torch.randn(6, 9, generator=g, dtype=torch.float64) for _ in range(2))
    p_logits, t_logits = (torch.randn(6, 5, generator=g, dtype=torch.float64) * 2 for _ in range(2))
    total, parts = speech2face_loss(
        pred,
        target,
        predicted_logits=p_logits,
        target_logits=t_logits,
        l1_weight=l1_weight,
        distill_weight=distill_weight,
        temperature=temperature,
    )
    expected, l1, kd = _hand(
        pred.numpy(), target.numpy(), p_logits.numpy(), t_logits.numpy(), *weights
    )
    np.testing.assert_allclose(float(total), expected, rtol=1e-12)
    np.testing.assert_allclose(float(parts["l1"]), l1, rtol=1e-12)
    np.testing.assert_allclose(float(parts["distill"]), kd, rtol=1e-12)


def test_normalized_l1_is_scale_free_and_zero_on_match():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(4, 7, generator=g, dtype=torch.float64)
    assert float(normalized_l1_loss(x, 3.0 * x)) == pytest.approx(0.0, abs=1e-12)
    y = torch.randn(4, 7, generator=g, dtype=torch.float64)
    assert float(normalized_l1_loss(5 * x, y)) == pytest.approx(float(normalized_l1_loss(x, y)))


def test_gradient_reaches_prediction_only():
    pred = torch.randn(3, 4, requires_grad=True)
    target = torch.randn(3, 4, requires_grad=True)
    logits_p = torch.randn(3, 5, requires_grad=True)
    logits_t = torch.randn(3, 5, requires_grad=True)
    total, _ = speech2face_loss(pred, target, predicted_logits=logits_p, target_logits=logits_t)
    total.backward()
    assert pred.grad is not None and logits_p.grad is not None
    assert target.grad is None and logits_t.grad is None


def test_bad_arguments():
    x = torch.randn(2, 3)
    with pytest.raises(ParameterError, match="target of shape"):
        normalized_l1_loss(x, torch.randn(2, 4))
    with pytest.raises(ParameterError, match="distill_weight=1.0 > 0 needs"):
        speech2face_loss(x, x)
    with pytest.raises(ParameterError, match="l1_weight=-1"):
        speech2face_loss(x, x, l1_weight=-1)
    with pytest.raises(ParameterError, match="at least one must be positive"):
        speech2face_loss(x, x, l1_weight=0, distill_weight=0)
