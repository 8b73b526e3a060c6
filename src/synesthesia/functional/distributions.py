"""Output distributions of autoregressive waveform models: losses and sampling.

Three heads are covered, each as a negative log-likelihood and a sampler:

- categorical over ``V`` classes (the 8-bit mu-law softmax of WaveNet),
- discretized mixture of logistics (PixelCNN++), parameters ``(B, 3K, T)`` laid out as
  ``[logit_probs (K), means (K), log_scales (K)]`` along dim 1,
- Gaussian, parameters ``(B, 2, T)`` laid out as ``[mean, log_scale]``.

Samplers consume *pre-drawn* uniforms in ``(0, 1)`` instead of a generator, so that two
implementations (the torch reference and the compiled generation kernel) that see the same
uniforms draw exactly the same samples. Every sampler uses two uniforms per sample,
``uniforms[..., 0]`` and ``uniforms[..., 1]`` (the categorical one ignores the second):

- categorical: inverse CDF of ``softmax(logits / temperature)`` in float64 with ``u0``,
- mixture of logistics: component by inverse CDF of ``softmax(logit_probs)`` with ``u0``, then
  ``mean + temperature * scale * (log u1 - log(1 - u1))``, clipped to ``[-1, 1]``,
- Gaussian: ``mean + temperature * scale * sqrt(-2 log u0) cos(2 pi u1)`` (Box-Muller),
  clipped to ``[-1, 1]``.

References:
    Salimans et al., "PixelCNN++", ICLR 2017 (discretized logistic mixture likelihood,
    openai/pixel-cnn); r9y9/wavenet_vocoder ``wavenet_vocoder/mixture.py`` (the 1-D audio
    version whose edge cases and ``log_scale_min`` this follows); van den Oord et al.,
    "WaveNet", 2016 (categorical); Ping et al., "ClariNet", 2019 (Gaussian WaveNet).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from synesthesia.errors import ParameterError
from synesthesia.functional._checks import check_float_tensor

__all__ = [
    "UNIFORM_EPS",
    "draw_uniforms",
    "categorical_nll",
    "sample_categorical",
    "discretized_mix_logistic_nll",
    "sample_discretized_mix_logistic",
    "gaussian_nll",
    "sample_gaussian",
]

#: Uniforms are clipped to ``[UNIFORM_EPS, 1 - UNIFORM_EPS]`` so logs stay finite.
UNIFORM_EPS = 1e-5


def draw_uniforms(
    *size: int, generator: torch.Generator | None = None, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """Float64 uniforms in ``[UNIFORM_EPS, 1 - UNIFORM_EPS]`` for the samplers below.

    Args:
        size: shape, usually ``(B, T, 2)``.
        generator: a seeded ``torch.Generator`` for reproducible draws.
        device: where to put them.

    Returns:
        Float64 tensor of shape ``size``.
    """
    u = torch.rand(*size, generator=generator, dtype=torch.float64, device=device)
    return u.clamp_(UNIFORM_EPS, 1.0 - UNIFORM_EPS)


def _check_temperature(temperature: float) -> float:
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
        raise ParameterError(f"temperature={temperature!r} must be a positive number")
    if not temperature > 0 or not math.isfinite(temperature):
        raise ParameterError(f"temperature={temperature!r} must be a positive finite number")
    return float(temperature)


def _check_uniforms(uniforms: torch.Tensor, batch_shape: tuple[int, ...]) -> torch.Tensor:
    uniforms = check_float_tensor("uniforms", uniforms)
    if tuple(uniforms.shape) != (*batch_shape, 2):
        raise ParameterError(
            f"uniforms with shape {tuple(uniforms.shape)} must have shape {(*batch_shape, 2)}"
        )
    return uniforms


def _split_mixture(params: torch.Tensor, log_scale_min: float):
    params = check_float_tensor("params", params, min_dim=2)
    channels = params.shape[1]
    if channels % 3 or channels == 0:
        raise ParameterError(
            f"params with {channels} channels must hold 3 * num_mixtures channels "
            "(logit_probs, means, log_scales)"
        )
    k = channels // 3
    logit_probs, means, log_scales = params.split(k, dim=1)
    return logit_probs, means, log_scales.clamp(min=log_scale_min)


def _categorical_inverse_cdf(logits: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Index along the last dim: first ``k`` with ``cumsum(p)[k] > u * sum(p)`` (float64)."""
    logits = logits.to(torch.float64)
    weights = torch.exp(logits - logits.amax(dim=-1, keepdim=True))
    cumulative = weights.cumsum(dim=-1)
    threshold = u.to(torch.float64).unsqueeze(-1) * cumulative[..., -1:]
    index = (cumulative <= threshold).sum(dim=-1)
    return index.clamp_(max=logits.shape[-1] - 1)


def categorical_nll(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample negative log-likelihood of class targets under ``softmax(logits)``.

    Args:
        logits: (B, V, T) unnormalised log-probabilities.
        target: (B, T) integer classes in ``[0, V - 1]``.

    Returns:
        (B, T) NLL in nats.

    References:
        torch.nn.functional.cross_entropy (reduction="none").
    """
    logits = check_float_tensor("logits", logits, min_dim=2)
    if target.is_floating_point() or target.shape != logits.shape[:1] + logits.shape[2:]:
        raise ParameterError(
            f"target with shape {tuple(target.shape)} and dtype {target.dtype} must be an "
            f"integer tensor of shape {tuple(logits.shape[:1] + logits.shape[2:])}"
        )
    return F.cross_entropy(logits, target, reduction="none")


def sample_categorical(
    logits: torch.Tensor, uniforms: torch.Tensor, *, temperature: float = 1.0
) -> torch.Tensor:
    """Draw classes from ``softmax(logits / temperature)`` by inverse CDF.

    Args:
        logits: (B, V) unnormalised log-probabilities.
        uniforms: (B, 2) values in (0, 1); only ``uniforms[:, 0]`` is used.
        temperature: > 0; below 1 sharpens, above 1 flattens the distribution.

    Returns:
        (B,) LongTensor of classes.
    """
    temperature = _check_temperature(temperature)
    logits = check_float_tensor("logits", logits, min_dim=1)
    uniforms = _check_uniforms(uniforms, tuple(logits.shape[:-1]))
    return _categorical_inverse_cdf(logits.to(torch.float64) / temperature, uniforms[..., 0])


def discretized_mix_logistic_nll(
    params: torch.Tensor,
    target: torch.Tensor,
    *,
    num_classes: int = 65536,
    log_scale_min: float = -7.0,
) -> torch.Tensor:
    """Negative log-likelihood of a waveform under a discretized mixture of logistics.

    The waveform ``target`` in ``[-1, 1]`` is treated as quantised to ``num_classes`` levels
    (bin half-width ``1 / (num_classes - 1)``); the edge bins at -1 and 1 extend to infinity.
    Where a bin's probability underflows (``< 1e-5``) the density at the bin centre times the
    bin width is used, as in PixelCNN++.

    Args:
        params: (B, 3K, T) ``[logit_probs, means, log_scales]`` of ``K`` mixtures.
        target: (B, T) waveform in ``[-1, 1]``.
        num_classes: number of quantisation levels (65536 for 16-bit audio).
        log_scale_min: lower clamp of ``log_scales``.

    Returns:
        (B, T) NLL in nats.

    References:
        Salimans et al. 2017, ``discretized_mix_logistic_loss`` (openai/pixel-cnn);
        r9y9/wavenet_vocoder ``mixture.discretized_mix_logistic_loss``.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ParameterError(f"num_classes={num_classes!r} must be an integer >= 2")
    logit_probs, means, log_scales = _split_mixture(params, log_scale_min)
    target = check_float_tensor("target", target)
    if target.shape != params.shape[:1] + params.shape[2:]:
        raise ParameterError(
            f"target with shape {tuple(target.shape)} must have shape "
            f"{tuple(params.shape[:1] + params.shape[2:])}"
        )
    y = target.unsqueeze(1)  # (B, 1, T)
    half_bin = 1.0 / (num_classes - 1)
    centered = y - means
    inv_scale = torch.exp(-log_scales)
    plus_in = inv_scale * (centered + half_bin)
    min_in = inv_scale * (centered - half_bin)
    cdf_delta = torch.sigmoid(plus_in) - torch.sigmoid(min_in)
    log_cdf_plus = plus_in - F.softplus(plus_in)  # log CDF at the upper edge (bin at -1)
    log_one_minus_cdf_min = -F.softplus(min_in)  # log(1 - CDF) at the lower edge (bin at 1)
    mid_in = inv_scale * centered
    log_pdf_mid = mid_in - log_scales - 2.0 * F.softplus(mid_in)
    inner = torch.where(
        cdf_delta > 1e-5,
        torch.log(cdf_delta.clamp(min=1e-12)),
        log_pdf_mid - math.log((num_classes - 1) / 2),
    )
    log_probs = torch.where(
        y < -0.999, log_cdf_plus, torch.where(y > 0.999, log_one_minus_cdf_min, inner)
    )
    log_probs = log_probs + torch.log_softmax(logit_probs, dim=1)
    return -torch.logsumexp(log_probs, dim=1)


def sample_discretized_mix_logistic(
    params: torch.Tensor,
    uniforms: torch.Tensor,
    *,
    temperature: float = 1.0,
    log_scale_min: float = -7.0,
) -> torch.Tensor:
    """Draw waveform values from a mixture of logistics (one value per batch row).

    Args:
        params: (B, 3K) ``[logit_probs, means, log_scales]``.
        uniforms: (B, 2) in (0, 1): ``[:, 0]`` picks the component, ``[:, 1]`` the value.
        temperature: > 0, multiplies every component's scale.
        log_scale_min: lower clamp of ``log_scales``.

    Returns:
        (B,) values clipped to ``[-1, 1]`` in the dtype of ``params``.
    """
    temperature = _check_temperature(temperature)
    logit_probs, means, log_scales = _split_mixture(params, log_scale_min)
    uniforms = _check_uniforms(uniforms, (params.shape[0],))
    k = _categorical_inverse_cdf(logit_probs, uniforms[:, 0]).unsqueeze(1)
    mean = means.gather(1, k).squeeze(1).to(torch.float64)
    scale = torch.exp(log_scales.gather(1, k).squeeze(1).to(torch.float64))
    u = uniforms[:, 1]
    value = mean + temperature * scale * (torch.log(u) - torch.log1p(-u))
    return value.clamp(-1.0, 1.0).to(params.dtype)


def gaussian_nll(
    params: torch.Tensor, target: torch.Tensor, *, log_scale_min: float = -7.0
) -> torch.Tensor:
    """Negative log-density of a waveform under a per-sample Gaussian.

    Args:
        params: (B, 2, T) ``[mean, log_scale]`` (natural log of the standard deviation).
        target: (B, T) waveform.
        log_scale_min: lower clamp of ``log_scale``.

    Returns:
        (B, T) NLL in nats (a density, so it can be negative).

    References:
        scipy.stats.norm.logpdf; r9y9/wavenet_vocoder ``mixture.gaussian_loss``.
    """
    params = check_float_tensor("params", params, min_dim=2)
    if params.shape[1] != 2:
        raise ParameterError(
            f"params with {params.shape[1]} channels must have 2 (mean, log_scale)"
        )
    target = check_float_tensor("target", target)
    if target.shape != params.shape[:1] + params.shape[2:]:
        raise ParameterError(
            f"target with shape {tuple(target.shape)} must have shape "
            f"{tuple(params.shape[:1] + params.shape[2:])}"
        )
    mean, log_scale = params[:, 0], params[:, 1].clamp(min=log_scale_min)
    z = (target - mean) * torch.exp(-log_scale)
    return 0.5 * math.log(2 * math.pi) + log_scale + 0.5 * z * z


def sample_gaussian(
    params: torch.Tensor,
    uniforms: torch.Tensor,
    *,
    temperature: float = 1.0,
    log_scale_min: float = -7.0,
) -> torch.Tensor:
    """Draw waveform values from per-row Gaussians by the Box-Muller transform.

    Args:
        params: (B, 2) ``[mean, log_scale]``.
        uniforms: (B, 2) in (0, 1).
        temperature: > 0, multiplies the standard deviation.
        log_scale_min: lower clamp of ``log_scale``.

    Returns:
        (B,) values clipped to ``[-1, 1]`` in the dtype of ``params``.
    """
    temperature = _check_temperature(temperature)
    params = check_float_tensor("params", params, min_dim=2)
    if params.shape[1] != 2:
        raise ParameterError(
            f"params with {params.shape[1]} channels must have 2 (mean, log_scale)"
        )
    uniforms = _check_uniforms(uniforms, (params.shape[0],))
    mean = params[:, 0].to(torch.float64)
    scale = torch.exp(params[:, 1].clamp(min=log_scale_min).to(torch.float64))
    z = torch.sqrt(-2.0 * torch.log(uniforms[:, 0])) * torch.cos(2.0 * math.pi * uniforms[:, 1])
    return (mean + temperature * scale * z).clamp(-1.0, 1.0).to(params.dtype)
