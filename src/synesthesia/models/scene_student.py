"""SceneStudent: a SoundNet-style waveform CNN taught by a visual teacher, plus a linear probe.

The student sees only sound. It is trained to match the class posteriors that a visual
teacher (:class:`~synesthesia.models.ImageClassifier`) gives the paired image
(:func:`synesthesia.functional.distillation_kl_loss`), so no audio label is needed. Its pooled
features are then read out by a :class:`~synesthesia.nn.LinearProbe` fitted on a few labelled
clips per class; the probe travels in the same weights file, so an exported student predicts
scene classes on its own (:meth:`SceneStudent.infer`).

References:
    Aytar, Vondrick & Torralba, "SoundNet: Learning Sound Representations from Unlabeled
    Video", NeurIPS 2016 (1-D conv stack on raw waveforms, KL to the teacher's posteriors,
    linear classifiers on the hidden features).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from synesthesia.errors import ParameterError
from synesthesia.models.base import PretrainedModel
from synesthesia.models.registry import register_model
from synesthesia.nn.audio_encoders import SoundNetEncoder
from synesthesia.nn.probe import LinearProbe

__all__ = ["SceneStudent"]


class SceneStudent(PretrainedModel):
    """SoundNet encoder → features (B, D); a distillation head and a linear probe on top.

    Args:
        class_names: names of the probe's classes (K = len(class_names)).
        num_teacher_classes: outputs of the distillation head (the teacher's classes;
            ``None``: K).
        sample_rate: the rate the student expects its waveforms at (checked by callers).
        channels: output channels of each SoundNet layer.
        kernel_sizes: kernel of each layer.
        strides: stride of each layer.
        pool_sizes: max-pool size after each layer (1 = none).

    Shapes:
        forward: waveform (B, T), waveform_lengths (B,) → (teacher-class logits (B, K_teacher),
        probe logits (B, K)).
        features: → (B, D); classify: → probe logits (B, K); infer: → probabilities (B, K).
    """

    architecture = "scene_student"

    def __init__(
        self,
        *,
        class_names: Sequence[str] = ("rain", "wind", "birds", "traffic", "water", "crowd"),
        num_teacher_classes: int | None = None,
        sample_rate: int = 8000,
        channels: Sequence[int] = (16, 32, 64, 128, 256),
        kernel_sizes: Sequence[int] = (64, 32, 16, 8, 4),
        strides: Sequence[int] = (2, 2, 2, 2, 2),
        pool_sizes: Sequence[int] = (8, 8, 1, 1, 4),
    ) -> None:
        super().__init__()
        names = tuple(class_names)
        if len(names) < 2 or not all(isinstance(n, str) and n for n in names):
            raise ParameterError(f"class_names={names!r} must hold at least 2 non-empty names")
        num_teacher_classes = len(names) if num_teacher_classes is None else num_teacher_classes
        if (
            isinstance(num_teacher_classes, bool)
            or not isinstance(num_teacher_classes, int)
            or num_teacher_classes < 2
        ):
            raise ParameterError(
                f"num_teacher_classes={num_teacher_classes!r} must be an integer >= 2"
            )
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate < 1:
            raise ParameterError(f"sample_rate={sample_rate!r} must be a positive integer")
        self.class_names, self.num_teacher_classes = names, num_teacher_classes
        self.sample_rate = sample_rate
        self.encoder = SoundNetEncoder(
            channels=channels, kernel_sizes=kernel_sizes, strides=strides, pool_sizes=pool_sizes
        )
        self.head = nn.Linear(self.encoder.output_dim, num_teacher_classes)
        self.probe = LinearProbe(self.encoder.output_dim, len(names))

    @property
    def min_length(self) -> int:
        """The shortest waveform (samples) the encoder accepts."""
        return self.encoder.min_length

    def get_config(self) -> dict[str, Any]:
        e = self.encoder
        return {
            "class_names": list(self.class_names),
            "num_teacher_classes": self.num_teacher_classes,
            "sample_rate": self.sample_rate,
            "channels": list(e.channels),
            "kernel_sizes": list(e.kernel_sizes),
            "strides": list(e.strides),
            "pool_sizes": list(e.pool_sizes),
        }

    def features(self, waveform: Tensor, waveform_lengths: Tensor | None = None) -> Tensor:
        """Pooled encoder features (B, D) of waveforms (B, T)."""
        return self.encoder(waveform, waveform_lengths)

    def forward(
        self, waveform: Tensor, waveform_lengths: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """Teacher-class logits (B, K_teacher) — what distillation trains — and probe logits
        (B, K) computed on detached features (a loss on them never changes the encoder)."""
        features = self.features(waveform, waveform_lengths)
        return self.head(features), self.probe(features.detach())

    def classify(self, waveform: Tensor, waveform_lengths: Tensor | None = None) -> Tensor:
        """Probe logits (B, K) over :attr:`class_names`."""
        return self.probe(self.features(waveform, waveform_lengths))

    @torch.no_grad()
    def infer(self, waveform: Tensor, waveform_lengths: Tensor | None = None) -> Tensor:
        """Probe class probabilities (B, K), no grad (call ``eval()`` first)."""
        return torch.softmax(self.classify(waveform, waveform_lengths), dim=-1)

    def example_inputs(self, batch_size: int = 2) -> dict[str, Tensor]:
        device = next(self.parameters()).device
        return {"waveform": torch.randn(batch_size, 2 * self.min_length, device=device)}


register_model(
    "scene_student_tiny",
    SceneStudent,
    class_names=("a", "b", "c"),
    channels=(8, 8, 16),
    kernel_sizes=(32, 16, 8),
    strides=(2, 2, 2),
    pool_sizes=(4, 4, 1),
)
register_model(
    "scene_student_small",
    SceneStudent,
    channels=(16, 32, 64, 128),
    kernel_sizes=(64, 32, 16, 8),
    strides=(2, 2, 2, 2),
    pool_sizes=(8, 4, 2, 1),
)
