"""One stderr line when an input looks unlike a model's training data (its ``ood.json``)."""

from __future__ import annotations

import sys
from typing import Any

from synesthesia.metrics.ood import ood_warning


def warn_if_ood(what: str, score: float | None, is_ood: bool | None, detector: Any) -> None:
    """Print ``synesthesia: warning: WHAT looks unlike ...`` to stderr when ``is_ood``.

    The exit code is not changed: the answer is still printed, with this caveat beside it.
    The wording is :func:`synesthesia.metrics.ood.ood_warning`'s, which the web app shows too.
    """
    message = ood_warning(what, score, is_ood, detector)
    if message is not None:
        print(f"synesthesia: warning: {message}", file=sys.stderr)
