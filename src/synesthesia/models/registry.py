"""Model registry: named presets (``gpt_tiny``, ``wavenet_small`` ...) → constructed modules.

Presets are registered with :func:`register_model` in each architecture's file; every
``*_tiny`` preset is exercised by the test suite.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any

from torch import nn

from synesthesia.errors import ParameterError

__all__ = ["register_model", "create_model", "list_models", "model_defaults"]

_PRESETS: dict[str, tuple[Callable[..., nn.Module], dict[str, Any]]] = {}


def register_model(name: str, factory: Callable[..., nn.Module], **defaults: Any) -> None:
    """Register preset ``name``: ``create_model(name, **kw)`` calls ``factory(**defaults, **kw)``.

    Args:
        name: preset name, e.g. "gpt_tiny".
        factory: a model class or function.
        defaults: keyword arguments of the preset.
    """
    if name in _PRESETS:
        raise RuntimeError(f"model preset {name!r} is registered twice")
    _PRESETS[name] = (factory, dict(defaults))


def _ensure_loaded() -> None:
    import synesthesia.models  # noqa: F401  (each model file registers its presets)


def create_model(name: str, **overrides: Any) -> nn.Module:
    """Build preset ``name`` with keyword ``overrides`` of its defaults."""
    _ensure_loaded()
    if name not in _PRESETS:
        raise ParameterError(f"model name={name!r} is not registered; known: {list_models()}")
    factory, defaults = _PRESETS[name]
    return factory(**{**defaults, **overrides})


def model_defaults(name: str) -> dict[str, Any]:
    """The keyword arguments of preset ``name``."""
    _ensure_loaded()
    if name not in _PRESETS:
        raise ParameterError(f"model name={name!r} is not registered; known: {list_models()}")
    return dict(_PRESETS[name][1])


def list_models(pattern: str = "*") -> list[str]:
    """Registered preset names matching the shell-style ``pattern`` (e.g. "*_tiny")."""
    _ensure_loaded()
    return sorted(n for n in _PRESETS if fnmatch.fnmatch(n, pattern))
