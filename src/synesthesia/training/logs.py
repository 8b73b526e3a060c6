"""Route Lightning's log records through the root logger (the CLI's handler, -q/-v).

Lightning attaches its own stream handler to the ``lightning`` loggers; the training commands
call :func:`route_lightning_logs` once so that its messages follow the CLI's verbosity instead
of being printed twice or ignoring ``-q``.
"""

from __future__ import annotations

import logging

__all__ = ["route_lightning_logs"]

_LIGHTNING_LOGGERS = ("lightning", "lightning.pytorch", "lightning.fabric")


def route_lightning_logs() -> None:
    """Clear Lightning's handlers and let its records propagate to the root logger."""
    for name in _LIGHTNING_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.setLevel(logging.NOTSET)
        logger.propagate = True
