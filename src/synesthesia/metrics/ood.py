"""Out-of-distribution (OOD) scores, AUROC, and a fitted detector stored in a model folder.

Every score is oriented the same way: **higher = less like the training data**.

* ``msp`` — the negated maximum softmax probability, ``-max_k softmax(z)_k`` (Hendrycks &
  Gimpel 2017);
* ``energy`` — ``-T · logsumexp(z / T)`` (Liu et al. 2020);
* ``mahalanobis`` — ``min_k sqrt((x - μ_k)ᵀ Σ⁻¹ (x - μ_k))`` on features ``x``: class means
  ``μ_k`` and one shared covariance ``Σ`` shrunk towards ``(tr Σ / D) · I`` (Lee et al. 2018;
  shrinkage after Ledoit & Wolf 2004);
* ``max_cosine`` — ``-max_k cos(x, μ_k)``, the cosine to the nearest class prototype.

:class:`OODDetector` holds one chosen score, its parameters (class means, precision matrix,
temperature) and a threshold chosen on held-out in-distribution data (a percentile of their
scores, so ``100 - percentile`` % of such inputs are flagged by design). It is saved as
``ood.json`` (score, threshold, percentile, what it was fitted on, measured AUROC, and the
sha256 of the ``model.safetensors`` it was fitted for) beside ``ood.safetensors`` (the
tensors), never pickled. :func:`load_ood_detector` ignores, with a warning, a detector fitted
for other weights (a retrained model copied over an old folder).

References:
    Hendrycks & Gimpel, "A Baseline for Detecting Misclassified and Out-of-Distribution
    Examples in Neural Networks", ICLR 2017. Liu et al., "Energy-based Out-of-distribution
    Detection", NeurIPS 2020. Lee et al., "A Simple Unified Framework for Detecting
    Out-of-Distribution Samples and Adversarial Attacks", NeurIPS 2018. AUROC as
    sklearn.metrics.roc_auc_score (ties count one half).
"""

from __future__ import annotations

import hashlib
import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import Tensor

from synesthesia.errors import CheckpointError, ParameterError
from synesthesia.utils import atomic_path, atomic_write_json, read_json

__all__ = [
    "OOD_JSON",
    "OOD_SAFETENSORS",
    "SCORES",
    "OODDetector",
    "auroc",
    "cosine_to_prototypes",
    "energy_score",
    "fit_class_gaussians",
    "load_ood_detector",
    "mahalanobis_score",
    "max_cosine_score",
    "msp_score",
    "ood_warning",
]

OOD_JSON = "ood.json"
OOD_SAFETENSORS = "ood.safetensors"
WEIGHTS_NAME = "model.safetensors"
#: score name -> what it needs ("logits" or "features")
SCORES: dict[str, str] = {
    "msp": "logits",
    "energy": "logits",
    "mahalanobis": "features",
    "max_cosine": "features",
}
_FORMAT = 1


def msp_score(logits: Tensor) -> Tensor:
    """Negated maximum softmax probability of logits (..., K) → (...); in [-1, -1/K]."""
    return -torch.softmax(logits, dim=-1).amax(dim=-1)


def energy_score(logits: Tensor, *, temperature: float = 1.0) -> Tensor:
    """Free energy ``-T · logsumexp(logits / T)`` of logits (..., K) → (...)."""
    if not temperature > 0:
        raise ParameterError(f"temperature={temperature!r} must be positive")
    return -temperature * torch.logsumexp(logits / temperature, dim=-1)


def fit_class_gaussians(
    features: Tensor, labels: Tensor | None = None, *, shrinkage: float = 0.1
) -> tuple[Tensor, Tensor]:
    """Class means and the shared precision matrix of features (B, D).

    ``Σ = Σ_k Σ_{i ∈ k} (x_i - μ_k)(x_i - μ_k)ᵀ / B`` (pooled within-class covariance, the
    maximum-likelihood estimate of Lee et al.), then ``Σ ← (1 - s) Σ + s (tr Σ / D) I``.

    Args:
        features: (B, D) in-distribution features.
        labels: (B,) integer classes 0..K-1 (``None``: one class).
        shrinkage: s in [0, 1].

    Returns:
        means (K, D) and precision ``Σ⁻¹`` (D, D), in the dtype of ``features``.
    """
    if features.dim() != 2 or features.shape[0] < 2:
        raise ParameterError(f"features of shape {tuple(features.shape)} must be (B >= 2, D)")
    if not 0.0 <= shrinkage <= 1.0:
        raise ParameterError(f"shrinkage={shrinkage!r} must be in [0, 1]")
    if labels is None:
        labels = torch.zeros(features.shape[0], dtype=torch.long)
    labels = labels.to(features.device).long()
    if labels.shape != features.shape[:1]:
        raise ParameterError(
            f"labels of shape {tuple(labels.shape)} must be (B,) = ({features.shape[0]},)"
        )
    classes = int(labels.max()) + 1
    counts = torch.bincount(labels, minlength=classes)
    if bool((counts == 0).any()):
        missing = (counts == 0).nonzero().flatten().tolist()
        raise ParameterError(f"labels must cover 0..{classes - 1}; classes {missing} are empty")
    x = features.double()
    means = torch.zeros(classes, x.shape[1], dtype=x.dtype, device=x.device)
    means.index_add_(0, labels, x)
    means /= counts[:, None].to(x.dtype)
    centred = x - means[labels]
    covariance = centred.T @ centred / x.shape[0]
    dim = covariance.shape[0]
    target = torch.trace(covariance) / dim * torch.eye(dim, dtype=x.dtype, device=x.device)
    covariance = (1.0 - shrinkage) * covariance + shrinkage * target
    precision = torch.linalg.pinv(covariance, hermitian=True)
    return means.to(features.dtype), precision.to(features.dtype)


def mahalanobis_score(features: Tensor, *, means: Tensor, precision: Tensor) -> Tensor:
    """Distance ``min_k sqrt((x - μ_k)ᵀ P (x - μ_k))`` of features (B, D) → (B,).

    Args:
        features: (B, D).
        means: (K, D) class means.
        precision: (D, D) inverse covariance P.
    """
    if features.dim() != 2 or features.shape[1] != means.shape[1]:
        raise ParameterError(
            f"features of shape {tuple(features.shape)} must be (B, D) with D = "
            f"{means.shape[1]}, the width the detector was fitted on"
        )
    diff = features[:, None, :] - means[None, :, :].to(features)  # (B, K, D)
    squared = torch.einsum("bkd,de,bke->bk", diff, precision.to(features), diff)
    return squared.clamp_min(0).amin(dim=1).sqrt()


def cosine_to_prototypes(features: Tensor, means: Tensor) -> Tensor:
    """Cosine similarities (B, K) of features (B, D) to prototypes (K, D)."""
    if features.dim() != 2 or features.shape[1] != means.shape[1]:
        raise ParameterError(
            f"features of shape {tuple(features.shape)} must be (B, D) with D = {means.shape[1]}"
        )
    a = torch.nn.functional.normalize(features, dim=-1)
    b = torch.nn.functional.normalize(means.to(features), dim=-1)
    return a @ b.T


def max_cosine_score(features: Tensor, *, means: Tensor) -> Tensor:
    """Negated cosine to the nearest prototype: features (B, D), means (K, D) → (B,)."""
    return -cosine_to_prototypes(features, means).amax(dim=1)


def auroc(in_scores: Tensor, out_scores: Tensor) -> float:
    """Area under the ROC curve for telling ``out_scores`` (positives) from ``in_scores``.

    The probability that a random OOD input scores higher than a random in-distribution one,
    ties counted one half (the Mann–Whitney U statistic; equals
    ``sklearn.metrics.roc_auc_score`` with OOD as the positive class).
    """
    a = torch.as_tensor(in_scores, dtype=torch.float64).flatten()
    b = torch.as_tensor(out_scores, dtype=torch.float64).flatten()
    if a.numel() == 0 or b.numel() == 0:
        raise ParameterError("in_scores and out_scores must each hold at least one score")
    both = torch.cat([a, b])
    order = torch.argsort(both, stable=True)
    sorted_scores = both[order]
    ranks = torch.empty_like(both)
    # average ranks (1-based) over ties
    unique, inverse, counts = torch.unique_consecutive(
        sorted_scores, return_inverse=True, return_counts=True
    )
    ends = torch.cumsum(counts, 0).to(torch.float64)
    average = ends - (counts.to(torch.float64) - 1) / 2
    ranks[order] = average[inverse]
    rank_sum = ranks[a.numel() :].sum()
    u = rank_sum - b.numel() * (b.numel() + 1) / 2
    return float(u / (a.numel() * b.numel()))


@dataclass
class OODDetector:
    """A fitted OOD score with its threshold (see the module docstring).

    Attributes:
        score: one of :data:`SCORES`.
        threshold: inputs scoring above it are flagged.
        percentile: the percentile of held-out in-distribution scores the threshold is.
        temperature: energy temperature T.
        means: (K, D) class means or prototypes (feature scores only).
        precision: (D, D) inverse shared covariance (``mahalanobis`` only).
        info: JSON-serialisable record: what the features are, what it was fitted and
            calibrated on, measured AUROC.
        inputs: which of its model's outputs the score reads, named by the pipeline that
            uses it (e.g. "audio_encoder" or "audio_embedding"; "" when it has one choice).
    """

    score: str
    threshold: float
    percentile: float
    temperature: float = 1.0
    means: Tensor | None = None
    precision: Tensor | None = None
    info: dict[str, Any] = field(default_factory=dict)
    inputs: str = ""

    def __post_init__(self) -> None:
        if self.score not in SCORES:
            raise ParameterError(f"score={self.score!r} must be one of {sorted(SCORES)}")
        if self.score in ("mahalanobis", "max_cosine") and self.means is None:
            raise ParameterError(f"score={self.score!r} needs means")
        if self.score == "mahalanobis" and self.precision is None:
            raise ParameterError("score='mahalanobis' needs precision")

    @property
    def needs(self) -> str:
        """What :meth:`scores` needs: "logits" or "features"."""
        return SCORES[self.score]

    def scores(
        self,
        *,
        logits: Tensor | None = None,
        features: Tensor | None = None,
        logits_lengths: Tensor | None = None,
    ) -> Tensor:
        """The detector's score (B,) from logits or features (B, D), whichever it uses.

        Logits are (B, K), or (B, L, K) per step of a sequence with ``logits_lengths`` (B,)
        valid steps: the score is then the mean of the per-step scores over valid steps.
        A logit score of a detector with ``means`` and no logits given reads features: its
        logits are the cosines of the features to the prototypes ``means`` (for embeddings).
        """
        if self.needs == "logits" and logits is None and self.means is not None:
            if features is not None:
                logits = cosine_to_prototypes(features.detach(), self.means)
        given = logits if self.needs == "logits" else features
        if given is None:
            raise ParameterError(f"score={self.score!r} needs {self.needs}")
        given = given.detach()
        if self.needs == "logits":
            if self.score == "msp":
                per_step = msp_score(given)
            else:
                per_step = energy_score(given, temperature=self.temperature)
            if given.dim() == 3:
                if logits_lengths is None:
                    return per_step.mean(dim=-1)
                steps = torch.arange(given.shape[1], device=given.device)
                valid = (steps[None, :] < logits_lengths.to(given.device)[:, None]).to(per_step)
                return (per_step * valid).sum(-1) / valid.sum(-1).clamp_min(1)
            return per_step
        if self.score == "max_cosine":
            return max_cosine_score(given, means=self.means)
        return mahalanobis_score(given, means=self.means, precision=self.precision)

    def is_ood(self, scores: Tensor) -> Tensor:
        """Boolean (B,): scores above the threshold."""
        return scores > self.threshold

    def describe(self, value: float) -> str:
        """One clause for a warning: "energy -3.1 above the threshold -5.2 ..."."""
        return (
            f"{self.score} {value:.3g} above the threshold {self.threshold:.3g} chosen on "
            "held-out data"
        )

    @classmethod
    def fit(
        cls,
        score: str,
        *,
        logits: Tensor | None = None,
        features: Tensor | None = None,
        logits_lengths: Tensor | None = None,
        percentile: float = 99.0,
        temperature: float = 1.0,
        means: Tensor | None = None,
        precision: Tensor | None = None,
        info: dict[str, Any] | None = None,
        inputs: str = "",
    ) -> OODDetector:
        """A detector whose threshold is the ``percentile`` of its scores on held-out data.

        Args:
            score: one of :data:`SCORES`.
            logits, features, logits_lengths: held-out in-distribution inputs, as
                :meth:`scores` takes them (the calibration set).
            percentile: in (0, 100]; 99 flags 1 % of such inputs.
            temperature, means, precision: the score's parameters.
            info: what to record in ``ood.json``.
            inputs: which model output the score reads (see the class docstring).
        """
        if not 0.0 < percentile <= 100.0:
            raise ParameterError(f"percentile={percentile!r} must be in (0, 100]")
        detector = cls(
            score, math.inf, percentile, temperature, means, precision, info or {}, inputs
        )
        values = detector.scores(
            logits=logits, features=features, logits_lengths=logits_lengths
        ).double()
        detector.threshold = float(torch.quantile(values, percentile / 100.0))
        return detector

    def save(self, directory: str | os.PathLike) -> list[Path]:
        """Write ``ood.json`` (+ ``ood.safetensors`` when it has tensors) into ``directory``.

        Call :func:`synesthesia.models.base.write_checksums` afterwards to seal the folder.
        """
        directory = Path(directory)
        if not directory.is_dir():
            raise ParameterError(f"directory={str(directory)!r} is not a folder")
        tensors = {
            name: value.detach().cpu().contiguous().float()
            for name, value in (("means", self.means), ("precision", self.precision))
            if value is not None
        }
        weights = directory / WEIGHTS_NAME
        written = []
        if tensors:
            with atomic_path(directory / OOD_SAFETENSORS) as tmp:
                save_file(tensors, str(tmp))
            written.append(directory / OOD_SAFETENSORS)
        elif (directory / OOD_SAFETENSORS).exists():
            (directory / OOD_SAFETENSORS).unlink()
        atomic_write_json(
            directory / OOD_JSON,
            {
                "format": _FORMAT,
                "score": self.score,
                "threshold": self.threshold,
                "percentile": self.percentile,
                "temperature": self.temperature,
                "higher_is_ood": True,
                "inputs": self.inputs,
                "tensors": sorted(tensors),
                "model_sha256": _sha256(weights) if weights.is_file() else None,
                "info": self.info,
            },
        )
        written.append(directory / OOD_JSON)
        return written

    @classmethod
    def load(cls, directory: str | os.PathLike) -> OODDetector:
        """Read ``ood.json`` (+ ``ood.safetensors``) from ``directory``."""
        directory = Path(directory)
        try:
            record = read_json(directory / OOD_JSON)
        except ParameterError as exc:
            raise CheckpointError(str(exc)) from None
        keys = {"format", "score", "threshold", "percentile", "temperature", "tensors"}
        if not isinstance(record, dict) or not keys <= set(record):
            raise CheckpointError(
                f"{str(directory / OOD_JSON)!r} must hold the keys {sorted(keys)}"
            )
        tensors: dict[str, Tensor] = {}
        if record["tensors"]:
            path = directory / OOD_SAFETENSORS
            if not path.is_file():
                raise CheckpointError(
                    f"model directory={str(directory)!r} has no {OOD_SAFETENSORS}"
                )
            tensors = load_file(str(path))
            missing = set(record["tensors"]) - set(tensors)
            if missing:
                raise CheckpointError(f"{str(path)!r} lacks the tensors {sorted(missing)}")
        try:
            return cls(
                score=record["score"],
                threshold=float(record["threshold"]),
                percentile=float(record["percentile"]),
                temperature=float(record["temperature"]),
                means=tensors.get("means"),
                precision=tensors.get("precision"),
                info=dict(record.get("info") or {}),
                inputs=str(record.get("inputs", "")),
            )
        except ParameterError as exc:
            raise CheckpointError(f"{str(directory / OOD_JSON)!r}: {exc}") from None


def _sha256(path: Path) -> str:
    hasher = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()


def load_ood_detector(directory: str | os.PathLike) -> OODDetector | None:
    """The detector saved in a model folder, or ``None`` when it has none.

    A detector whose recorded ``model_sha256`` differs from the folder's ``model.safetensors``
    was fitted for other weights: it is ignored with a warning (refit it).
    """
    directory = Path(directory)
    if not (directory / OOD_JSON).is_file():
        return None
    detector = OODDetector.load(directory)
    expected = read_json(directory / OOD_JSON).get("model_sha256")
    weights = directory / WEIGHTS_NAME
    if expected and weights.is_file() and _sha256(weights) != expected:
        command = detector.info.get("command", "benchmarks/ood.py --fit ...")
        warnings.warn(
            f"{OOD_JSON} in model directory={str(directory)!r} was fitted for other weights "
            f"than its {WEIGHTS_NAME}, so no OOD score is given; refit it: {command}",
            stacklevel=2,
        )
        return None
    return detector


def ood_warning(what: str, score: float | None, is_ood: bool | None, detector: Any) -> str | None:
    """The one-line caveat for an input unlike a model's training data, or None.

    ``"WHAT looks unlike the model's training data (mahalanobis 12.2 above the threshold
    11.6 chosen on held-out data)"`` when ``is_ood`` (the CLI prints it on stderr, the web app
    beside the answer); None when the input is in distribution or there is no detector.
    """
    if not is_ood or detector is None or score is None:
        return None
    return f"{what} looks unlike the model's training data ({detector.describe(score)})"
