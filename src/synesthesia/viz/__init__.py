"""Figures (spectrograms, attention overlays, alignments) and the HTML report."""

from synesthesia.viz.report import Report

__all__ = ["Report"]
