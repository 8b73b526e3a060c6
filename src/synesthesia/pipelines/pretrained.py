"""Locate the models and example files shipped inside the package.

Shipped models live in ``synesthesia/pretrained/<name>/`` (config.json, model.safetensors and
what the model needs to run, plus a README.md with the command that reproduces it); example
inputs live in ``synesthesia/assets/``. Both are package data, so they are found the same way
from a source checkout and from an installed wheel.

Example:
    >>> from synesthesia.pipelines import ImageCaptioner, asset_path, pretrained_path
    >>> captioner = ImageCaptioner.from_pretrained(pretrained_path("caption_digits"))
    >>> captioner([asset_path("digit_strip_example.png")])[0].caption
    'seven six three'
"""

from __future__ import annotations

from pathlib import Path

from synesthesia.errors import ParameterError

__all__ = ["asset_path", "list_pretrained", "pretrained_path"]

_PACKAGE = Path(__file__).resolve().parents[1]
PRETRAINED_DIR = _PACKAGE / "pretrained"
ASSETS_DIR = _PACKAGE / "assets"


def list_pretrained() -> list[str]:
    """Names of the shipped models (folders holding a config.json)."""
    if not PRETRAINED_DIR.is_dir():
        return []
    return sorted(p.name for p in PRETRAINED_DIR.iterdir() if (p / "config.json").is_file())


def pretrained_path(name: str) -> Path:
    """The folder of the shipped model ``name`` (e.g. ``"caption_digits"``).

    Raises:
        ParameterError: no shipped model has that name.
    """
    path = PRETRAINED_DIR / str(name)
    if not (path / "config.json").is_file():
        raise ParameterError(f"name={name!r} is not a shipped model; shipped: {list_pretrained()}")
    return path


def asset_path(name: str) -> Path:
    """The path of the shipped example file ``name`` (e.g. ``"digit_strip_example.png"``).

    Raises:
        ParameterError: no such file among the assets.
    """
    path = ASSETS_DIR / str(name)
    if not path.is_file():
        shipped = sorted(p.name for p in ASSETS_DIR.iterdir()) if ASSETS_DIR.is_dir() else []
        raise ParameterError(f"name={name!r} is not a shipped asset; shipped: {shipped}")
    return path
