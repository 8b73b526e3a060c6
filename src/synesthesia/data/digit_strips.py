"""Digit strips: a built-in captioning data set of real handwritten digits, with boxes.

Each image holds 2–4 handwritten digits from scikit-learn's ``load_digits`` (1,797 real 8 × 8
scans, 16 grey levels), upsampled (nearest neighbour, ``scale`` × ``scale``) and laid left to
right on a black canvas with random gaps and vertical jitter. The caption spells the digits
("three one four"); each digit's pixel box is recorded, so attention maps can be checked
against where the digits really are (:func:`synesthesia.metrics.caption.
attention_pointing_accuracy`).

The split is by *source digit image*: a fixed permutation assigns 80 % of the 1,797 scans to
"train" and 20 % to "test", so test strips are made only of scans never seen in training.

References:
    Alpaydin & Kaynak, UCI Optical Recognition of Handwritten Digits (scikit-learn
    ``load_digits``); the strip task follows the multi-digit recognition set-ups used to probe
    attention (e.g. Ba et al., "Multiple Object Recognition with Visual Attention", 2015).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from synesthesia.errors import ParameterError

__all__ = ["DIGIT_WORDS", "DigitStrips", "make_digit_strips"]

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_SPLIT_SEED = 1234  # fixes which source scans are train / test, independent of `seed`
_TRAIN_SHARE = 0.8
_CACHE: dict[str, np.ndarray] = {}


@dataclass
class DigitStrips:
    """A generated set of digit strips.

    Attributes:
        images: (N, C, H, W) float32 in [0, 1] (digits bright on black; C = 3 copies of the
            grey image, or 1).
        captions: N captions, e.g. "three one four".
        digits: per image the digit labels, left to right.
        boxes: per image a LongTensor (K, 4) of ``(x0, y0, x1, y1)`` pixel boxes (x1, y1
            exclusive), one per digit.
        source_indices: per image the indices of the ``load_digits`` scans used.
    """

    images: torch.Tensor
    captions: list[str]
    digits: list[list[int]]
    boxes: list[torch.Tensor]
    source_indices: list[list[int]]

    def __len__(self) -> int:
        return len(self.captions)

    @property
    def words(self) -> list[list[str]]:
        """The caption words per image."""
        return [[DIGIT_WORDS[d] for d in ds] for ds in self.digits]


def _load_digits() -> tuple[np.ndarray, np.ndarray]:
    if "images" not in _CACHE:
        try:
            from sklearn.datasets import load_digits
        except ImportError as exc:  # pragma: no cover - scikit-learn is a dev dependency
            raise ParameterError(
                "digit strips need scikit-learn (pip install scikit-learn)"
            ) from exc
        bunch = load_digits()
        _CACHE["images"] = (bunch.images / 16.0).astype(np.float32)  # (1797, 8, 8)
        _CACHE["labels"] = bunch.target.astype(np.int64)
    return _CACHE["images"], _CACHE["labels"]


def _split_indices(split: str, count: int) -> np.ndarray:
    order = np.random.default_rng(_SPLIT_SEED).permutation(count)
    cut = int(round(_TRAIN_SHARE * count))
    if split == "train":
        return np.sort(order[:cut])
    if split == "test":
        return np.sort(order[cut:])
    raise ParameterError(f"split={split!r} must be 'train' or 'test'")


def make_digit_strips(
    num_samples: int,
    *,
    split: str = "train",
    seed: int = 0,
    min_digits: int = 2,
    max_digits: int = 4,
    scale: int = 3,
    height: int = 32,
    width: int = 128,
    channels: int = 3,
) -> DigitStrips:
    """Generate ``num_samples`` digit strips.

    Args:
        num_samples: N.
        split: "train" or "test" (disjoint source scans).
        seed: seeds digit choice, spacing and jitter.
        min_digits: fewest digits per strip (≥ 1).
        max_digits: most digits per strip.
        scale: integer upsampling of the 8 × 8 scans (digits are 8·scale pixels square).
        height: canvas height H (≥ 8·scale).
        width: canvas width W (must fit ``max_digits`` digits side by side).
        channels: C, 3 (grey copied to RGB, for RGB encoders) or 1.

    Returns:
        :class:`DigitStrips`.
    """
    for name, value in (
        ("num_samples", num_samples),
        ("min_digits", min_digits),
        ("max_digits", max_digits),
        ("scale", scale),
        ("height", height),
        ("width", width),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ParameterError(f"{name}={value!r} must be a positive integer")
    if max_digits < min_digits:
        raise ParameterError(f"max_digits={max_digits} must be >= min_digits={min_digits}")
    if channels not in (1, 3):
        raise ParameterError(f"channels={channels!r} must be 1 or 3")
    size = 8 * scale
    if height < size:
        raise ParameterError(f"height={height} must be at least 8 * scale = {size}")
    if width < max_digits * size:
        raise ParameterError(
            f"width={width} must fit max_digits={max_digits} digits of {size} pixels "
            f"(>= {max_digits * size})"
        )
    scans, labels = _load_digits()
    pool = _split_indices(split, len(scans))
    rng = np.random.default_rng([seed, 0 if split == "train" else 1])
    canvas = np.zeros((num_samples, height, width), dtype=np.float32)
    captions, digits, boxes, sources = [], [], [], []
    for n in range(num_samples):
        count = int(rng.integers(min_digits, max_digits + 1))
        chosen = rng.choice(pool, size=count, replace=False)
        slack = width - count * size
        # split the free width into count + 1 random gaps (left margin, between, right)
        gaps = rng.multinomial(slack, np.ones(count + 1) / (count + 1))
        x = int(gaps[0])
        item_boxes = []
        for j, index in enumerate(chosen):
            y = int(rng.integers(0, height - size + 1))
            digit = np.kron(scans[index], np.ones((scale, scale), dtype=np.float32))
            canvas[n, y : y + size, x : x + size] = np.maximum(
                canvas[n, y : y + size, x : x + size], digit
            )
            item_boxes.append([x, y, x + size, y + size])
            x += size + int(gaps[j + 1])
        labels_n = [int(labels[i]) for i in chosen]
        digits.append(labels_n)
        captions.append(" ".join(DIGIT_WORDS[d] for d in labels_n))
        boxes.append(torch.tensor(item_boxes, dtype=torch.long))
        sources.append([int(i) for i in chosen])
    images = torch.from_numpy(canvas)[:, None]
    if channels == 3:
        images = images.expand(-1, 3, -1, -1).contiguous()
    return DigitStrips(
        images=images, captions=captions, digits=digits, boxes=boxes, source_indices=sources
    )
