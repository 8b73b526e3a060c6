"""The task contract: one record per capability, one ``train(task, config)`` for all.

A :class:`Task` says what differs between capabilities — the config defaults, how the data
module is made from the ``data`` section, which model arguments follow from the data, the
:class:`~synesthesia.training.system.ModelSystem` that computes the loss, and the pipeline
that owns the exported folder. :func:`train` does what is the same for every one of them::

    check the resume checkpoint        (a damaged last.ckpt fails before any data work)
    check the data section             (unknown keys are errors; defaults fill the rest)
    check an endless stream's trainer  (max_steps set, val_check_interval in steps)
    task.data_module(config, data)     (the data; may probe the model preset first)
    task.model_kwargs(config, data, module)  (vocab_size, n_mels ... from the data)
    seed, build task.system            (its initialisation is reproducible)
    model.init_from                    (fine-tuning: start from a trained folder's weights)
    fit(system, module, config)        (checkpoints, resume, export of out_dir/model)

The export writes ``model.save_pretrained`` and then ``module.export(directory)``, which each
task's data module implements with its pipeline's ``write_extras`` — so a folder's extra
files are named once, in ``pipelines/``. A task whose run is not one fit (the scene recipe:
teacher → student → probe) gives ``run`` and ``stages`` instead.

Adding a capability = a task module (its data module, System and ``TASK``), a pipeline and a
thin CLI file (``cli/_train.add_train_command``); see ``docs/architecture.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L

from synesthesia.errors import ParameterError
from synesthesia.training.fit import check_resume, fit

__all__ = ["Task", "init_weights", "train"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Task:
    """What one capability's training is made of (see the module docstring).

    Attributes:
        name: the capability (``lm``, ``caption`` ...), as on the command line.
        defaults: the full default config (``configs/<name>/...`` spells it out).
        data_module: ``(config, data) → LightningDataModule``; ``data`` is the checked data
            section with defaults filled in, a copy the factory may pop from.
        model_kwargs: ``(config, data, module) → model.kwargs`` with what follows from the
            data (and a one-line error for a given value that contradicts it).
        system: the System class (or factory) called with ``model_name``, ``model_kwargs``,
            ``optim`` and :attr:`system_kwargs`.
        pipeline: the inference class that owns the exported folder.
        system_kwargs: ``(config, data) → extra System arguments`` (loss settings ...),
            called before the data module so a bad setting fails early; it may pop from
            ``data``.
        role: "a language model" ... : a model that does not build with the kwargs is then a
            one-line error "model.name=... does not build as <role> with ...".
        endless: for tasks trained on an endless stream of batches, the two halves of the
            errors for ``trainer.max_steps=None`` and a fractional ``val_check_interval``.
        announce: ``(system, module, config) → None``: logs what is being trained.
        stages: ``config → [config of each fit]`` whose resume checkpoints are checked first.
        run: replaces the single fit: ``(config, data, callbacks) → result``.
        check_init: ``(folder, module) → None``: refuses a ``model.init_from`` folder whose
            extra files (text processor, tokenizer ...) contradict the data module's (the
            weights' shapes and the AudioConfig are checked for every task).
    """

    name: str
    defaults: dict[str, Any]
    data_module: Callable[[dict[str, Any], dict[str, Any]], Any] | None = None
    model_kwargs: Callable[[dict[str, Any], dict[str, Any], Any], dict[str, Any]] | None = None
    system: Callable[..., Any] | None = None
    pipeline: Any = None
    system_kwargs: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] | None = None
    role: str | None = None
    endless: tuple[str, str] | None = None
    announce: Callable[[Any, Any, dict[str, Any]], None] | None = None
    stages: Callable[[dict[str, Any]], list[dict[str, Any]]] | None = None
    run: Callable[[dict[str, Any], dict[str, Any], Sequence[Any]], Any] | None = None
    check_init: Callable[[Path, Any], None] | None = None


def _data_section(task: Task, config: dict[str, Any]) -> dict[str, Any]:
    """``config["data"]`` checked against the task's keys, with its defaults filled in."""
    known = task.defaults["data"]
    data = dict(config["data"])
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ParameterError(f"unknown config key 'data.{unknown[0]}'; known: {sorted(known)}")
    return {**known, **data}


def _check_endless(task: Task, config: dict[str, Any]) -> None:
    """An endless stream never ends an epoch: max_steps and val_check_interval count steps."""
    if task.endless is None:
        return
    what, stream = task.endless
    trainer = config["trainer"]
    if trainer["max_steps"] is None:
        raise ParameterError(
            f"trainer.max_steps=None: {what}, so set trainer.max_steps (trainer.max_epochs "
            "does not apply)"
        )
    if not isinstance(trainer["val_check_interval"], int):
        raise ParameterError(
            f"trainer.val_check_interval={trainer['val_check_interval']!r} must be a number of "
            f"steps (an integer) for the endless training stream{stream}"
        )


def init_weights(model: Any, folder: str | Path) -> Path:
    """Copy a trained model folder's weights into ``model`` (fine-tuning's starting point).

    Args:
        model: the freshly built network (``system.model``).
        folder: a model folder or the name of a shipped model.

    Returns:
        The folder the weights came from.

    Raises:
        ParameterError: another architecture, another AudioConfig, or a tensor whose name or
            shape differs (e.g. another vocabulary size): the first difference is named.
    """
    from synesthesia.models.base import load_pretrained
    from synesthesia.pipelines.pretrained import resolve_model

    path = resolve_model(folder, default="")
    source = load_pretrained(path)
    if source.architecture != model.architecture:
        raise ParameterError(
            f"model.init_from={str(folder)!r} holds a {source.architecture!r} model, not "
            f"{model.architecture!r}"
        )
    ours, theirs = getattr(model, "audio_config", None), getattr(source, "audio_config", None)
    if ours != theirs:
        raise ParameterError(
            f"model.init_from={str(folder)!r} analyses audio as {theirs}, the config as {ours}"
        )
    target, state = model.state_dict(), source.state_dict()
    for name in sorted(set(target) | set(state)):
        if name not in target or name not in state:
            raise ParameterError(
                f"model.init_from={str(folder)!r} does not fit the config's model: tensor "
                f"{name!r} is only in {'the folder' if name in state else 'the config'}"
            )
        if target[name].shape != state[name].shape:
            raise ParameterError(
                f"model.init_from={str(folder)!r} does not fit the config's model: {name!r} is "
                f"{tuple(state[name].shape)} there, {tuple(target[name].shape)} here"
            )
    model.load_state_dict(state)
    return path


def train(task: Task, config: dict[str, Any], *, callbacks: Sequence[Any] = ()) -> Any:
    """Train ``task`` as ``config`` says and export its model folder.

    Args:
        task: the capability's record.
        config: a validated config (:func:`~synesthesia.training.config.load_config` with
            ``defaults=task.defaults``).
        callbacks: extra Lightning callbacks.

    Returns:
        The :class:`~synesthesia.training.fit.FitResult` of the fit (or what ``task.run``
        returns).
    """
    for stage in task.stages(config) if task.stages else [config]:
        check_resume(stage)  # a damaged checkpoint fails now, not after the data work
    data = _data_section(task, config)
    if task.run is not None and config["model"].get("init_from") is not None:
        raise ParameterError(
            f"model.init_from={config['model']['init_from']!r}: the {task.name} recipe trains "
            "in stages and cannot start from one model folder"
        )
    if task.run is not None:
        return task.run(config, data, callbacks)
    system_kwargs = task.system_kwargs(config, data) if task.system_kwargs else {}
    _check_endless(task, config)
    datamodule = task.data_module(config, data)
    kwargs = task.model_kwargs(config, data, datamodule)
    name = config["model"]["name"]
    L.seed_everything(config["seed"], workers=True, verbose=False)
    try:
        system = task.system(
            model_name=name, model_kwargs=kwargs, optim=config["optim"], **system_kwargs
        )
    except TypeError as exc:
        if task.role is None:
            raise
        raise ParameterError(
            f"model.name={name!r} does not build as {task.role} with {kwargs}: {exc}"
        ) from None
    init_from = config["model"].get("init_from")
    if init_from is not None:
        folder = init_weights(system.model, init_from)
        if task.check_init is not None:
            task.check_init(folder, datamodule)
        log.info("starting from the weights of %s", folder)
    if task.announce is not None:
        task.announce(system, datamodule, config)
    return fit(system, datamodule, config, callbacks=list(callbacks))
