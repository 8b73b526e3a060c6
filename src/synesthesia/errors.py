"""Errors raised by synesthesia.

Every public entry point validates its arguments and raises :class:`ParameterError` (a
``ValueError``) with a message that names the argument, quotes the value and states the rule,
e.g. ``"hop_length=0 must be a positive integer"``. ``assert`` is kept for internal invariants.
"""

from __future__ import annotations

__all__ = ["ParameterError", "ConfigMismatchError", "CheckpointError"]


class ParameterError(ValueError):
    """A bad argument or input: wrong value, shape, dtype, file or format."""


class ConfigMismatchError(ParameterError):
    """Two parts that must share a configuration (e.g. an AudioConfig) do not."""


class CheckpointError(ParameterError):
    """A model folder or checkpoint is missing, corrupt or of another model type."""
