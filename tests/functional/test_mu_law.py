"""mu_law_encode / mu_law_decode against librosa.mu_compress / mu_expand (quantize=True)."""

import librosa
import numpy as np
import pytest
import torch

from synesthesia.errors import ParameterError
from synesthesia.functional import mu_law_decode, mu_law_encode


@pytest.mark.parametrize("channels", [256, 16, 2**10])
def test_encode_matches_librosa(channels):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-1, 1, 5000), [-1.0, 0.0, 1.0, 1e-9, -1e-9]])
    ours = mu_law_encode(torch.from_numpy(x), quantization_channels=channels)
    ref = librosa.mu_compress(x, mu=channels - 1, quantize=True) + channels // 2
    assert ours.dtype == torch.long
    np.testing.assert_array_equal(ours.numpy(), ref)
    assert ours.min() >= 0 and ours.max() <= channels - 1


@pytest.mark.parametrize("channels", [256, 16])
def test_encode_float32_matches_librosa_inside_the_range(channels):
    # In float32 librosa's compressed value of x = 1.0 can round above the last edge and give
    # class Q (out of range); ours clamps to Q - 1. Elsewhere the classes agree.
    x = np.random.default_rng(5).uniform(-0.999, 0.999, 5000).astype(np.float32)
    ours = mu_law_encode(torch.from_numpy(x), quantization_channels=channels)
    ref = librosa.mu_compress(x, mu=channels - 1, quantize=True) + channels // 2
    np.testing.assert_array_equal(ours.numpy(), ref)
    top = mu_law_encode(torch.ones(3), quantization_channels=channels)
    assert top.tolist() == [channels - 1] * 3


@pytest.mark.parametrize("channels", [256, 16])
def test_decode_matches_librosa(channels):
    q = np.arange(channels)
    ours = mu_law_decode(torch.from_numpy(q), quantization_channels=channels, dtype=torch.float64)
    ref = librosa.mu_expand(q - channels // 2, mu=channels - 1, quantize=True)
    np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-12, atol=1e-15)
    assert ours.min() >= -1 and ours.max() <= 1


def test_round_trip_error_is_small_and_batched():
    x = torch.linspace(-1, 1, 2001, dtype=torch.float64).reshape(3, 667)
    q = mu_law_encode(x)
    y = mu_law_decode(q, dtype=torch.float64)
    assert y.shape == x.shape
    # decoding returns a bin edge, so the error is below one quantisation step: the largest
    # step is the top one, 1 - decode(Q - 2); near zero the steps are far finer
    top_step = 1 - mu_law_decode(torch.tensor([254]), dtype=torch.float64).item()
    assert (y - x).abs().max() <= top_step + 1e-12
    small = x.abs() < 0.01
    assert (y - x)[small].abs().max() < 1e-3


def test_errors():
    with pytest.raises(ParameterError, match="quantization_channels"):
        mu_law_encode(torch.zeros(3), quantization_channels=1)
    with pytest.raises(ParameterError, match=r"\[-1, 1\]"):
        mu_law_encode(torch.tensor([0.5, 1.5]))
    with pytest.raises(ParameterError, match="NaN"):
        mu_law_encode(torch.tensor([0.5, float("nan")]))
    with pytest.raises(ParameterError, match="q with range"):
        mu_law_decode(torch.tensor([0, 256]))
    with pytest.raises(ParameterError, match="integer"):
        mu_law_decode(torch.tensor([0.0]))
