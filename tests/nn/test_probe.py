"""LinearProbe against scikit-learn's LogisticRegression (same objective, lbfgs) in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from synesthesia.errors import ParameterError
from synesthesia.nn.probe import LinearProbe


def test_matches_sklearn_logistic_regression_float64():
    g = torch.Generator().manual_seed(0)
    scale = torch.tensor([1.0, 2.0, 3.0, 0.5, 1.0], dtype=torch.float64)
    x = torch.randn(60, 5, generator=g, dtype=torch.float64) * scale + 1.0
    y = torch.randint(0, 3, (60,), generator=g)
    l2 = 0.05
    probe = LinearProbe(5, 3).double().fit(x, y, l2=l2, max_iter=500)
    np.testing.assert_allclose(probe.mean.numpy(), x.mean(0).numpy(), rtol=1e-12)
    standardised = ((x - x.mean(0)) / x.std(0)).numpy()
    reference = LogisticRegression(C=1.0 / (60 * l2), tol=1e-12, max_iter=10000)
    reference.fit(standardised, y.numpy())
    np.testing.assert_allclose(probe.linear.weight.detach().numpy(), reference.coef_, atol=1e-6)
    np.testing.assert_allclose(probe.linear.bias.detach().numpy(), reference.intercept_, atol=1e-6)
    np.testing.assert_array_equal(probe.predict(x).numpy(), reference.predict(standardised))


def test_separable_classes_are_learned():
    g = torch.Generator().manual_seed(1)
    centres = torch.randn(4, 8, generator=g) * 4
    y = torch.arange(4).repeat(10)
    x = centres[y] + torch.randn(40, 8, generator=g)
    probe = LinearProbe(8, 4).fit(x, y)
    assert (probe.predict(x) == y).all()


def test_bad_input():
    probe = LinearProbe(3, 2)
    with pytest.raises(ParameterError, match="features"):
        probe.fit(torch.zeros(4, 5), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ParameterError, match="labels"):
        probe.fit(torch.zeros(4, 3), torch.full((4,), 2))
    with pytest.raises(ParameterError, match="l2"):
        probe.fit(torch.zeros(4, 3), torch.zeros(4, dtype=torch.long), l2=-1.0)
    with pytest.raises(ParameterError, match="num_classes"):
        LinearProbe(3, 1)
