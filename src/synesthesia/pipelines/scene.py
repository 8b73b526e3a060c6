"""Audio clip → scene-class probabilities (+ an out-of-distribution score), from a student folder.

The folder (written by ``synesthesia scene train``) holds ``config.json`` + ``model.safetensors``
(a :class:`~synesthesia.models.SceneStudent` with its linear probe) and, when fitted
(``benchmarks/ood.py --fit scene``), ``ood.json`` + ``ood.safetensors``: a detector that
scores how unlike the training scenes a clip is (see :mod:`synesthesia.metrics.ood`). Nothing
here imports Lightning.

Example:
    >>> classifier = SceneClassifier.from_pretrained(pretrained_path("scene_synthetic"))
    >>> result = classifier.predict_file(asset_path("scene_birds.wav"))
    >>> result.top(1), result.is_ood                          # [('birds', 0.99...)], False

References:
    Aytar, Vondrick & Torralba, "SoundNet", NeurIPS 2016.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from synesthesia.errors import CheckpointError, ParameterError
from synesthesia.functional._checks import check_min_samples
from synesthesia.io.audio import load_audio
from synesthesia.metrics.ood import OODDetector, load_ood_detector
from synesthesia.models.scene_student import SceneStudent
from synesthesia.pipelines._folder import load_model_folder

__all__ = ["SceneClassifier", "SceneResult"]


@dataclass
class SceneResult:
    """One clip's scene probabilities.

    Attributes:
        class_names: the K classes.
        probabilities: (K,) softmax of the probe.
        ood_score: the folder's OOD score (higher = less like training), or None without one.
        is_ood: whether ``ood_score`` is above the detector's threshold (None without one).
    """

    class_names: list[str]
    probabilities: Tensor
    ood_score: float | None = None
    is_ood: bool | None = None

    def top(self, k: int | None = None) -> list[tuple[str, float]]:
        """(class, probability) pairs, most likely first (all when ``k`` is None)."""
        order = self.probabilities.argsort(descending=True).tolist()[:k]
        return [(self.class_names[i], float(self.probabilities[i])) for i in order]


class SceneClassifier:
    """A scene student with its optional OOD detector.

    Args:
        model: the student (put in eval mode).
        ood: a fitted detector, or None.
    """

    def __init__(self, model: SceneStudent, ood: OODDetector | None = None) -> None:
        if not isinstance(model, SceneStudent):
            raise CheckpointError(f"model is a {type(model).__name__}, not a SceneStudent")
        self.model, self.ood = model.eval(), ood

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike) -> SceneClassifier:
        """Load a student folder (and its ``ood.json`` when present)."""
        directory = Path(directory)
        model = load_model_folder(directory, SceneStudent, refusal=", not a scene_student")
        return cls(model, load_ood_detector(directory))

    def save_pretrained(self, directory: str | os.PathLike) -> Path:
        """Write the student folder (the network with its probe; no extra files)."""
        return Path(self.model.save_pretrained(directory))

    @property
    def sample_rate(self) -> int:
        """The rate clips are resampled to."""
        return int(self.model.sample_rate)

    @torch.no_grad()
    def features_and_logits(
        self, waveform: Tensor, waveform_lengths: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """Encoder features (B, D) and probe logits (B, K) of clips (B, T)."""
        features = self.model.features(waveform, waveform_lengths)
        return features, self.model.probe(features)

    @torch.no_grad()
    def __call__(
        self, waveform: Tensor, waveform_lengths: Tensor | None = None
    ) -> list[SceneResult]:
        """Classify clips (B, T) at :attr:`sample_rate` (``waveform_lengths`` (B,) when padded)."""
        if waveform.dim() != 2:
            raise ParameterError(f"waveform of shape {tuple(waveform.shape)} must be (B, T)")
        shortest = int(waveform.shape[-1] if waveform_lengths is None else waveform_lengths.min())
        check_min_samples(shortest, self.model.min_length, sample_rate=self.sample_rate)
        features, logits = self.features_and_logits(waveform, waveform_lengths)
        probabilities = torch.softmax(logits, dim=-1)
        scores = flags = None
        if self.ood is not None:
            scores = self.ood.scores(logits=logits, features=features)
            flags = self.ood.is_ood(scores)
        names = list(self.model.class_names)
        return [
            SceneResult(
                names,
                probabilities[i],
                None if scores is None else float(scores[i]),
                None if flags is None else bool(flags[i]),
            )
            for i in range(waveform.shape[0])
        ]

    def predict_file(self, path: str | os.PathLike) -> SceneResult:
        """Classify one audio file (resampled to :attr:`sample_rate`, mixed to mono)."""
        waveform, _ = load_audio(path, sample_rate=self.sample_rate)
        if waveform.shape[-1] < self.model.min_length:
            raise ParameterError(
                f"audio={str(path)!r} is {waveform.shape[-1]} samples at {self.sample_rate} "
                f"Hz; the network needs at least {self.model.min_length}"
            )
        return self(waveform[None])[0]
