"""Text-to-speech figures: the predicted log-mel and each sentence's attention alignment.

The alignment plot (decoder time across, input symbols up) is the first thing a TTS user
looks at: a clean diagonal means every symbol was spoken once, in order. Its symbol labels keep
a readable size: a panel grows with the sentence up to :data:`MAX_PANEL_HEIGHT` inches, and
beyond that every k-th symbol is labelled (see :mod:`synesthesia.viz._labels`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from synesthesia.errors import ParameterError
from synesthesia.viz._labels import label_symbols, symbol_panel_height

__all__ = ["plot_speech", "save_alignment_figure"]

#: sentences drawn at most (the rest are summarised in the title)
MAX_PANELS = 4
#: height (inches) of the mel panel and the smallest / largest alignment panel
MEL_PANEL_HEIGHT, MIN_PANEL_HEIGHT, MAX_PANEL_HEIGHT = 2.6, 2.6, 5.0


def plot_speech(speech: Any, *, hop_seconds: float, reduction_factor: int, title: str = ""):
    """Figure: the log-mel of the whole text on top, one alignment panel per sentence below.

    Args:
        speech: a :class:`synesthesia.pipelines.tts.Speech` (``mel`` (M, N), ``alignments``
            [(N_steps, L)], ``symbols``, ``sentences``).
        hop_seconds: seconds per mel frame.
        reduction_factor: mel frames per decoder step.
        title: figure title.

    Returns:
        A matplotlib Figure (close it with ``plt.close(fig)``).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if not speech.alignments:
        raise ParameterError("speech has no alignments to draw")
    panels = min(len(speech.alignments), MAX_PANELS)
    heights = [MEL_PANEL_HEIGHT] + [
        symbol_panel_height(
            speech.alignments[k].shape[-1], minimum=MIN_PANEL_HEIGHT, maximum=MAX_PANEL_HEIGHT
        )
        for k in range(panels)
    ]
    fig, axes = plt.subplots(
        1 + panels,
        1,
        figsize=(10, sum(heights)),
        squeeze=False,
        gridspec_kw={"height_ratios": heights},
    )
    mel = speech.mel.detach().float().cpu().numpy()
    ax = axes[0, 0]
    image = ax.imshow(
        mel,
        aspect="auto",
        origin="lower",
        interpolation="nearest",
        extent=(0, mel.shape[1] * hop_seconds, 0, mel.shape[0]),
        cmap="magma",
    )
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mel bin")
    ax.set_title(title or f"predicted log-mel ({len(speech.sentences)} sentence(s))")
    fig.colorbar(image, ax=ax, label="log mel magnitude")
    for k in range(panels):
        ax = axes[1 + k, 0]
        alignment = speech.alignments[k].detach().float().cpu().numpy().T  # (L, N_steps)
        length, steps = alignment.shape
        seconds = steps * reduction_factor * hop_seconds
        image = ax.imshow(alignment, aspect="auto", origin="lower", interpolation="nearest",
                          extent=(0, seconds, -0.5, length - 0.5), vmin=0.0,
                          vmax=max(float(alignment.max()), 1e-6), cmap="viridis")  # fmt: skip
        sentence = speech.sentences[k]
        ax.set_title(sentence if len(sentence) <= 90 else sentence[:87] + "...", fontsize=9)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("input symbol")
        fig.colorbar(image, ax=ax, label="attention")
    if len(speech.alignments) > panels:
        fig.suptitle(f"first {panels} of {len(speech.alignments)} sentences", fontsize=9)
    fig.tight_layout()
    labelled = [
        k for k in range(panels) if len(speech.symbols[k]) + 1 == speech.alignments[k].shape[-1]
    ]
    for _ in range(2):  # how many labels fit depends on the layout, which their width changes
        for k in labelled:
            stride = label_symbols(axes[1 + k, 0], list(speech.symbols[k]) + ["<eos>"])
            every = f" (every {stride})" if stride > 1 else ""
            axes[1 + k, 0].set_ylabel(f"input symbol{every}")
        fig.tight_layout()
    return fig


def save_alignment_figure(
    path: str | os.PathLike, speech: Any, *, hop_seconds: float, reduction_factor: int,
    title: str = "",
) -> Path:  # fmt: skip
    """Draw :func:`plot_speech` into a PNG at ``path`` (written atomically)."""
    import matplotlib.pyplot as plt

    from synesthesia.utils import atomic_path

    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ParameterError(f"alignment figure path={str(path)!r} must end in .png")
    fig = plot_speech(speech, hop_seconds=hop_seconds, reduction_factor=reduction_factor,
                      title=title)  # fmt: skip
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=90)
    finally:
        plt.close(fig)
    return path
