"""``fit(system, datamodule, config)``: one way to train every task with Lightning.

Layout of ``out_dir``::

    checkpoints/last.ckpt          latest state (at each validation, every
                                   checkpoint.every_n_train_steps steps and at the end)
    checkpoints/best-step=N.ckpt   best by ``checkpoint.monitor`` (``save_top_k`` of them)
    logs/csv/version_K/metrics.csv CSVLogger (a new version per launch)
    logs/tensorboard/version_K/    TensorBoardLogger
    model/                         the exported model: config.json + model.safetensors + extras

Resume (``resume`` in the config, ``--resume`` on the CLI): ``auto`` (default) continues from
``out_dir/checkpoints/last.ckpt`` when it exists and starts fresh otherwise; ``never`` starts
fresh (existing checkpoints in ``out_dir`` are then overwritten as training proceeds); a path
resumes from that checkpoint. A resumed run restores weights, optimizer, schedule, step
counters, RNG states and the position in a :class:`~synesthesia.training.data.RandomBatchStream`
(or, for a map-style data set, an :class:`~synesthesia.training.data.EpochShuffleSampler`), so it
ends where an uninterrupted run would. Checkpoints are loaded with ``weights_only=True``.
Every checkpoint is written atomically (:mod:`synesthesia.training.checkpoint`): a run killed
at any moment, SIGKILL included, leaves the previous ``last.ckpt`` or the new one, whole.

``.ckpt`` files are for resuming our own runs only; the exported ``model/`` folder (safetensors
+ JSON, no pickle) is what is meant for sharing. Never load checkpoints from untrusted sources.

Distributed training is Lightning's: set ``trainer.devices``, ``trainer.num_nodes`` and
``trainer.strategy`` (e.g. ``ddp``); the export happens on global rank 0 only.
"""

from __future__ import annotations

import logging
import sys
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.fabric.utilities.exceptions import MisconfigurationException
from lightning.pytorch.callbacks import Callback, ModelCheckpoint, TQDMProgressBar
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

from synesthesia.errors import CheckpointError, ParameterError
from synesthesia.training.checkpoint import TEMP_SUFFIX, AtomicCheckpointIO
from synesthesia.training.system import ModelSystem

__all__ = [
    "FitResult",
    "build_trainer",
    "check_checkpoint",
    "check_resume",
    "export_model",
    "fit",
    "resume_checkpoint",
]

log = logging.getLogger(__name__)

LAST_NAME = "last.ckpt"


@dataclass
class FitResult:
    """What a finished :func:`fit` produced.

    Attributes:
        out_dir: the run folder.
        model_dir: the exported model folder (``None`` on ranks other than 0).
        best_checkpoint: path of the best checkpoint (``None`` when nothing was monitored).
        last_checkpoint: path of ``last.ckpt``.
        global_step: optimizer steps taken in total.
        metrics: the last logged value of every metric (``val/loss`` ...), as floats.
        is_global_zero: whether this process is global rank 0.
        best_score: the monitored metric's value at the best checkpoint (``None`` if none).
    """

    out_dir: Path
    model_dir: Path | None
    best_checkpoint: Path | None
    last_checkpoint: Path
    global_step: int
    metrics: dict[str, float] = field(default_factory=dict)
    is_global_zero: bool = True
    best_score: float | None = None


class _SaveLast(Callback):
    """The one writer of ``last.ckpt``: after every validation, every ``every_n_train_steps``
    optimizer steps (when set) and when training stops.

    Lightning's ``ModelCheckpoint(save_last=True)`` refreshes ``last.ckpt`` only when it saves
    another checkpoint, i.e. when the monitored metric improves: a run killed after many
    validations without improvement would resume from the last *best* step and redo the
    rest. Written through :class:`~synesthesia.training.checkpoint.AtomicCheckpointIO` (a
    temporary file, fsync, rename), so a kill mid-write keeps the previous one.
    """

    def __init__(self, path: Path, *, every_n_train_steps: int | None = None) -> None:
        self.path = path
        self.every_n_train_steps = every_n_train_steps
        self._saved_step: int | None = None

    def _save(self, trainer: L.Trainer) -> None:
        if self._saved_step == trainer.global_step and self.path.is_file():
            return  # this state is on disk already (e.g. a step save, then a validation)
        trainer.save_checkpoint(self.path, weights_only=False)  # full state, for resuming
        self._saved_step = trainer.global_step

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        n = self.every_n_train_steps
        if n and trainer.global_step and trainer.global_step % n == 0:
            self._save(trainer)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.sanity_checking and trainer.state.fn == "fit":
            self._save(trainer)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._save(trainer)


def _remove_stale_temporaries(directory: Path) -> None:
    """Delete temporary checkpoint files a killed run left behind (never a finished .ckpt)."""
    if directory.is_dir():
        for stale in directory.glob(f".*.ckpt.*{TEMP_SUFFIX}"):
            stale.unlink(missing_ok=True)


def resume_checkpoint(config: dict[str, Any]) -> Path | None:
    """The checkpoint a run with ``config`` resumes from (``None``: start fresh)."""
    resume = config["resume"]
    if resume == "never":
        return None
    if resume == "auto":
        last = Path(config["out_dir"]) / "checkpoints" / LAST_NAME
        return last if last.is_file() else None
    path = Path(resume)
    if not path.is_file():
        raise ParameterError(f"resume={resume!r} must be 'auto', 'never' or an existing .ckpt")
    return path


def check_resume(config: dict[str, Any]) -> Path | None:
    """:func:`resume_checkpoint` of ``config``, checked with :func:`check_checkpoint`.

    Task entry points call it first, so a damaged ``last.ckpt`` is refused before any data
    or model work."""
    path = resume_checkpoint(config)
    if path is not None:
        check_checkpoint(path)
    return path


def check_checkpoint(path: Path) -> None:
    """Raise CheckpointError unless ``path`` is a readable checkpoint of a training run.

    Memory-maps the file (nothing is read but the index), so it costs little even for a
    large checkpoint; Lightning would otherwise fail with a traceback deep inside ``fit``.
    """
    if not zipfile.is_zipfile(path):  # torch.save writes a zip archive
        raise CheckpointError(
            f"cannot resume from {str(path)!r}: not a checkpoint file (not the zip archive "
            "torch.save writes; damaged or something else); delete it or start fresh with "
            "--resume never"
        )
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as exc:  # torch raises many types for damaged files (zip, pickle, EOF)
        message = " ".join(str(exc).split())[:200]
        raise CheckpointError(
            f"cannot resume from {str(path)!r}: not a readable checkpoint ({message}); "
            "delete it or start fresh with --resume never"
        ) from None
    keys = ("state_dict", "global_step", "loops")
    missing = [k for k in keys if k not in checkpoint] if isinstance(checkpoint, dict) else keys
    if missing:
        raise CheckpointError(
            f"cannot resume from {str(path)!r}: not a training checkpoint (it has no "
            f"{', '.join(missing)})"
        )


def build_trainer(
    config: dict[str, Any], *, callbacks: list[Callback] | tuple[Callback, ...] = ()
) -> tuple[L.Trainer, ModelCheckpoint]:
    """A ``lightning.Trainer`` configured from ``config["trainer"]`` and ``["checkpoint"]``.

    Returns:
        ``(trainer, checkpoint_callback)``.
    """
    out_dir = Path(config["out_dir"])
    t = config["trainer"]
    c = config["checkpoint"]
    checkpoint_dir = out_dir / "checkpoints"
    checkpoint = ModelCheckpoint(
        dirpath=checkpoint_dir,
        filename="best-step={step}",
        auto_insert_metric_name=False,
        monitor=c["monitor"],
        mode=c["mode"],
        save_top_k=c["save_top_k"] if c["monitor"] else 0,
        save_last=False,  # _SaveLast writes last.ckpt (also when nothing improved)
        every_n_train_steps=c["every_n_train_steps"],
    )
    save_last = _SaveLast(checkpoint_dir / LAST_NAME, every_n_train_steps=c["every_n_train_steps"])
    all_callbacks: list[Callback] = [checkpoint, save_last]
    progress = bool(t["progress_bar"]) and sys.stderr.isatty()
    if progress:
        all_callbacks.append(TQDMProgressBar(refresh_rate=max(1, t["log_every_n_steps"] // 2)))
    all_callbacks += list(callbacks)
    loggers = [
        CSVLogger(out_dir / "logs", name="csv"),
        TensorBoardLogger(out_dir / "logs", name="tensorboard", default_hp_metric=False),
    ]
    interval = t["val_check_interval"]
    kwargs: dict[str, Any] = {
        "max_steps": -1 if t["max_steps"] is None else t["max_steps"],
        "max_epochs": t["max_epochs"],
        "accelerator": t["accelerator"],
        "devices": t["devices"],
        "num_nodes": t["num_nodes"],
        "strategy": t["strategy"],
        "precision": t["precision"],
        "log_every_n_steps": t["log_every_n_steps"],
        "gradient_clip_val": t["gradient_clip_val"],
        "accumulate_grad_batches": t["accumulate_grad_batches"],
        "num_sanity_val_steps": t["num_sanity_val_steps"],
        "deterministic": t["deterministic"],
        "enable_progress_bar": progress,
        "callbacks": all_callbacks,
        "logger": loggers,
        "default_root_dir": out_dir,
        "plugins": [AtomicCheckpointIO()],  # every .ckpt is whole or absent, even after a kill
    }
    if interval is not None:
        kwargs["val_check_interval"] = interval
        if isinstance(interval, int):  # every N steps, across epoch boundaries
            kwargs["check_val_every_n_epoch"] = None
    if t["limit_val_batches"] is not None:
        kwargs["limit_val_batches"] = t["limit_val_batches"]
    try:
        trainer = L.Trainer(**kwargs)
    except (ValueError, TypeError, MisconfigurationException) as exc:
        message = " ".join(str(exc).split())  # one line
        raise ParameterError(f"trainer config rejected by Lightning: {message}") from None
    return trainer, checkpoint


def _load_weights(system: ModelSystem, path: Path) -> None:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
    except (OSError, RuntimeError, KeyError) as exc:
        raise CheckpointError(f"cannot read checkpoint {str(path)!r}: {exc}") from None
    system.load_state_dict(state)


def export_model(system: ModelSystem, datamodule: Any, directory: Path) -> Path:
    """Save ``system.model`` with ``save_pretrained`` plus the datamodule's extra files.

    A datamodule may define ``export(directory)`` to add what inference needs (e.g.
    ``tokenizer.json``); it is called after the weights are written, and ``checksums.json``
    is then rewritten so that it covers those files too (loading verifies them).
    """
    from synesthesia.models.base import write_checksums

    system.model.save_pretrained(directory)
    extra = getattr(datamodule, "export", None)
    if callable(extra):
        extra(directory)
        write_checksums(directory)
    return directory


def fit(
    system: ModelSystem,
    datamodule: L.LightningDataModule,
    config: dict[str, Any],
    *,
    callbacks: list[Callback] | tuple[Callback, ...] = (),
    export: bool = True,
) -> FitResult:
    """Train ``system`` on ``datamodule`` as ``config`` says, then export the model.

    Seeds everything with ``config["seed"]`` (call :func:`lightning.seed_everything` yourself
    before building the system if its initialisation must be reproducible too), resumes as
    ``config["resume"]`` says (see the module docstring), trains, and on global rank 0 exports
    the best checkpoint's model (or the last one with ``checkpoint.export: last``, or when no
    best exists) to ``out_dir/model``.

    Args:
        system: the LightningModule (a :class:`ModelSystem`).
        datamodule: the task's data.
        config: a validated configuration (:func:`synesthesia.training.config.load_config`).
        callbacks: extra Lightning callbacks.
        export: write ``out_dir/model`` at the end.

    Returns:
        A :class:`FitResult`.
    """
    out_dir = Path(config["out_dir"])
    if out_dir.exists() and not out_dir.is_dir():
        raise ParameterError(f"out_dir={str(out_dir)!r} exists and is not a directory")
    _remove_stale_temporaries(out_dir / "checkpoints")
    ckpt_path = check_resume(config)
    L.seed_everything(config["seed"], workers=True, verbose=False)
    trainer, checkpoint = build_trainer(config, callbacks=callbacks)
    if ckpt_path is not None:
        log.info("resuming from %s", ckpt_path)
    with warnings.catch_warnings():
        if ckpt_path is not None:  # resuming into our own checkpoint folder is the point
            warnings.filterwarnings("ignore", message="Checkpoint directory .* is not empty")
        trainer.fit(system, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=True)

    last = out_dir / "checkpoints" / LAST_NAME
    best = Path(checkpoint.best_model_path) if checkpoint.best_model_path else None
    if best is not None and not best.is_file():
        best = None
    metrics = {
        k: float(v)
        for k, v in trainer.callback_metrics.items()
        if torch.is_tensor(v) and v.numel() == 1
    }
    model_dir = None
    if export and trainer.is_global_zero:
        source = best if config["checkpoint"]["export"] == "best" and best is not None else last
        _load_weights(system, source)
        model_dir = export_model(system, datamodule, out_dir / "model")
        log.info("exported %s (from %s) to %s", system.model.architecture, source.name, model_dir)
    return FitResult(
        out_dir=out_dir,
        model_dir=model_dir,
        best_checkpoint=best,
        last_checkpoint=last,
        global_step=int(trainer.global_step),
        metrics=metrics,
        is_global_zero=bool(trainer.is_global_zero),
        best_score=(
            float(checkpoint.best_model_score)
            if best is not None and checkpoint.best_model_score is not None
            else None
        ),
    )
