"""viz.audio.plot_log_mels: one panel per rendering on a shared colour scale; bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from synesthesia.errors import ParameterError
from synesthesia.viz.audio import plot_log_mels


def test_panels_share_one_colour_scale_and_time_axis(tmp_path):
    original = torch.zeros(6, 10) - 4.0
    original[2, 3] = 1.5  # the overall peak
    noisy = np.full((6, 8), -2.0)
    fig = plot_log_mels(
        {"original": original, "vocoder": noisy}, hop_seconds=0.0125, dynamic_range=8.0
    )
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["original", "vocoder"]
    limits = {ax.collections[0].get_clim() for ax in panels}
    assert limits == {(1.5 - 8.0, 1.5)}
    assert panels[0].get_xlim() == panels[1].get_xlim() == (0.0, 10 * 0.0125)
    fig.savefig(tmp_path / "mels.png")
    assert (tmp_path / "mels.png").stat().st_size > 0


def test_bad_input():
    with pytest.raises(ParameterError, match="non-empty dict"):
        plot_log_mels({}, hop_seconds=0.01)
    with pytest.raises(ParameterError, match=r"log_mels\['a'\] with shape \(5,\)"):
        plot_log_mels({"a": np.zeros(5)}, hop_seconds=0.01)
    with pytest.raises(ParameterError, match="non-finite"):
        plot_log_mels({"a": np.full((2, 3), np.nan)}, hop_seconds=0.01)
    with pytest.raises(ParameterError, match=r"different numbers of mel bands \[2, 3\]"):
        plot_log_mels({"a": np.zeros((2, 3)), "b": np.zeros((3, 3))}, hop_seconds=0.01)
    with pytest.raises(ParameterError, match="hop_seconds=0"):
        plot_log_mels({"a": np.zeros((2, 3))}, hop_seconds=0)
