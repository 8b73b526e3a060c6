"""Flags every ``synesthesia <task> train`` command shares, and how they enter the config."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from synesthesia.cli._checks import check_output_dir

__all__ = ["add_train_arguments", "apply_train_arguments"]

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
