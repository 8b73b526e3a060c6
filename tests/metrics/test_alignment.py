"""diagonality: properties on constructed alignments."""

from __future__ import annotations

import pytest
import torch

from synesthesia.errors import ParameterError
from synesthesia.metrics import diagonality


def _diagonal(num_steps: int, num_tokens: int) -> torch.Tensor:
    alignment = torch.zeros(num_steps, num_tokens, dtype=torch.float64)
    for n in range(num_steps):
        alignment[n, min(num_tokens - 1, int((n + 0.5) / num_steps * num_tokens))] = 1.0
    return alignment


def test_diagonal_uniform_and_reversed():
    steps, tokens = 40, 12
    diagonal = _diagonal(steps, tokens)
    uniform = torch.full((steps, tokens), 1.0 / tokens, dtype=torch.float64)
    reversed_ = diagonal.flip(0)
    alignment = torch.stack([diagonal, uniform, reversed_])
    lengths = torch.tensor([tokens] * 3)
    score = diagonality(alignment, lengths, torch.tensor([steps] * 3), band_width=0.2)
    assert score.dtype == torch.float64
    assert score[0].item() == 1.0
    # uniform attention: the in-band share of tokens, averaged over steps ≈ 2 * band_width
    assert abs(score[1].item() - 0.4) < 0.1
    assert score[2].item() < 0.25


def test_padding_and_reduction_factor_are_respected():
    steps, tokens = 10, 6
    diagonal = _diagonal(steps, tokens)
    padded = torch.zeros(1, steps + 5, tokens + 3, dtype=torch.float64)
    padded[0, :steps, :tokens] = diagonal
    padded[0, steps:, :] = 1.0  # garbage past the valid steps is ignored
    score = diagonality(padded, torch.tensor([tokens]), torch.tensor([2 * steps - 1]),
                        reduction_factor=2)  # fmt: skip
    assert score.item() == 1.0


def test_permuted_tokens_score_lower():
    generator = torch.Generator().manual_seed(0)
    diagonal = _diagonal(50, 20)
    permuted = diagonal[:, torch.randperm(20, generator=generator)]
    lengths, steps = torch.tensor([20, 20]), torch.tensor([50, 50])
    score = diagonality(torch.stack([diagonal, permuted]), lengths, steps)
    assert score[0] > score[1] + 0.5


def test_errors():
    alignment = torch.zeros(1, 4, 3)
    with pytest.raises(ParameterError, match="mel_lengths"):
        diagonality(alignment, torch.tensor([3]), torch.tensor([9]))
    with pytest.raises(ParameterError, match="band_width"):
        diagonality(alignment, torch.tensor([3]), torch.tensor([4]), band_width=0)
    with pytest.raises(ParameterError, match="alignment"):
        diagonality(alignment[0], torch.tensor([3]), torch.tensor([4]))
