"""Module twins of the metric losses: identical to the functional, learnable temperature."""

from __future__ import annotations

import math

import pytest
import torch

from synesthesia.errors import ParameterError
from synesthesia.functional.metric_losses import (
    contrastive_loss,
    info_nce_loss,
    triplet_margin_loss,
)
from synesthesia.nn.losses import ContrastiveLoss, InfoNCELoss, TripletMarginLoss


def test_modules_call_the_functional_one_to_one():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(12, 5, generator=g, dtype=torch.float64)
    labels = torch.randint(0, 3, (12,), generator=g)
    kw = {"margin": 0.7, "distance": "cosine", "reduction": "mean"}
    torch.testing.assert_close(
        ContrastiveLoss(**kw)(x, labels), contrastive_loss(x, labels, **kw), rtol=0, atol=0
    )
    kw = {"margin": 0.3, "mining": "semihard", "distance": "euclidean", "reduction": "sum"}
    torch.testing.assert_close(
        TripletMarginLoss(**kw)(x, labels), triplet_margin_loss(x, labels, **kw), rtol=0, atol=0
    )


def test_info_nce_temperature_is_learnable_and_clamped():
    loss_fn = InfoNCELoss(temperature=0.07, learnable=True, max_logit_scale=100.0)
    assert loss_fn.temperature == pytest.approx(0.07)
    assert [n for n, _ in loss_fn.named_parameters()] == ["log_logit_scale"]
    x, y = torch.randn(8, 4), torch.randn(8, 4)
    torch.testing.assert_close(loss_fn(x, y), info_nce_loss(x, y, logit_scale=1 / 0.07))
    loss_fn(x, y).backward()
    assert loss_fn.log_logit_scale.grad is not None and loss_fn.log_logit_scale.grad != 0
    with torch.no_grad():
        loss_fn.log_logit_scale.fill_(math.log(1000.0))
    assert float(loss_fn.logit_scale.detach()) == pytest.approx(100.0)
    loss_fn.log_logit_scale.grad = None
    loss_fn(x, y).backward()
    assert loss_fn.log_logit_scale.grad == 0  # clamped: no gradient pushes it further


def test_fixed_temperature_is_a_buffer_and_dtype_follows_input():
    loss_fn = InfoNCELoss(temperature=0.5, learnable=False)
    assert list(loss_fn.parameters()) == [] and "log_logit_scale" in loss_fn.state_dict()
    x = torch.randn(6, 3, dtype=torch.float64)
    assert loss_fn(x, x.flip(0)).dtype == torch.float64


def test_learning_the_temperature_with_sgd_lowers_the_loss():
    torch.manual_seed(0)
    x = torch.nn.functional.normalize(torch.randn(16, 8), dim=1)
    y = x + 0.05 * torch.randn(16, 8)  # well-aligned pairs: a lower temperature helps
    loss_fn = InfoNCELoss(temperature=1.0)
    opt = torch.optim.SGD(loss_fn.parameters(), lr=0.5)
    first = loss_fn(x, y).item()
    for _ in range(30):
        opt.zero_grad()
        loss = loss_fn(x, y)
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first and loss_fn.temperature < 0.5


def test_constructor_errors():
    with pytest.raises(ParameterError, match="temperature=0"):
        InfoNCELoss(temperature=0)
    with pytest.raises(ParameterError, match="mining='all'"):
        TripletMarginLoss(mining="all")
    with pytest.raises(ParameterError, match="margin=-0.5"):
        ContrastiveLoss(margin=-0.5)


@pytest.mark.parametrize("normalize", [True, False])
def test_modules_pass_normalize_embeddings_and_match_pml(normalize):
    from pytorch_metric_learning import distances as pml_distances
    from pytorch_metric_learning import losses as pml_losses

    g = torch.Generator().manual_seed(1)
    labels = torch.randint(0, 3, (12,), generator=g)
    scale = torch.exp(torch.empty(12, 1, dtype=torch.float64).uniform_(-2, 2, generator=g))
    x = torch.randn(12, 5, generator=g, dtype=torch.float64) * scale  # non-unit rows
    lp = pml_distances.LpDistance(normalize_embeddings=normalize, p=2, power=1)
    module = ContrastiveLoss(margin=1.5, distance="euclidean", normalize_embeddings=normalize)
    assert f"normalize_embeddings={normalize}" in repr(module)
    expected = contrastive_loss(
        x, labels, margin=1.5, distance="euclidean", normalize_embeddings=normalize
    )
    torch.testing.assert_close(module(x, labels), expected, rtol=0, atol=0)
    ref = pml_losses.ContrastiveLoss(pos_margin=0, neg_margin=1.5, distance=lp)(x, labels)
    torch.testing.assert_close(module(x, labels), ref, rtol=1e-10, atol=1e-12)
    module = TripletMarginLoss(margin=0.4, mining="batch_all", normalize_embeddings=normalize)
    assert f"normalize_embeddings={normalize}" in repr(module)
    ref = pml_losses.TripletMarginLoss(margin=0.4, distance=lp)(x, labels)
    torch.testing.assert_close(module(x, labels), ref, rtol=1e-10, atol=1e-12)
    # the default is False (raw embeddings), as before the switch existed
    assert ContrastiveLoss().normalize_embeddings is False
    assert TripletMarginLoss().normalize_embeddings is False
