"""Figures for scene recognition by sound: a confusion matrix and PCA maps of features.

References:
    Aytar, Vondrick & Torralba, "SoundNet", NeurIPS 2016 (linear separability of the learned
    sound features); PCA by the SVD of the centred features.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

__all__ = ["pca_2d", "plot_scene_probabilities", "plot_scene_summary"]


def pca_2d(features: torch.Tensor) -> torch.Tensor:
    """The first two principal-component coordinates (B, 2) of features (B, D)."""
    centred = features.detach().to(torch.float64) - features.detach().to(torch.float64).mean(0)
    _, _, v = torch.linalg.svd(centred, full_matrices=False)
    return centred @ v[:2].T


def plot_scene_summary(
    confusion: Sequence[Sequence[int]],
    class_names: Sequence[str],
    features: Mapping[str, tuple[torch.Tensor, torch.Tensor]],
    *,
    title: str = "",
) -> Any:
    """Confusion matrix of the probe, then one PCA scatter per feature set.

    Args:
        confusion: (K, K) counts, rows = true class, columns = predicted.
        class_names: the K class names.
        features: panel title → (features (B, D), labels (B,)).
        title: figure title.

    Returns:
        A matplotlib Figure.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    panels = 1 + len(features)
    fig, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 4.0), squeeze=False)
    ax = axes[0, 0]
    matrix = torch.as_tensor(confusion, dtype=torch.float64)
    ax.imshow(matrix.numpy(), cmap="Blues")
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            if matrix[i, j] > 0:
                colour = "white" if matrix[i, j] > matrix.max() / 2 else "black"
                ax.text(j, i, int(matrix[i, j]), ha="center", va="center", fontsize=7, color=colour)
    ticks = range(len(class_names))
    ax.set_xticks(ticks, class_names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(ticks, class_names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("probe confusion (held-out clips)", fontsize=9)
    colours = plt.get_cmap("tab10")
    for ax, (name, (values, labels)) in zip(axes[0, 1:], features.items()):
        points = pca_2d(values).numpy()
        for k, class_name in enumerate(class_names):
            chosen = (labels == k).numpy()
            ax.scatter(*points[chosen].T, s=8, color=colours(k), label=class_name)
        ax.set_title(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0, -1].legend(fontsize=7, loc="best", markerscale=1.5)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_scene_probabilities(
    probabilities: Mapping[str, float], *, title: str = "", warning: str | None = None
) -> Any:
    """Horizontal bars: each scene class and its probability, most likely on top.

    Args:
        probabilities: class name → probability.
        title: figure title.
        warning: drawn under the bars in red (e.g. the out-of-distribution caveat).

    Returns:
        A ``matplotlib.figure.Figure`` (not attached to pyplot).
    """
    from matplotlib.figure import Figure

    pairs = sorted(probabilities.items(), key=lambda item: item[1])
    fig = Figure(figsize=(6.0, 0.35 * len(pairs) + (1.6 if warning else 1.2)), layout="constrained")
    ax = fig.subplots()
    ax.barh([name for name, _ in pairs], [value for _, value in pairs], color="tab:blue")
    for row, (_, value) in enumerate(pairs):
        ax.text(min(value + 0.01, 0.9), row, f"{value:.2f}", va="center", fontsize=8)
    ax.set(xlim=(0, 1), xlabel="probability")
    if title:
        ax.set_title(title, fontsize=10)
    if warning:
        fig.supxlabel(warning, fontsize=7, color="tab:red", wrap=True)
    return fig
