"""Helpers shared by the benchmark scripts.

The scripts run as ``python benchmarks/NAME.py``, so this folder is on ``sys.path`` and they
import it as ``from _timing import median_time, markdown_table``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence


def median_time(fn: Callable[[], object], repeats: int, *, warmup: bool = True) -> float:
    """Median wall-clock seconds of ``repeats`` calls of ``fn()`` (after one untimed call
    when ``warmup``: first-call compilation and allocation are left out)."""
    if warmup:
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table (header, separator, one line per row) as docs/*.md print them."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
