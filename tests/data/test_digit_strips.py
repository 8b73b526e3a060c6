"""Digit strips: real sklearn digits, captions match labels, boxes hold the ink, split by scan."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from synesthesia.data.digit_strips import DIGIT_WORDS, make_digit_strips
from synesthesia.errors import ParameterError


def test_strips_captions_boxes_and_pixels():
    strips = make_digit_strips(20, seed=3, scale=3, height=32, width=128)
    assert strips.images.shape == (20, 3, 32, 128)
    assert strips.images.dtype == torch.float32
    assert 0.0 <= float(strips.images.min()) and float(strips.images.max()) <= 1.0
    digits = load_digits()
    for i in range(20):
        assert 2 <= len(strips.digits[i]) <= 4
        assert strips.captions[i] == " ".join(DIGIT_WORDS[d] for d in strips.digits[i])
        boxes = strips.boxes[i]
        assert (boxes[1:, 0] >= boxes[:-1, 2]).all(), "digits laid left to right, no overlap"
        for (x0, y0, x1, y1), source, label in zip(
            boxes.tolist(), strips.source_indices[i], strips.digits[i]
        ):
            assert digits.target[source] == label
            patch = strips.images[i, 0, y0:y1, x0:x1].numpy()
            expected = np.kron(digits.images[source] / 16.0, np.ones((3, 3)))
            np.testing.assert_allclose(patch, expected, rtol=0, atol=1e-6)
        ink = strips.images[i, 0].clone()
        for x0, y0, x1, y1 in boxes.tolist():
            ink[y0:y1, x0:x1] = 0
        assert float(ink.abs().max()) == 0.0, "no ink outside the boxes"


def test_seeded_and_split_by_source_scan():
    a = make_digit_strips(30, seed=1)
    b = make_digit_strips(30, seed=1)
    assert torch.equal(a.images, b.images) and a.captions == b.captions
    assert make_digit_strips(30, seed=2).captions != a.captions
    train = {s for ss in make_digit_strips(300, split="train").source_indices for s in ss}
    test = {s for ss in make_digit_strips(300, split="test").source_indices for s in ss}
    assert not train & test


def test_bad_arguments():
    with pytest.raises(ParameterError, match="width"):
        make_digit_strips(2, max_digits=6, width=128)
    with pytest.raises(ParameterError, match="split"):
        make_digit_strips(2, split="val")
    with pytest.raises(ParameterError, match="max_digits"):
        make_digit_strips(2, min_digits=3, max_digits=2)
