"""Ranked retrieval grids: the query (spectrogram or image) beside its top-k results.

References:
    The ranked-result figures of Harwath et al., NeurIPS 2016 and Arandjelović & Zisserman,
    ECCV 2018.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

__all__ = ["plot_retrieval_grid", "plot_retrieval_rows"]


def _show(ax: Any, item: torch.Tensor, kind: str) -> None:
    array = item.detach().cpu().to(torch.float32).numpy()
    if kind == "image":
        if array.shape[0] == 1:
            ax.imshow(array[0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        else:
            ax.imshow(np.clip(array.transpose(1, 2, 0), 0.0, 1.0), interpolation="nearest")
    else:  # spectrogram (M, N)
        ax.imshow(array, origin="lower", aspect="auto", cmap="magma")
    ax.set_xticks([])
    ax.set_yticks([])


def plot_retrieval_grid(
    query: torch.Tensor,
    results: Sequence[torch.Tensor],
    *,
    scores: Sequence[float],
    names: Sequence[str],
    query_kind: str = "audio",
    query_name: str = "",
) -> Any:
    """A one-row figure: the query, then each result with its rank, name and score.

    Args:
        query: a log-mel (M, N) for an audio query, or an image (C, H, W) in [0, 1].
        results: the ranked results: images (C, H, W) for an audio query, log-mels (M, N) for
            an image query.
        scores: cosine similarity of each result.
        names: a label of each result (e.g. its file name).
        query_kind: "audio" or "image".
        query_name: title of the query panel.

    Returns:
        A matplotlib Figure.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    result_kind = "image" if query_kind == "audio" else "audio"
    count = len(results)
    fig, axes = plt.subplots(
        1, count + 1, figsize=(2.0 * (count + 1) + 1.0, 2.4), squeeze=False,
        gridspec_kw={"width_ratios": [2.0] + [1.0] * count},
    )  # fmt: skip
    _show(axes[0, 0], query, query_kind)
    axes[0, 0].set_title(f"query: {query_name}" if query_name else "query", fontsize=9)
    for i, (item, score, name) in enumerate(zip(results, scores, names)):
        ax = axes[0, i + 1]
        _show(ax, item, result_kind)
        ax.set_title(f"#{i + 1} {name}\n{score:.3f}", fontsize=8)
    fig.tight_layout()
    return fig


def plot_retrieval_rows(
    rows: Sequence[tuple[str, torch.Tensor, Sequence[torch.Tensor], Sequence[float]]],
    *,
    title: str = "",
) -> Any:
    """Several audio queries, one row each: the query's log-mel, then its ranked images.

    Args:
        rows: per query ``(label, log-mel (M, N), images [(C, H, W)], cosine scores)``.
        title: figure title.

    Returns:
        A ``matplotlib.figure.Figure`` (not attached to pyplot).
    """
    from matplotlib.figure import Figure

    count = max(len(images) for _, _, images, _ in rows)
    fig = Figure(figsize=(2.0 + 1.3 * count, 1.5 * len(rows) + 0.4), layout="constrained")
    axes = fig.subplots(
        len(rows), count + 1, squeeze=False, gridspec_kw={"width_ratios": [2.0] + [1.0] * count}
    )
    for ax in axes.flat:
        ax.axis("off")
    for r, (label, query, images, scores) in enumerate(rows):
        _show(axes[r, 0], query, "audio")
        axes[r, 0].axis("on")
        axes[r, 0].set_title(f"“{label}”", fontsize=9)
        for i, (image, score) in enumerate(zip(images, scores)):
            _show(axes[r, i + 1], image, "image")
            axes[r, i + 1].axis("on")
            axes[r, i + 1].set_title(f"#{i + 1} {score:.2f}", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
