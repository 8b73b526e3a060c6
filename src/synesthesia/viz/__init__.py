"""Figures (spectrograms, attention overlays, alignments) and the HTML report."""

from synesthesia.viz.report import Report

__all__ = ["Report"]

from synesthesia.viz.attention import plot_caption_attention, upsample_attention  # noqa: E402

__all__ += ["plot_caption_attention", "upsample_attention"]

from synesthesia.viz.retrieval import plot_retrieval_grid  # noqa: E402

__all__ += ["plot_retrieval_grid"]

from synesthesia.viz.scene import pca_2d, plot_scene_summary  # noqa: E402

__all__ += ["pca_2d", "plot_scene_summary"]

from synesthesia.viz.speech2face import (  # noqa: E402
    plot_face_grid,
    plot_redrawn_faces,
    save_face_png,
)

__all__ += ["plot_face_grid", "plot_redrawn_faces", "save_face_png"]
