"""ModelSystem: the LightningModule every task subclasses.

It builds the model from the registry, optimises it with AdamW (no decay on biases, norms and
embeddings) under a linear-warmup + cosine schedule stepped every optimizer step, logs
``train/loss`` and ``val/loss`` (plus the task's metrics), and stores the random-number
generator states (torch, numpy's legacy global one, python, CUDA) in each checkpoint so that a
resumed run continues exactly.

A subclass implements :meth:`ModelSystem.compute_loss`. The model itself (``system.model``) is
a plain :class:`~synesthesia.models.PretrainedModel` that never needs Lightning.
"""

from __future__ import annotations

import random
from typing import Any

import lightning as L
import numpy as np
import torch
from torch import Tensor

from synesthesia.models import create_model
from synesthesia.training.config import DEFAULTS
from synesthesia.training.optim import build_optimizer

__all__ = ["ModelSystem"]

_RNG_KEY = "synesthesia_rng_states"


class ModelSystem(L.LightningModule):
    """Generic training wrapper around a registered model.

    Args:
        model_name: registry preset, e.g. "gpt_tiny".
        model_kwargs: overrides of the preset's constructor arguments.
        optim: the ``optim`` config section (lr, weight_decay, betas, eps, warmup_steps,
            scheduler, min_lr_ratio); missing keys take the defaults of
            :data:`synesthesia.training.config.DEFAULTS`.
    """

    def __init__(
        self,
        *,
        model_name: str,
        model_kwargs: dict[str, Any] | None = None,
        optim: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.model = self.build_model(model_name, dict(model_kwargs or {}))
        self.optim = {**DEFAULTS["optim"], **(optim or {})}

    def build_model(self, model_name: str, model_kwargs: dict[str, Any]) -> Any:
        """The network from the registry; a subclass may convert ``model_kwargs`` first (they
        stay plain in the hyper-parameters, so checkpoints load with ``weights_only``)."""
        return create_model(model_name, **model_kwargs)

    # -- to implement ---------------------------------------------------------------------
    def compute_loss(self, batch: Any) -> tuple[Tensor, dict[str, Tensor]]:
        """Return ``(scalar loss, {metric name: scalar})`` for one batch."""
        raise NotImplementedError

    def batch_size_of(self, batch: Any) -> int:
        """Number of examples in ``batch`` (for correct averaging of logged values)."""
        first = batch[0] if isinstance(batch, (list, tuple)) else batch
        if isinstance(first, dict):
            first = next(iter(first.values()))
        return int(first.shape[0]) if isinstance(first, Tensor) and first.ndim else 1

    # -- Lightning hooks ------------------------------------------------------------------
    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        loss, metrics = self.compute_loss(batch)
        size = self.batch_size_of(batch)
        self.log("train/loss", loss, prog_bar=True, batch_size=size)
        for name, value in metrics.items():
            self.log(f"train/{name}", value, batch_size=size)
        self.log("train/lr", self.optimizers().param_groups[0]["lr"], batch_size=size)
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> Tensor:
        loss, metrics = self.compute_loss(batch)
        size = self.batch_size_of(batch)
        self.log("val/loss", loss, prog_bar=True, batch_size=size, sync_dist=True)
        for name, value in metrics.items():
            self.log(f"val/{name}", value, batch_size=size, sync_dist=True)
        return loss

    def configure_optimizers(self) -> dict[str, Any]:
        total = self.trainer.estimated_stepping_batches
        if total == float("inf"):
            total = self.trainer.max_steps
        o = self.optim
        optimizer, scheduler = build_optimizer(
            self.model,
            lr=float(o["lr"]),
            weight_decay=float(o["weight_decay"]),
            betas=o["betas"],
            eps=float(o["eps"]),
            warmup_steps=int(o["warmup_steps"]),
            total_steps=int(total),
            scheduler=o["scheduler"],
            min_lr_ratio=float(o["min_lr_ratio"]),
        )
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step", "frequency": 1},
        }

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # plain tensors and lists only, so the checkpoint loads with weights_only=True
        states: dict[str, Any] = {"torch": torch.get_rng_state()}
        version, internal, gauss = random.getstate()
        states["python"] = [version, list(internal), gauss]
        name, keys, position, has_gauss, cached = np.random.get_state()  # noqa: NPY002
        keys = torch.from_numpy(keys.astype(np.int64))
        states["numpy"] = [name, keys, int(position), int(has_gauss), float(cached)]
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            states["cuda"] = torch.cuda.get_rng_state_all()
        checkpoint[_RNG_KEY] = states

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        states = checkpoint.get(_RNG_KEY)
        if not states:
            return
        torch.set_rng_state(states["torch"])
        version, internal, gauss = states["python"]
        random.setstate((version, tuple(internal), gauss))
        if "numpy" in states:
            name, keys, position, has_gauss, cached = states["numpy"]
            keys = keys.numpy().astype(np.uint32)
            np.random.set_state((name, keys, position, has_gauss, cached))  # noqa: NPY002
        if "cuda" in states and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(states["cuda"])
