"""One stderr line when an input looks unlike a model's training data (its ``ood.json``)."""

from __future__ import annotations

import sys
from typing import Any


def warn_if_ood(what: str, score: float | None, is_ood: bool | None, detector: Any) -> None:
    """Print ``synesthesia: warning: WHAT looks unlike ...`` to stderr when ``is_ood``.

    The exit code is not changed: the answer is still printed, with this caveat beside it.
    """
    if is_ood and detector is not None and score is not None:
        print(
            f"synesthesia: warning: {what} looks unlike the model's training data "
            f"({detector.describe(score)})",
            file=sys.stderr,
        )
