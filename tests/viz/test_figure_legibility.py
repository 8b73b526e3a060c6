"""Figures a person reads are legible (issue #19): alignment symbol labels never overlap and keep
a readable size however long the sentence; caption overlay titles are readable at the size the
figure is shown (a page or a screen wide), measured with the renderer's text extents."""

from __future__ import annotations

from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402

from synesthesia.viz.attention import plot_alignment, plot_caption_attention  # noqa: E402
from synesthesia.viz.tts import plot_speech  # noqa: E402

#: smallest font (points) a person reads without zooming
MIN_LABEL_POINTS = 7.0
MIN_TITLE_POINTS = 10.0
#: a figure wider than this (inches) is shown scaled down, shrinking its text with it
MAX_FIGURE_INCHES = 10.0


def _diagonal(steps: int, length: int) -> torch.Tensor:
    alignment = torch.zeros(steps, length)
    alignment[torch.arange(steps), torch.arange(steps) * length // steps] = 1.0
    return alignment  # (N_steps, L)


def _speech(num_symbols: int) -> SimpleNamespace:
    symbols = ("ðə bˈɜːdz sˈɪŋ ɪnðə ɹˈeɪn " * 20)[:num_symbols]
    assert len(symbols) == num_symbols
    return SimpleNamespace(
        mel=torch.randn(80, 4 * num_symbols),
        alignments=[_diagonal(2 * num_symbols, num_symbols + 1)],  # + <eos>
        symbols=[symbols],
        sentences=["a sentence"],
    )


def _renderer(fig):
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def _assert_no_overlap(boxes, axis):
    """Boxes sorted along ``axis`` ("x" or "y") do not overlap each other."""
    low, high = ("x0", "x1") if axis == "x" else ("y0", "y1")
    boxes = sorted(boxes, key=lambda b: getattr(b, low))
    for before, after in zip(boxes, boxes[1:]):
        assert getattr(before, high) <= getattr(after, low) + 1e-6, (before, after)


def _check_symbol_labels(fig, ax, num_rows):
    renderer = _renderer(fig)
    labels = [t for t in ax.get_yticklabels() if t.get_visible() and t.get_text()]
    assert labels, "no symbol labels drawn"
    for label in labels:
        assert label.get_fontsize() >= MIN_LABEL_POINTS, label.get_fontsize()
    boxes = [t.get_window_extent(renderer) for t in labels]
    _assert_no_overlap(boxes, "y")
    figure_box = fig.bbox
    for box in boxes:  # inside the figure: nothing cut off at its edge
        assert box.x0 >= figure_box.x0 - 1e-6 and box.y0 >= figure_box.y0 - 1e-6, box
    ylabel = ax.yaxis.label.get_window_extent(renderer)
    assert ylabel.x0 >= figure_box.x0 - 1e-6, "the y axis title is cut off"
    assert len(labels) <= num_rows
    return len(labels)


@pytest.mark.parametrize("num_symbols", [12, 45, 120, 300])
def test_tts_alignment_symbol_labels_never_overlap_and_stay_readable(num_symbols):
    fig = plot_speech(_speech(num_symbols), hop_seconds=256 / 16000, reduction_factor=2)
    try:
        (ax,) = [a for a in fig.axes if a.get_ylabel().startswith("input symbol")]
        shown = _check_symbol_labels(fig, ax, num_symbols + 1)
        if num_symbols <= 12:
            assert shown == num_symbols + 1  # a short sentence keeps a label on every symbol
        else:
            assert shown >= min(num_symbols + 1, 20)  # thinned, not dropped
    finally:
        plt.close(fig)


@pytest.mark.parametrize("length", [10, 80, 150])
def test_training_alignment_token_labels_never_overlap_and_stay_readable(length):
    tokens = [chr(ord("a") + i % 26) for i in range(length)]
    fig = plot_alignment(_diagonal(3 * length, length), tokens=tokens, title="step 100")
    try:
        shown = _check_symbol_labels(fig, fig.axes[0], length)
        if length <= 10:
            assert shown == length
    finally:
        plt.close(fig)


def _check_caption_titles(fig):
    width, _ = fig.get_size_inches()
    assert width <= MAX_FIGURE_INCHES + 1e-6, f"figure {width:.1f} in wide is shown scaled down"
    renderer = _renderer(fig)
    titles = [ax.title for ax in fig.axes if ax.get_title()]
    assert titles
    for title in titles:
        assert title.get_fontsize() >= MIN_TITLE_POINTS, title.get_fontsize()
    boxes = [t.get_window_extent(renderer) for t in titles]
    for ax, box in zip([ax for ax in fig.axes if ax.get_title()], boxes):
        axes_box = ax.get_window_extent(renderer)
        assert box.width <= axes_box.width + 1e-6, (ax.get_title(), box, axes_box)
        assert box.y0 >= axes_box.y1 - 1e-6  # above its own picture, not over it
    rows = {}
    for box in boxes:
        rows.setdefault(round(box.y0), []).append(box)
    for row in rows.values():
        _assert_no_overlap(row, "x")
    if fig._suptitle is not None:
        suptitle = fig._suptitle.get_window_extent(renderer)
        assert fig._suptitle.get_fontsize() >= MIN_TITLE_POINTS
        assert all(suptitle.y0 >= box.y1 - 1e-6 for box in boxes)
    return len(titles)


def test_caption_overlay_titles_of_a_digit_strip_are_readable():
    words = ["seven", "six", "three", "<end>"]
    maps = torch.softmax(torch.randn(4, 32), -1).view(4, 4, 8)
    fig = plot_caption_attention(torch.rand(1, 32, 128), words, maps, title="seven six three")
    assert _check_caption_titles(fig) == len(words) + 1


def test_caption_overlay_titles_of_a_long_caption_are_readable():
    words = "a young skateboarder in a striped shirt performs a trick on the concrete ramp".split()
    words.append("<end>")
    maps = torch.softmax(torch.randn(len(words), 49), -1).view(-1, 7, 7)
    fig = plot_caption_attention(torch.rand(3, 224, 224), words, maps, title=" ".join(words))
    assert _check_caption_titles(fig) == len(words) + 1
