"""AdamW parameter groups and the warmup + decay schedule, against torch's own schedulers."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from synesthesia.errors import ParameterError
from synesthesia.training.optim import build_optimizer, lr_factor, parameter_groups


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 4)
        self.proj = nn.Linear(4, 4)
        self.norm = nn.LayerNorm(4)
        self.conv = nn.Conv1d(4, 4, 3)
        self.bn = nn.BatchNorm1d(4)
        self.head = nn.Linear(4, 10, bias=False)
        self.head.weight = self.embed.weight  # tied: an embedding, so never decayed
        self.scale = nn.Parameter(torch.ones(1))
        self.frozen = nn.Linear(4, 4)
        self.frozen.requires_grad_(False)


def test_parameter_groups_decay_only_matrices():
    groups = parameter_groups(_Net(), weight_decay=0.1)
    decay, other = groups
    assert decay["weight_decay"] == 0.1 and other["weight_decay"] == 0.0
    assert sorted(decay["names"]) == ["conv.weight", "proj.weight"]
    assert sorted(other["names"]) == [
        "bn.bias",
        "bn.weight",
        "conv.bias",
        "embed.weight",
        "norm.bias",
        "norm.weight",
        "proj.bias",
        "scale",
    ]
    # every trainable parameter exactly once
    ids = [id(p) for g in groups for p in g["params"]]
    trainable = {id(p) for p in _Net().parameters()}
    assert len(ids) == len(set(ids)) == 10 and len(trainable) == 12


def _lrs(scheduler, optimizer, steps):
    out = []
    for _ in range(steps):
        out.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return out


def _sgd(lr):
    return torch.optim.SGD([nn.Parameter(torch.zeros(1, dtype=torch.float64))], lr=lr)


@pytest.mark.parametrize("min_lr_ratio", [0.0, 0.1])
def test_cosine_matches_torch_cosine_annealing(min_lr_ratio):
    base, total = 0.5, 40
    opt = _sgd(base)
    reference = torch.optim.lr_scheduler.CosineAnnealingLR(
        opt, T_max=total, eta_min=base * min_lr_ratio
    )
    expected = _lrs(reference, opt, total + 1)
    ours = [
        base
        * lr_factor(
            s, warmup_steps=0, total_steps=total, scheduler="cosine", min_lr_ratio=min_lr_ratio
        )
        for s in range(total + 1)
    ]
    assert ours == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_warmup_and_linear_match_torch_linear_lr():
    base, warmup, total, ratio = 0.3, 8, 30, 0.2
    opt = _sgd(base)
    warm = torch.optim.lr_scheduler.LinearLR(
        opt, start_factor=1 / (warmup + 1), end_factor=1.0, total_iters=warmup
    )
    expected_warmup = _lrs(warm, opt, warmup)
    opt = _sgd(base)
    decay = torch.optim.lr_scheduler.LinearLR(
        opt, start_factor=1.0, end_factor=ratio, total_iters=total - warmup
    )
    expected_decay = _lrs(decay, opt, total - warmup + 3)
    ours = [
        base
        * lr_factor(
            s, warmup_steps=warmup, total_steps=total, scheduler="linear", min_lr_ratio=ratio
        )
        for s in range(total + 3)
    ]
    assert ours[:warmup] == pytest.approx(expected_warmup, rel=1e-12)
    assert ours[warmup:] == pytest.approx(expected_decay, rel=1e-12)


def test_constant_after_warmup_and_bad_name():
    factors = [lr_factor(s, warmup_steps=3, total_steps=10, scheduler="constant") for s in range(6)]
    assert factors == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    with pytest.raises(ParameterError, match="scheduler='step'"):
        lr_factor(5, warmup_steps=0, total_steps=10, scheduler="step")


def test_build_optimizer_steps_the_schedule_per_step():
    model = _Net()
    optimizer, scheduler = build_optimizer(
        model,
        lr=1e-2,
        weight_decay=0.05,
        betas=[0.9, 0.95],
        eps=1e-8,
        warmup_steps=2,
        total_steps=10,
        scheduler="cosine",
        min_lr_ratio=0.1,
    )
    assert isinstance(optimizer, torch.optim.AdamW)
    assert [g["weight_decay"] for g in optimizer.param_groups] == [0.05, 0.0]
    assert optimizer.param_groups[0]["betas"] == (0.9, 0.95)
    seen = []
    for _ in range(12):
        seen.append(optimizer.param_groups[1]["lr"])
        optimizer.step()
        scheduler.step()
    assert seen[:3] == pytest.approx([1e-2 / 3, 2e-2 / 3, 1e-2])
    assert seen[10] == pytest.approx(1e-3) and seen[11] == pytest.approx(1e-3)
    assert seen[6] == pytest.approx(1e-3 + 0.9e-2 * 0.5 * (1 + math.cos(math.pi * 4 / 8)))
    with pytest.raises(ParameterError, match="total_steps=0"):
        build_optimizer(
            model,
            lr=1e-2,
            weight_decay=0.0,
            betas=[0.9, 0.95],
            eps=1e-8,
            warmup_steps=0,
            total_steps=0,
            scheduler="cosine",
            min_lr_ratio=0.0,
        )
