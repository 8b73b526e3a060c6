"""Output distributions of WaveNet: NLLs against scipy in float64, sampler statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats
from scipy.special import logsumexp, softmax

from synesthesia.errors import ParameterError
from synesthesia.functional import distributions as D


def _reference_mol_nll(params: np.ndarray, y: np.ndarray, num_classes: int, log_scale_min: float):
    """Straightforward float64 PixelCNN++ likelihood with scipy's logistic CDF (B, T).

    Each component's bin probability is a difference of scipy logistic CDFs; the edge bins at
    -1 and 1 extend to -inf / +inf.
    """
    k = params.shape[1] // 3
    out = np.empty(y.shape)
    half = 1.0 / (num_classes - 1)
    for b in range(y.shape[0]):
        for t in range(y.shape[1]):
            logits = params[b, :k, t]
            means = params[b, k : 2 * k, t]
            scales = np.exp(np.maximum(params[b, 2 * k :, t], log_scale_min))
            value = y[b, t]
            dist = stats.logistic(loc=means, scale=scales)
            if value < -0.999:
                log_p = dist.logcdf(value + half)
            elif value > 0.999:
                log_p = dist.logsf(value - half)
            else:
                delta = dist.cdf(value + half) - dist.cdf(value - half)
                # PixelCNN++: a bin whose probability underflows (< 1e-5) is scored by the
                # density at its centre times its width 2 / (num_classes - 1).
                with np.errstate(divide="ignore"):
                    log_delta = np.log(delta)
                log_p = np.where(delta > 1e-5, log_delta, dist.logpdf(value) + np.log(2 * half))
            out[b, t] = -logsumexp(log_p + np.log(softmax(logits)))
    return out


def _mol_params(batch=2, k=3, steps=7, seed=0, scale=(-3.0, -1.0)):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(batch, k, steps, generator=g, dtype=torch.float64)
    means = torch.rand(batch, k, steps, generator=g, dtype=torch.float64) * 1.4 - 0.7
    log_scales = torch.empty(batch, k, steps, dtype=torch.float64).uniform_(*scale, generator=g)
    return torch.cat([logits, means, log_scales], dim=1)


def test_mol_nll_matches_scipy_logistic_cdf_differences():
    params = _mol_params()
    g = torch.Generator().manual_seed(1)
    y = torch.rand(2, 7, generator=g, dtype=torch.float64) * 1.6 - 0.8
    y[0, 0], y[1, 1] = -1.0, 1.0  # the two open-ended edge bins
    ours = D.discretized_mix_logistic_nll(params, y, num_classes=256, log_scale_min=-7.0)
    ref = _reference_mol_nll(params.numpy(), y.numpy(), 256, -7.0)
    np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-9, atol=1e-9)


def test_mol_nll_tiny_bins_use_density_times_width():
    # 16-bit bins with a wide logistic: bin probability < 1e-5, PixelCNN++ uses pdf * width.
    params = _mol_params(scale=(-1.0, -0.5))
    y = torch.rand(2, 7, generator=torch.Generator().manual_seed(2), dtype=torch.float64) * 0.8
    ours = D.discretized_mix_logistic_nll(params, y, num_classes=65536, log_scale_min=-7.0)
    ref = _reference_mol_nll(params.numpy(), y.numpy(), 65536, -7.0)
    np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-6, atol=1e-6)


def test_mol_nll_clamps_log_scales():
    params = _mol_params(scale=(-12.0, -10.0))
    y = torch.zeros(2, 7, dtype=torch.float64)
    ours = D.discretized_mix_logistic_nll(params, y, num_classes=256, log_scale_min=-7.0)
    ref = _reference_mol_nll(params.numpy(), y.numpy(), 256, -7.0)
    np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-9, atol=1e-9)


def test_gaussian_nll_matches_scipy():
    g = torch.Generator().manual_seed(3)
    params = torch.randn(3, 2, 11, generator=g, dtype=torch.float64)
    params[:, 1] = params[:, 1].clamp(-3, 1)
    y = torch.randn(3, 11, generator=g, dtype=torch.float64)
    ours = D.gaussian_nll(params, y, log_scale_min=-7.0)
    mean, scale = params[:, 0].numpy(), np.exp(params[:, 1].numpy())
    ref = -stats.norm.logpdf(y.numpy(), loc=mean, scale=scale)
    np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-12, atol=1e-12)


def test_categorical_nll_matches_log_softmax():
    logits = torch.randn(2, 5, 4, dtype=torch.float64)
    target = torch.randint(0, 5, (2, 4))
    ref = -torch.log_softmax(logits, 1).gather(1, target[:, None]).squeeze(1)
    torch.testing.assert_close(D.categorical_nll(logits, target), ref, rtol=1e-12, atol=1e-12)


def test_categorical_sampling_frequencies_follow_softmax_with_temperature():
    logits = torch.tensor([[0.0, 1.0, -1.0, 2.0]], dtype=torch.float64)
    n = 40000
    u = D.draw_uniforms(n, 2, generator=torch.Generator().manual_seed(4))
    for temperature in (1.0, 0.5):
        draws = D.sample_categorical(logits.expand(n, -1), u, temperature=temperature)
        freq = torch.bincount(draws, minlength=4).double() / n
        probs = torch.softmax(logits[0] / temperature, 0)
        # 5 binomial standard deviations
        tol = 5 * torch.sqrt(probs * (1 - probs) / n)
        assert bool(((freq - probs).abs() <= tol).all()), (freq, probs)


def test_categorical_inverse_cdf_is_exact_at_known_uniforms():
    logits = torch.log(torch.tensor([[0.25, 0.25, 0.5]], dtype=torch.float64)).expand(4, -1)
    u = torch.tensor([[0.1, 0.5], [0.3, 0.5], [0.6, 0.5], [0.99, 0.5]], dtype=torch.float64)
    assert D.sample_categorical(logits, u).tolist() == [0, 1, 2, 2]


def test_mol_sampling_matches_mixture_moments():
    k = 3
    logits = torch.tensor([0.2, -0.5, 1.0], dtype=torch.float64)
    means = torch.tensor([-0.3, 0.1, 0.4], dtype=torch.float64)
    log_scales = torch.log(torch.tensor([0.02, 0.05, 0.03], dtype=torch.float64))
    n = 60000
    params = torch.cat([logits, means, log_scales]).expand(n, 3 * k)
    u = D.draw_uniforms(n, 2, generator=torch.Generator().manual_seed(5))
    x = D.sample_discretized_mix_logistic(params, u, temperature=1.0, log_scale_min=-7.0)
    pi = torch.softmax(logits, 0)
    s = torch.exp(log_scales)
    mean = (pi * means).sum()
    var = (pi * (s**2 * math.pi**2 / 3 + means**2)).sum() - mean**2
    assert abs(float(x.mean() - mean)) < 5 * math.sqrt(float(var) / n)
    assert abs(float(x.var() / var) - 1) < 0.03
    # Kolmogorov-Smirnov against the mixture CDF
    cdf = lambda v: sum(  # noqa: E731
        float(pi[i]) * stats.logistic.cdf(v, loc=float(means[i]), scale=float(s[i]))
        for i in range(k)
    )
    assert stats.kstest(x.numpy(), cdf).pvalue > 1e-3


def test_gaussian_sampling_statistics_and_temperature():
    n = 50000
    params = torch.tensor([[0.1, math.log(0.2)]], dtype=torch.float64).expand(n, 2)
    u = D.draw_uniforms(n, 2, generator=torch.Generator().manual_seed(6))
    for temperature in (1.0, 0.5):
        x = D.sample_gaussian(params, u, temperature=temperature, log_scale_min=-7.0)
        assert stats.kstest(x.numpy(), stats.norm(0.1, 0.2 * temperature).cdf).pvalue > 1e-3


def test_samplers_clip_to_unit_interval():
    params = torch.tensor([[0.0, 3.0]], dtype=torch.float64).expand(1000, 2)
    u = D.draw_uniforms(1000, 2, generator=torch.Generator().manual_seed(7))
    x = D.sample_gaussian(params, u)
    assert float(x.abs().max()) == 1.0


def test_bad_arguments_name_the_argument():
    with pytest.raises(ParameterError, match="temperature"):
        D.sample_categorical(torch.zeros(2, 3), torch.full((2, 2), 0.5), temperature=0.0)
    with pytest.raises(ParameterError, match="uniforms"):
        D.sample_categorical(torch.zeros(2, 3), torch.full((3, 2), 0.5))
    with pytest.raises(ParameterError, match="num_mixtures|3 \\* num_mixtures"):
        D.discretized_mix_logistic_nll(torch.zeros(1, 4, 2), torch.zeros(1, 2))
    with pytest.raises(ParameterError, match="num_classes"):
        D.discretized_mix_logistic_nll(torch.zeros(1, 3, 2), torch.zeros(1, 2), num_classes=1)
    with pytest.raises(ParameterError, match="params"):
        D.gaussian_nll(torch.zeros(1, 3, 2), torch.zeros(1, 2))
