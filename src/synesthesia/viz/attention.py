"""Attention figures: captioning (the image with each word's attention map, one panel per word)
and text-to-speech (the decoder-step × token alignment).

References:
    Xu et al., "Show, Attend and Tell", ICML 2015 (figures 2-3: upsampled soft-attention maps
    overlaid on the image for every generated word).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from synesthesia.errors import ParameterError
from synesthesia.viz._labels import label_symbols, symbol_panel_height

__all__ = ["upsample_attention", "plot_caption_attention", "plot_alignment"]


def upsample_attention(maps: torch.Tensor, *, image_size: tuple[int, int]) -> torch.Tensor:
    """Bilinearly upsample attention maps (L, rows, cols) to (L, H, W) image coordinates."""
    if maps.dim() != 3:
        raise ParameterError(f"maps with shape {tuple(maps.shape)} must be (L, rows, columns)")
    up = F.interpolate(
        maps[:, None].float(), size=tuple(image_size), mode="bilinear", align_corners=False
    )
    return up[:, 0]


#: font size (points) of the word titles above the caption overlays and of the figure title
WORD_FONTSIZE, TITLE_FONTSIZE = 11.0, 12.0


def plot_caption_attention(
    image: torch.Tensor,
    words: Sequence[str],
    maps: torch.Tensor,
    *,
    max_columns: int = 6,
    overlay_alpha: float = 0.6,
    panel_size: float = 2.0,
    max_width: float = 10.0,
    title: str | None = None,
):
    """The image, then one panel per word with its upsampled attention map overlaid.

    The figure is at most ``max_width`` inches wide, so that it is read at about its own size
    (a page or a screen) and the word titles (:data:`WORD_FONTSIZE` points) stay legible: wide
    images (a 32 × 128 digit strip) get fewer columns and smaller panels, down to half of
    ``panel_size``, rather than a figure many times wider than a screen.

    Args:
        image: (C, H, W) with values in [0, 1] (C = 1 or 3).
        words: the generated words (``<end>`` may be included as a word).
        maps: (L, rows, columns) attention maps, L ≥ len(words) (extra maps are ignored).
        max_columns: panels per row at most.
        overlay_alpha: opacity of the attention overlay.
        panel_size: preferred panel height in inches (width follows the image aspect).
        max_width: figure width limit in inches.
        title: optional figure title.

    Returns:
        A ``matplotlib.figure.Figure`` (not attached to pyplot; save it or pass it to
        ``Report.figure``).
    """
    from matplotlib.figure import Figure

    if image.dim() != 3 or image.shape[0] not in (1, 3):
        raise ParameterError(f"image with shape {tuple(image.shape)} must be (C, H, W), C = 1 or 3")
    if maps.dim() != 3 or maps.shape[0] < len(words):
        raise ParameterError(
            f"maps with shape {tuple(maps.shape)} must be (L, rows, columns) with "
            f"L >= {len(words)} words"
        )
    if isinstance(max_columns, bool) or not isinstance(max_columns, int) or max_columns < 1:
        raise ParameterError(f"max_columns={max_columns!r} must be a positive integer")
    for name, value in (("panel_size", panel_size), ("max_width", max_width)):
        if not float(value) > 0:
            raise ParameterError(f"{name}={value!r} must be a positive number of inches")
    height, width = image.shape[-2:]
    picture = image.detach().float().cpu().clamp(0, 1).permute(1, 2, 0).numpy()
    if picture.shape[-1] == 1:
        picture = np.repeat(picture, 3, axis=-1)
    up = upsample_attention(maps[: len(words)].detach().cpu(), image_size=(height, width)).numpy()
    panels = len(words) + 1
    aspect = width / height
    natural = panel_size * aspect  # preferred panel width (inches)
    fit = max(1, int(max_width // (0.5 * natural)))  # columns that fit at half size or more
    columns = min(max_columns, panels, fit)
    rows = -(-panels // columns)
    panel_width = min(natural, max_width / columns)
    panel_height = panel_width / aspect
    title_room = 2.2 * WORD_FONTSIZE / 72  # a word title and the gap above it (inches)
    fig_height = rows * (panel_height + title_room) + (2.0 * TITLE_FONTSIZE / 72 if title else 0)
    fig = Figure(figsize=(columns * panel_width, fig_height))
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    axes.flat[0].imshow(picture)
    axes.flat[0].set_title("image", fontsize=WORD_FONTSIZE)
    for i, word in enumerate(words):
        ax = axes.flat[i + 1]
        ax.imshow(picture)
        ax.imshow(up[i], cmap="jet", alpha=overlay_alpha, vmin=0.0, vmax=float(up[i].max()) or 1.0)
        ax.set_title(word, fontsize=WORD_FONTSIZE)
    if title:
        fig.suptitle(title, fontsize=TITLE_FONTSIZE)
    fig.tight_layout()
    return fig


def plot_alignment(
    alignment: torch.Tensor, *, tokens: Sequence[str] | None = None, title: str | None = None,
    reduction_factor: int = 1, hop_seconds: float | None = None,
):  # fmt: skip
    """A text-to-speech alignment as an image: decoder time across, tokens up.

    Args:
        alignment: attention weights (N_steps, L) of one utterance (valid part only).
        tokens: the L token labels for the vertical axis (default: indices).
        title: figure title.
        reduction_factor: frames per decoder step, for a time axis in frames or seconds.
        hop_seconds: seconds per frame; given, the horizontal axis is in seconds.

    Returns:
        A matplotlib Figure (close it with ``plt.close(fig)``).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if alignment.dim() != 2 or 0 in alignment.shape:
        raise ParameterError(
            f"alignment with shape {tuple(alignment.shape)} must be a non-empty (N_steps, L)"
        )
    if tokens is not None and len(tokens) != alignment.shape[1]:
        raise ParameterError(f"tokens has {len(tokens)} labels for L={alignment.shape[1]}")
    data = alignment.detach().float().cpu().numpy().T  # (L, N)
    steps, length = alignment.shape
    width = min(14.0, 3.0 + steps / 25)
    height = min(10.0, 2.5 + length / 12)
    if tokens is not None:  # room for a readable label per token, up to 10 inches
        height = max(height, symbol_panel_height(length, minimum=3.0, maximum=10.0))
    fig, ax = plt.subplots(figsize=(width, height))
    if hop_seconds is not None:
        extent = (0, steps * reduction_factor * hop_seconds, -0.5, length - 0.5)
        xlabel = "time (s)"
    else:
        extent = (0, steps * reduction_factor, -0.5, length - 0.5)
        xlabel = "decoder frame"
    image = ax.imshow(
        data,
        aspect="auto",
        origin="lower",
        interpolation="nearest",
        extent=extent,
        vmin=0.0,
        vmax=max(float(data.max()), 1e-6),
        cmap="viridis",
    )
    ax.set_xlabel(xlabel)
    ax.set_ylabel("token")
    fig.colorbar(image, ax=ax, label="attention weight")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    if tokens is not None:  # how many labels fit depends on the layout, which they change
        for _ in range(2):
            stride = label_symbols(ax, list(tokens))
            ax.set_ylabel("token" if stride == 1 else f"token (every {stride})")
            fig.tight_layout()
    return fig
