"""Figures for Speech2Face: the voice's true face | decoded from the true face feature |
decoded from the voice, one row per speaker; and a face image written as a PNG.

References:
    Oh et al., "Speech2Face", CVPR 2019 (Fig. 1/4: the true face, the face decoded from the
    face feature, and the face reconstructed from speech, side by side).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from synesthesia.errors import ParameterError

__all__ = ["plot_face_grid", "plot_redrawn_faces", "save_face_png"]

COLUMNS = ("true face", "decoded from face feature", "decoded from voice")


def _to_numpy(image: torch.Tensor) -> np.ndarray:
    """(3, S, S) in [0, 1] → (S, S, 3) float array."""
    return image.detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()


def save_face_png(image: torch.Tensor, path: str | os.PathLike, *, scale: int = 1) -> Path:
    """Write one face (3, S, S) in [0, 1] as a PNG (nearest-neighbour enlarged ``scale``×)."""
    from PIL import Image

    if not isinstance(image, torch.Tensor) or image.dim() != 3 or image.shape[0] != 3:
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise ParameterError(f"image of shape {shape} must be (3, S, S)")
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise ParameterError(f"scale={scale!r} must be a positive integer")
    pixels = (_to_numpy(image) * 255 + 0.5).astype(np.uint8)
    picture = Image.fromarray(pixels)
    if scale > 1:
        picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    picture.save(path)
    return path


def plot_face_grid(
    true_faces: torch.Tensor,
    from_face: torch.Tensor,
    from_voice: torch.Tensor,
    *,
    row_labels: Sequence[str] | None = None,
    title: str = "",
) -> Any:
    """One row per speaker: true face | decoded from its face feature | decoded from its voice.

    Args:
        true_faces: (R, 3, S, S) in [0, 1].
        from_face: (R, 3, S', S') the decoder's output for the true face features.
        from_voice: (R, 3, S', S') the decoder's output for the voice's predicted features.
        row_labels: R labels (speaker names ...) drawn left of each row.
        title: figure title.

    Returns:
        A ``matplotlib.figure.Figure`` (not attached to pyplot).
    """
    from matplotlib.figure import Figure

    rows = len(true_faces)
    if rows < 1 or len(from_face) != rows or len(from_voice) != rows:
        raise ParameterError(
            f"true_faces, from_face and from_voice hold {rows}, {len(from_face)} and "
            f"{len(from_voice)} images; they must hold the same number (>= 1)"
        )
    fig = Figure(figsize=(4.8, 1.6 * rows + 0.4))
    axes = fig.subplots(rows, 3, squeeze=False)
    for r in range(rows):
        for c, images in enumerate((true_faces, from_face, from_voice)):
            ax = axes[r][c]
            ax.imshow(_to_numpy(images[r]), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(COLUMNS[c], fontsize=8)
        if row_labels is not None:
            axes[r][0].set_ylabel(str(row_labels[r]), fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def plot_redrawn_faces(
    originals: torch.Tensor, redrawn: torch.Tensor, *, columns: int = 8, title: str = ""
) -> Any:
    """Pairs of rows: the original faces above, the decoder's redrawing of each below.

    Args:
        originals: (N, C, H, W) in [0, 1] (C = 1 is shown grey).
        redrawn: (N, 3, S, S) in [0, 1].
        columns: faces per row.
        title: figure title.

    Returns:
        A ``matplotlib.figure.Figure``.
    """
    from matplotlib.figure import Figure

    count = len(originals)
    if count < 1 or len(redrawn) != count:
        raise ParameterError(
            f"originals and redrawn hold {count} and {len(redrawn)} images; they must hold the "
            "same number (>= 1)"
        )
    if isinstance(columns, bool) or not isinstance(columns, int) or columns < 1:
        raise ParameterError(f"columns={columns!r} must be a positive integer")
    columns = min(columns, count)
    blocks = -(-count // columns)
    fig = Figure(figsize=(1.0 * columns, 2.0 * blocks + 0.4))
    axes = fig.subplots(2 * blocks, columns, squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for i in range(count):
        row, column = divmod(i, columns)
        for offset, images in enumerate((originals, redrawn)):
            image = images[i]
            image = image.expand(3, -1, -1) if image.shape[0] == 1 else image
            axes[2 * row + offset][column].imshow(_to_numpy(image), interpolation="nearest")
    if title:
        fig.suptitle(title, fontsize=9)
    return fig
