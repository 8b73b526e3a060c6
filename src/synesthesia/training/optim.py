"""AdamW with decoupled weight decay on matrices only, and a per-step warmup + decay schedule.

References:
    Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019 (AdamW).
    Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR 2017
    (cosine annealing). nanoGPT's ``configure_optimizers`` (no decay on biases, norms and
    embeddings) and ``get_lr`` (linear warmup, cosine to a floor).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

import torch
from torch import nn

from synesthesia.errors import ParameterError

__all__ = ["parameter_groups", "lr_factor", "build_optimizer"]

_NO_DECAY_MODULES = (
    nn.Embedding,
    nn.EmbeddingBag,
    nn.LayerNorm,
    nn.GroupNorm,
    nn.LocalResponseNorm,
    nn.RMSNorm,
    nn.modules.batchnorm._NormBase,
)


def parameter_groups(model: nn.Module, *, weight_decay: float) -> list[dict[str, Any]]:
    """Split trainable parameters into a decayed group and a group without weight decay.

    Biases, every parameter of normalisation layers and embedding tables (and any parameter
    with fewer than 2 dimensions) get no weight decay; the remaining weight matrices and conv
    kernels get ``weight_decay``. Tied parameters appear once; a parameter owned by an
    embedding is never decayed even if a linear layer shares it.

    Args:
        model: the module to optimise.
        weight_decay: decoupled weight decay of the decayed group.

    Returns:
        ``[{"params": decayed, "weight_decay": weight_decay, "names": [...]},
        {"params": others, "weight_decay": 0.0, "names": [...]}]`` (empty groups dropped).
    """
    no_decay: set[int] = set()
    for module in model.modules():
        if isinstance(module, _NO_DECAY_MODULES):
            no_decay.update(id(p) for p in module.parameters(recurse=False))
    decay_params, decay_names, other_params, other_names = [], [], [], []
    for name, param in model.named_parameters():  # each shared tensor once
        if not param.requires_grad:
            continue
        if id(param) in no_decay or param.ndim < 2 or name.endswith("bias"):
            other_params.append(param)
            other_names.append(name)
        else:
            decay_params.append(param)
            decay_names.append(name)
    groups = [
        {"params": decay_params, "weight_decay": float(weight_decay), "names": decay_names},
        {"params": other_params, "weight_decay": 0.0, "names": other_names},
    ]
    return [g for g in groups if g["params"]]


def lr_factor(
    step: int,
    *,
    warmup_steps: int,
    total_steps: int,
    scheduler: str = "cosine",
    min_lr_ratio: float = 0.0,
) -> float:
    """Multiplier of the base learning rate after ``step`` optimizer steps.

    Linear warmup from ``1 / (warmup_steps + 1)`` to 1 over the first ``warmup_steps`` steps,
    then ``cosine``: ``r + (1 - r) * (1 + cos(pi * p)) / 2``, ``linear``: ``1 - (1 - r) * p``,
    or ``constant``: 1, where ``p = (step - warmup_steps) / (total_steps - warmup_steps)``
    clipped to [0, 1] and ``r = min_lr_ratio``.

    Args:
        step: optimizer steps taken so far (0 for the first update).
        warmup_steps: length of the warmup.
        total_steps: steps of the whole run (the decay reaches ``r`` there).
        scheduler: "cosine", "linear" or "constant".
        min_lr_ratio: final learning rate as a fraction of the base rate.
    """
    if step < warmup_steps:
        return (step + 1) / (warmup_steps + 1)
    if scheduler == "constant":
        return 1.0
    span = max(1, total_steps - warmup_steps)
    progress = min(1.0, max(0.0, (step - warmup_steps) / span))
    if scheduler == "cosine":
        return min_lr_ratio + (1.0 - min_lr_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))
    if scheduler == "linear":
        return 1.0 - (1.0 - min_lr_ratio) * progress
    raise ParameterError(f"scheduler={scheduler!r} must be one of ['cosine', 'linear', 'constant']")


def build_optimizer(
    model: nn.Module,
    *,
    lr: float,
    weight_decay: float,
    betas: tuple[float, float] | list[float],
    eps: float,
    warmup_steps: int,
    total_steps: int,
    scheduler: str,
    min_lr_ratio: float,
) -> tuple[torch.optim.AdamW, torch.optim.lr_scheduler.LambdaLR]:
    """AdamW over :func:`parameter_groups` and a LambdaLR of :func:`lr_factor` (step per step).

    Returns:
        ``(optimizer, scheduler)``; call ``scheduler.step()`` after every optimizer step.
    """
    if total_steps <= 0:
        raise ParameterError(f"total_steps={total_steps} must be a positive integer")
    groups = [
        {k: v for k, v in g.items() if k != "names"}
        for g in parameter_groups(model, weight_decay=weight_decay)
    ]
    optimizer = torch.optim.AdamW(groups, lr=lr, betas=tuple(betas), eps=eps)
    factor: Callable[[int], float] = partial(
        lr_factor,
        warmup_steps=warmup_steps,
        total_steps=total_steps,
        scheduler=scheduler,
        min_lr_ratio=min_lr_ratio,
    )
    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
