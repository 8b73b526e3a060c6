"""preemphasis / deemphasis against librosa.effects, and the exact blockwise IIR."""

import librosa
import numpy as np
import pytest
import scipy.signal
import torch

from synesthesia.errors import ParameterError
from synesthesia.functional import deemphasis, preemphasis
from synesthesia.functional.filters import first_order_recursion


@pytest.mark.parametrize("coefficient", [0.97, 0.5, -0.3, 1.0])
def test_preemphasis_matches_librosa(coefficient):
    x = np.random.default_rng(1).uniform(-1, 1, (2, 3, 777))
    ours = preemphasis(torch.from_numpy(x), coefficient=coefficient).numpy()
    np.testing.assert_allclose(
        ours, librosa.effects.preemphasis(x, coef=coefficient), rtol=1e-12, atol=1e-12
    )


@pytest.mark.parametrize("coefficient", [0.97, 0.5, -0.3])
@pytest.mark.parametrize("length", [2, 100, 128, 129, 40_000])
def test_deemphasis_matches_librosa(coefficient, length):
    x = np.random.default_rng(2).uniform(-1, 1, (2, length))
    ours = deemphasis(torch.from_numpy(x), coefficient=coefficient).numpy()
    ref = librosa.effects.deemphasis(x, coef=coefficient)
    np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-9)


def test_deemphasis_inverts_preemphasis_float32():
    x = torch.from_numpy(np.random.default_rng(3).uniform(-1, 1, 20_000).astype(np.float32))
    y = deemphasis(preemphasis(x))
    assert y.dtype == torch.float32
    assert (y - x).abs().max() < 1e-4


def test_first_order_recursion_matches_lfilter_multilevel():
    # 3 levels of blocks (> 128**2 samples), coefficient 1 (a running sum) included
    x = np.random.default_rng(4).standard_normal(128**2 * 2 + 5)
    for a in (0.999, 1.0, -0.9):
        ours = first_order_recursion(torch.from_numpy(x), coefficient=a).numpy()
        ref = scipy.signal.lfilter([1.0], [1.0, -a], x)
        np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-8)


def test_deemphasis_is_differentiable():
    # 150 samples: two blocks of the blockwise recursion, so the carry path is checked too
    x = torch.randn(1, 150, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    x.requires_grad_(True)
    for fn in (deemphasis, preemphasis):
        assert torch.autograd.gradcheck(lambda t, f=fn: f(t, coefficient=0.9), (x,), fast_mode=True)


def test_errors():
    with pytest.raises(ParameterError, match="coefficient"):
        preemphasis(torch.zeros(10), coefficient=1.5)
    with pytest.raises(ParameterError, match="at least 2 samples"):
        deemphasis(torch.zeros(1))
    with pytest.raises(ParameterError, match="NaN"):
        deemphasis(torch.tensor([1.0, float("inf")]))
