"""Caption attention figures: one panel per word plus the image; upsampling keeps the peak."""

from __future__ import annotations

import pytest
import torch

from synesthesia.errors import ParameterError
from synesthesia.viz.attention import plot_caption_attention, upsample_attention


def test_upsampled_peak_stays_in_its_cell():
    maps = torch.zeros(1, 2, 4)
    maps[0, 1, 3] = 1.0
    up = upsample_attention(maps, image_size=(8, 16))
    y, x = divmod(int(up[0].argmax()), 16)
    assert 4 <= y < 8 and 12 <= x < 16


def test_figure_has_a_panel_per_word(tmp_path):
    image = torch.rand(3, 32, 96)
    maps = torch.softmax(torch.randn(4, 2, 6), dim=-1)
    fig = plot_caption_attention(image, ["three", "one", "four", "<end>"], maps, max_columns=3)
    titled = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titled == ["image", "three", "one", "four", "<end>"]
    fig.savefig(tmp_path / "attention.png")
    assert (tmp_path / "attention.png").stat().st_size > 0
    with pytest.raises(ParameterError, match="maps"):
        plot_caption_attention(image, ["a", "b"], maps[:1])
