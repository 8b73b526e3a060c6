"""Speech2Face pipeline: redrawing faces from images (grey, any size) and its figure."""

from __future__ import annotations

import pytest
import torch

from synesthesia.errors import ParameterError
from synesthesia.models import create_model
from synesthesia.pipelines.speech2face import Speech2Face
from synesthesia.viz.speech2face import plot_redrawn_faces


def test_redraw_takes_grey_faces_of_any_size_and_batches_as_one_by_one():
    torch.manual_seed(0)
    pipeline = Speech2Face(create_model("speech2face_tiny").eval())
    size = pipeline.model.image_size
    grey = torch.rand(3, 1, 25, 25)  # like skimage's lfw_subset
    redrawn = pipeline.redraw(grey)
    assert redrawn.shape == (3, 3, size, size)
    assert float(redrawn.min()) >= 0 and float(redrawn.max()) <= 1
    one_by_one = torch.cat([pipeline.redraw(grey[i : i + 1]) for i in range(3)])
    torch.testing.assert_close(redrawn, one_by_one, rtol=1e-5, atol=1e-6)
    rgb = grey.expand(-1, 3, -1, -1)
    torch.testing.assert_close(pipeline.redraw(rgb), redrawn)
    figure = plot_redrawn_faces(grey, redrawn, columns=2)
    assert len(figure.axes) == 2 * 2 * 2  # two blocks of (original row, redrawn row) x 2 columns
    for bad in (torch.rand(3, 25, 25), torch.rand(2, 2, 8, 8), "faces"):
        with pytest.raises(ParameterError, match="must be \\(B, 1 or 3, H, W\\)"):
            pipeline.redraw(bad)
    with pytest.raises(ParameterError, match="same number"):
        plot_redrawn_faces(grey, redrawn[:2])
