"""Legible per-symbol axis labels for alignment figures.

An alignment has one row per input symbol; a long sentence has more symbols than labels of a
readable size fit beside the axes. :func:`label_symbols` keeps the font at
:data:`SYMBOL_FONTSIZE` and labels every k-th symbol (the smallest k whose labels fit the axes'
height), with an unlabelled minor tick on every symbol.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["SYMBOL_FONTSIZE", "label_symbols", "symbol_capacity", "symbol_panel_height"]

#: font size (points) of the symbol labels; never shrunk to make more of them fit
SYMBOL_FONTSIZE = 8.0
#: vertical room one label needs, in multiples of its font size (glyph box + a gap)
LINE_SPACING = 1.4
#: what a space symbol is drawn as (a blank label would be invisible)
SPACE_GLYPH = "\u2423"


def symbol_panel_height(num_symbols: int, *, minimum: float, maximum: float) -> float:
    """Inches of figure height for one alignment panel: enough for every symbol's label (plus
    about 1 inch of axis label, title and margins), between ``minimum`` and ``maximum``."""
    needed = 1.0 + num_symbols * SYMBOL_FONTSIZE * LINE_SPACING / 72.0
    return float(min(maximum, max(minimum, needed)))


def symbol_capacity(ax) -> int:
    """How many labels of :data:`SYMBOL_FONTSIZE` fit along the y axis of ``ax`` as laid out."""
    fig = ax.get_figure()
    height_points = ax.get_position().height * fig.get_figheight() * 72.0
    return max(1, int(height_points // (SYMBOL_FONTSIZE * LINE_SPACING)))


def label_symbols(ax, labels: Sequence[str]) -> int:
    """Label the y axis of ``ax`` (rows 0 .. L-1) with ``labels`` without overlap.

    Call it after the figure's layout is final (e.g. after ``tight_layout``): the number of
    labels that fit depends on the axes' height.

    Returns:
        The stride k: every k-th symbol is labelled (1: all of them).
    """
    length = len(labels)
    stride = max(1, math.ceil(length / symbol_capacity(ax)))
    shown = range(0, length, stride)
    ax.set_yticks(list(shown))
    ax.set_yticklabels(
        [SPACE_GLYPH if labels[i] == " " else str(labels[i]) for i in shown],
        fontsize=SYMBOL_FONTSIZE,
    )
    if stride > 1:
        ax.set_yticks(range(length), minor=True)
        ax.tick_params(axis="y", which="minor", length=2)
    return stride
