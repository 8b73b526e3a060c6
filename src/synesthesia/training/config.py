"""Training configuration: YAML file + ``key.sub=value`` overrides → a validated nested dict.

The schema (every key, its default and its rule) is :data:`DEFAULTS` below; a task adds its own
``data`` section and model preset (see ``synesthesia.training.lm.LM_DEFAULTS``). Precedence:
defaults < YAML file < command-line overrides. Unknown keys are errors (they usually are typos),
except inside the free-form ``data`` and ``model.kwargs`` sections that the task validates.

Example::

    seed: 0
    out_dir: runs/lm            # checkpoints/, logs/ and model/ (the exported model) go here
    resume: auto                # auto | never | PATH/TO/some.ckpt
    model: {name: gpt_tiny, kwargs: {}, init_from: null}   # init_from: fine-tune a model folder
    data: {...}                 # task-specific
    optim: {lr: 3.0e-4, weight_decay: 0.01, betas: [0.9, 0.95], warmup_steps: 100,
            scheduler: cosine}
    trainer: {max_steps: 1000, accelerator: auto, devices: 1, strategy: auto, ...}
    checkpoint: {monitor: val/loss, mode: min, save_top_k: 1, every_n_train_steps: null,
                 export: best}
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from synesthesia.errors import ParameterError

__all__ = ["DEFAULTS", "default_config", "load_config", "apply_overrides", "validate_config"]

#: the generic schema with its defaults; tasks override ``model``, ``data`` and ``out_dir``
DEFAULTS: dict[str, Any] = {
    "seed": 0,
    "out_dir": "runs/train",
    "resume": "auto",
    "model": {"name": None, "kwargs": {}, "init_from": None},
    "data": {},
    "optim": {
        "lr": 3.0e-4,
        "weight_decay": 0.01,
        "betas": [0.9, 0.95],
        "eps": 1.0e-8,
        "warmup_steps": 100,
        "scheduler": "cosine",
        "min_lr_ratio": 0.1,
    },
    "trainer": {
        "max_steps": 1000,
        "max_epochs": None,
        "accelerator": "auto",
        "devices": 1,
        "num_nodes": 1,
        "strategy": "auto",
        "precision": "32-true",
        "val_check_interval": None,
        "limit_val_batches": None,
        "num_sanity_val_steps": 2,
        "log_every_n_steps": 10,
        "gradient_clip_val": 1.0,
        "accumulate_grad_batches": 1,
        "deterministic": False,
        "progress_bar": True,
    },
    "checkpoint": {
        "monitor": "val/loss",
        "mode": "min",
        "save_top_k": 1,
        "every_n_train_steps": None,
        "export": "best",
    },
}

_FREE_FORM = ("data", "model.kwargs")
SCHEDULERS = ("cosine", "linear", "constant")


def default_config() -> dict[str, Any]:
    """A deep copy of :data:`DEFAULTS`."""
    return copy.deepcopy(DEFAULTS)


# -- value rules ---------------------------------------------------------------------------
def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    """A finite int or float (not a bool, NaN or infinity)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _positive_int(v: Any) -> bool:
    return _is_int(v) and v > 0


def _optional(rule: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: v is None or rule(v)


def _betas(v: Any) -> bool:
    return (
        isinstance(v, (list, tuple))
        and len(v) == 2
        and all(_is_number(b) and 0 <= b < 1 for b in v)
    )


def _val_interval(v: Any) -> bool:
    return v is None or _positive_int(v) or (isinstance(v, float) and 0 < v <= 1)


def _devices(v: Any) -> bool:
    if _is_int(v):
        return v > 0 or v == -1
    if isinstance(v, str):
        return bool(v)
    return isinstance(v, list) and all(_is_int(d) and d >= 0 for d in v)


#: dotted key → (rule, description of the rule for the error message)
RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "seed": (lambda v: _is_int(v) and v >= 0, "must be a non-negative integer"),
    "out_dir": (lambda v: isinstance(v, str) and bool(v), "must be a non-empty path"),
    "resume": (lambda v: isinstance(v, str) and bool(v), "must be 'auto', 'never' or a path"),
    "model.name": (_optional(lambda v: isinstance(v, str)), "must be a registered model name"),
    "model.kwargs": (lambda v: isinstance(v, dict), "must be a mapping"),
    "model.init_from": (
        _optional(lambda v: isinstance(v, str) and bool(v)),
        "must be a model folder or the name of a shipped model",
    ),
    "data": (lambda v: isinstance(v, dict), "must be a mapping"),
    "optim.lr": (lambda v: _is_number(v) and v > 0, "must be a positive number"),
    "optim.weight_decay": (lambda v: _is_number(v) and v >= 0, "must be a number >= 0"),
    "optim.betas": (_betas, "must be a list of two numbers in [0, 1)"),
    "optim.eps": (lambda v: _is_number(v) and v > 0, "must be a positive number"),
    "optim.warmup_steps": (lambda v: _is_int(v) and v >= 0, "must be an integer >= 0"),
    "optim.scheduler": (lambda v: v in SCHEDULERS, f"must be one of {list(SCHEDULERS)}"),
    "optim.min_lr_ratio": (lambda v: _is_number(v) and 0 <= v <= 1, "must be in [0, 1]"),
    "trainer.max_steps": (_optional(_positive_int), "must be a positive integer or null"),
    "trainer.max_epochs": (_optional(_positive_int), "must be a positive integer or null"),
    "trainer.accelerator": (lambda v: isinstance(v, str), "must be a string (auto, cpu, gpu)"),
    "trainer.devices": (_devices, "must be a positive integer, -1, 'auto' or a list of ids"),
    "trainer.num_nodes": (_positive_int, "must be a positive integer"),
    "trainer.strategy": (lambda v: isinstance(v, str), "must be a string (auto, ddp ...)"),
    "trainer.precision": (
        lambda v: isinstance(v, str) or _is_int(v),
        "must be a Lightning precision such as '32-true' or 'bf16-mixed'",
    ),
    "trainer.val_check_interval": (
        _val_interval,
        "must be a positive integer (steps), a float in (0, 1] (epoch fraction) or null",
    ),
    "trainer.limit_val_batches": (
        lambda v: v is None or _positive_int(v) or (isinstance(v, float) and 0 < v <= 1),
        "must be a positive integer, a float in (0, 1] or null",
    ),
    "trainer.num_sanity_val_steps": (lambda v: _is_int(v) and v >= -1, "must be an integer >= -1"),
    "trainer.log_every_n_steps": (_positive_int, "must be a positive integer"),
    "trainer.gradient_clip_val": (
        _optional(lambda v: _is_number(v) and v >= 0),
        "must be a number >= 0 or null",
    ),
    "trainer.accumulate_grad_batches": (_positive_int, "must be a positive integer"),
    "trainer.deterministic": (lambda v: isinstance(v, bool), "must be true or false"),
    "trainer.progress_bar": (lambda v: isinstance(v, bool), "must be true or false"),
    "checkpoint.monitor": (_optional(lambda v: isinstance(v, str)), "must be a metric name"),
    "checkpoint.mode": (lambda v: v in ("min", "max"), "must be 'min' or 'max'"),
    "checkpoint.save_top_k": (lambda v: _is_int(v) and v >= -1, "must be an integer >= -1"),
    "checkpoint.every_n_train_steps": (
        _optional(_positive_int),
        "must be a positive integer or null",
    ),
    "checkpoint.export": (lambda v: v in ("best", "last"), "must be 'best' or 'last'"),
}

#: keys whose YAML value may arrive as a string (PyYAML reads ``3e-4`` as text)
_FLOAT_KEYS = ("optim.lr", "optim.weight_decay", "optim.eps", "optim.min_lr_ratio")


# -- loading -------------------------------------------------------------------------------
def _read_yaml(path: str | os.PathLike) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"config={str(path)!r} does not exist or is not a file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ParameterError(f"config={str(path)!r} is not valid YAML: {_one_line(exc)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParameterError(f"config={str(path)!r} must hold a mapping, got {type(data).__name__}")
    return data


def _one_line(exc: Exception) -> str:
    """A YAML (or decoding) error in one line: the problem and where it is."""
    problem = getattr(exc, "problem", None)
    mark = getattr(exc, "problem_mark", None)
    if problem and mark is not None:
        return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
    return " ".join(str(exc).split())


def _is_free(dotted: str) -> bool:
    return any(dotted == f or dotted.startswith(f + ".") for f in _FREE_FORM)


def _merge(base: dict[str, Any], update: Mapping[str, Any], prefix: str = "") -> None:
    """Merge ``update`` into ``base`` in place; unknown keys outside free sections are errors."""
    for key, value in update.items():
        dotted = f"{prefix}{key}"
        if not isinstance(key, str):
            raise ParameterError(f"config key {dotted!r} must be a string")
        if key not in base and not _is_free(dotted):
            where = f"section {prefix[:-1]!r}" if prefix else "the top level"
            raise ParameterError(
                f"unknown config key {dotted!r}; known keys in {where}: {sorted(base)}"
            )
        if isinstance(base.get(key), dict) and not _is_free(dotted + "."):
            if not isinstance(value, dict):
                raise ParameterError(f"config {dotted}={value!r} must be a mapping")
            _merge(base[key], value, dotted + ".")
        elif isinstance(base.get(key), dict) and isinstance(value, dict):
            _merge(base[key], value, dotted + ".")
        else:
            base[key] = copy.deepcopy(value)


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``"key.sub=value"``; the value is read as a YAML scalar (``1e-3`` as a number)."""
    if not isinstance(text, str) or "=" not in text:
        raise ParameterError(f"override {text!r} must look like key.sub=value")
    key, _, raw = text.partition("=")
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise ParameterError(f"override {text!r} must look like key.sub=value")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as exc:
        raise ParameterError(
            f"override {text!r} has a value that is not YAML: {_one_line(exc)}"
        ) from None
    return key, value


def apply_overrides(config: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Apply ``key.sub=value`` strings to ``config`` in place and return it."""
    for text in overrides:
        key, value = parse_override(text)
        nested: Any = value
        for part in reversed(key.split(".")):
            nested = {part: nested}
        _merge(config, nested)
    return config


def _coerce_floats(config: dict[str, Any]) -> None:
    for dotted in _FLOAT_KEYS:
        section, key = dotted.split(".")
        value = config[section].get(key)
        if isinstance(value, str):
            try:
                config[section][key] = float(value)
            except ValueError:
                pass  # the rule below reports it


def validate_config(config: dict[str, Any]) -> dict[str, Any]:
    """Check every known key against :data:`RULES`; returns ``config``.

    Raises:
        ParameterError: naming the first bad key, its value and the rule.
    """
    _coerce_floats(config)
    config["model"].setdefault("init_from", None)
    for dotted, (rule, message) in RULES.items():
        node: Any = config
        for part in dotted.split("."):
            node = node[part]
        if not rule(node):
            raise ParameterError(f"config {dotted}={node!r} {message}")
    resume = config["resume"]
    if resume not in ("auto", "never"):  # a path: check it now, before any data or model work
        if not Path(resume).is_file():
            raise ParameterError(f"resume={resume!r} must be 'auto', 'never' or an existing .ckpt")
        from synesthesia.training.fit import check_checkpoint

        check_checkpoint(Path(resume))
    if config["model"]["init_from"] is not None:  # a typo fails now, not after the data work
        from synesthesia.pipelines.pretrained import list_pretrained, resolve_model

        try:
            resolve_model(config["model"]["init_from"], default="")
        except ParameterError:
            raise ParameterError(
                f"config model.init_from={config['model']['init_from']!r} is neither a model "
                f"folder nor a shipped model; shipped: {list_pretrained()}"
            ) from None
    trainer = config["trainer"]
    if trainer["max_steps"] is None and trainer["max_epochs"] is None:
        raise ParameterError(
            "config trainer.max_steps=None and trainer.max_epochs=None: set at least one"
        )
    return config


def load_config(
    path: str | os.PathLike | None = None,
    overrides: Iterable[str] = (),
    *,
    defaults: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Defaults, then the YAML file at ``path``, then ``overrides``; validated.

    Args:
        path: a YAML file (``None``: defaults only).
        overrides: ``"key.sub=value"`` strings, applied in order.
        defaults: the task's defaults (``None``: :data:`DEFAULTS`). Must have the same
            top-level keys as :data:`DEFAULTS`.

    Returns:
        The nested configuration dict.

    Raises:
        ParameterError: missing/invalid file, unknown key, bad override or bad value.
    """
    config = copy.deepcopy(dict(defaults)) if defaults is not None else default_config()
    config["model"].setdefault("init_from", None)  # a task's preset may leave it out
    if path is not None:
        _merge(config, _read_yaml(path))
    apply_overrides(config, overrides)
    return validate_config(config)
