"""Sections of ``synesthesia demo``: each capability contributes one.

A section is a function ``(report, *, workdir, seed) -> None`` that adds to the
:class:`~synesthesia.viz.Report` using built-in data only (no downloads, no Lightning).
Register it in :data:`SECTIONS` in the order the report should show it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from synesthesia.viz.report import Report

__all__ = ["SECTIONS", "get_section"]

SectionFn = Callable[..., None]

#: key -> (title, "module:function"); imported lazily so one section's deps stay its own.
SECTIONS: dict[str, tuple[str, str]] = {
    "audio": ("Sound representations", "synesthesia.demos.audio:run"),
    "captioning": ("Image captioning with visual attention", "synesthesia.demos.captioning:run"),
    "embed": ("Joint audio–image embeddings", "synesthesia.demos.embed:run"),
    "scene": ("Scene recognition by sound", "synesthesia.demos.scene:run"),
    "speech2face": ("Speech2Face", "synesthesia.demos.speech2face:run"),
    "vocoder": ("WaveNet vocoder", "synesthesia.demos.vocoder:run"),
    "speech": ("Text-to-speech", "synesthesia.demos.speech:run"),
    "chain": ("The chain: image → caption → speech → sound → scene → digits",
              "synesthesia.demos.chain:run"),
}  # fmt: skip


def get_section(key: str) -> tuple[str, SectionFn]:
    """Title and function of section ``key``."""
    title, target = SECTIONS[key]
    module, func = target.split(":")
    return title, getattr(importlib.import_module(module), func)


def run_sections(report: Report, keys: list[str], *, workdir: Path, seed: int) -> None:
    """Run the given sections in order, each adding to ``report``."""
    for key in keys:
        title, fn = get_section(key)
        report.section(title)
        fn(report, workdir=workdir, seed=seed)
