"""Every ``synesthesia <task> train`` command: its shared flags, how they enter the config, and
the one builder (:func:`add_train_command`) that registers a task's command.

A task's command is: load the config over the task's defaults (``--config``, ``--set``), let
the task's CLI file put its own flags into it (``configure``), apply ``--out``,
``--max-steps`` and ``--resume``, validate, run ``synesthesia.training.task.train(task,
config)``, and print the lines of ``report(result)`` on global rank 0. Lightning is imported
inside the command only.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from synesthesia.cli._checks import check_output_dir

__all__ = ["add_train_arguments", "add_train_command", "apply_train_arguments", "shown"]

_RESUME_HELP = (
    "auto (default): continue from OUT/checkpoints/last.ckpt when it exists; never: start "
    "fresh; CKPT: continue from that checkpoint of one of your own runs"
)


def add_train_arguments(
    parser: argparse.ArgumentParser,
    *,
    config_help: str,
    overrides_example: str,
    max_steps_help: str | None = "sets trainer.max_steps",
    resume_help: str = _RESUME_HELP,
    resume_metavar: str = "auto|never|CKPT",
) -> None:
    """Add --config, --out, --set, --max-steps (unless ``max_steps_help`` is None), --resume."""
    parser.add_argument("--config", type=Path, default=None, help=config_help)
    parser.add_argument("--out", type=Path, default=None, help="run folder (sets out_dir)")
    parser.add_argument(
        "--set",
        dest="overrides",
        metavar="KEY=VALUE",
        nargs="+",
        action="extend",
        default=[],
        help=f"config overrides (values are YAML), e.g. --set {overrides_example}",
    )
    if max_steps_help is not None:
        parser.add_argument("--max-steps", type=int, default=None, help=max_steps_help)
    parser.add_argument("--resume", default=None, metavar=resume_metavar, help=resume_help)


def apply_train_arguments(config: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Set out_dir, trainer.max_steps and resume from the flags that were given, and check
    that out_dir can be a writable folder before any data is made or a model built.

    Flags are set directly (not as YAML overrides) so that any path stays a string.
    """
    if args.out is not None:
        config["out_dir"] = str(args.out)
    if getattr(args, "max_steps", None) is not None:
        config["trainer"]["max_steps"] = args.max_steps
    if args.resume is not None:
        config["resume"] = args.resume
    if isinstance(config.get("out_dir"), str) and config["out_dir"]:  # else validate_config
        check_output_dir(config["out_dir"], flag="--out" if args.out is not None else "out_dir")
    return config


def shown(value: float | None, spec: str, unit: str = "") -> str:
    """``value`` formatted with ``spec`` (and ``unit``), or ``n/a`` when it was not logged."""
    return "n/a" if value is None else f"{value:{spec}}{unit}"


def add_train_command(
    sub: argparse._SubParsersAction,
    task: str,
    *,
    help: str,
    description: str,
    config_help: str,
    overrides_example: str,
    report: Callable[[Any], list[str]],
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
    check: Callable[[argparse.Namespace], None] | None = None,
    configure: Callable[[dict[str, Any], argparse.Namespace], None] | None = None,
    **train_arguments: Any,
) -> argparse.ArgumentParser:
    """Register ``train`` under ``sub`` for ``task``.

    Args:
        sub: the capability's sub-command group.
        task: ``"module:NAME"`` of the :class:`~synesthesia.training.task.Task`, imported when
            the command runs (so that ``--help`` and the other commands never load Lightning).
        help: one line for the group's listing.
        description: the command's ``--help`` text.
        config_help: help of ``--config``.
        overrides_example: the ``--set`` example.
        report: ``result → lines`` printed on global rank 0 after training.
        add_arguments: adds the task's own flags (``--text``, ``--data`` ...) before the shared
            ones.
        check: checks the parsed flags before the config is loaded.
        configure: puts the task's own flags into the loaded config.
        **train_arguments: ``max_steps_help``, ``resume_help``, ``resume_metavar`` of
            :func:`add_train_arguments`.

    Returns:
        The ``train`` parser.
    """
    parser = sub.add_parser("train", help=help, description=description)
    if add_arguments is not None:
        add_arguments(parser)
    add_train_arguments(
        parser, config_help=config_help, overrides_example=overrides_example, **train_arguments
    )

    def run(args: argparse.Namespace) -> int:
        from synesthesia.training.config import load_config, validate_config
        from synesthesia.training.logs import route_lightning_logs
        from synesthesia.training.task import train

        module, name = task.split(":")
        record = getattr(importlib.import_module(module), name)
        route_lightning_logs()
        if check is not None:
            check(args)
        config = load_config(args.config, args.overrides, defaults=record.defaults)
        if configure is not None:
            configure(config, args)
        validate_config(apply_train_arguments(config, args))
        result = train(record, config)
        if getattr(result, "is_global_zero", True):
            for line in report(result):
                print(line)
        return 0

    parser.set_defaults(func=run)
    return parser
