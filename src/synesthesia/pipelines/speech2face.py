"""A voice → the face behind it: load a Speech2Face folder, predict, evaluate.

The folder (written by ``synesthesia face train``) holds ``config.json`` + ``model.safetensors``
of a :class:`~synesthesia.models.speech2face.Speech2FaceModel` (voice encoder, face encoder,
face decoder and, when the training data had attributes, the attribute classifier), and may
hold ``metrics.json`` and ``figure.png`` from the training run's evaluation (sealed in
``checksums.json`` like the weights). Nothing here imports Lightning.

Example:
    >>> s2f = Speech2Face.from_pretrained(pretrained_path("speech2face_synthetic"))
    >>> result = s2f.predict_file("clip.wav")   # 16 kHz mono after resampling
    >>> s2f.save_face(result.face, "face.png"); result.attributes  # {'gender': 'male', ...}

References:
    Oh et al., "Speech2Face: Learning the Face Behind a Voice", CVPR 2019.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from synesthesia.errors import CheckpointError, ParameterError
from synesthesia.functional.image import resize_image
from synesthesia.io.audio import load_audio
from synesthesia.models.speech2face import Speech2FaceModel
from synesthesia.pipelines._folder import load_model_folder, seal_folder

__all__ = ["FacePrediction", "Speech2Face"]


@dataclass
class FacePrediction:
    """What one clip's voice says about the face.

    Attributes:
        features: (E,) the predicted face feature.
        face: (3, S, S) the decoded face in [0, 1].
        attributes: attribute → value read off the decoded face (empty without a classifier).
    """

    features: Tensor
    face: Tensor
    attributes: dict[str, str]


class Speech2Face:
    """A trained Speech2Face model bundle.

    Args:
        model: the networks (put in eval mode).
    """

    def __init__(self, model: Speech2FaceModel) -> None:
        if not isinstance(model, Speech2FaceModel):
            raise CheckpointError(f"model is a {type(model).__name__}, not a Speech2FaceModel")
        self.model = model.eval()

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike, *, flag: str = "model") -> Speech2Face:
        """Load (and verify) a Speech2Face folder."""
        model = load_model_folder(
            directory, Speech2FaceModel, refusal=", not a speech2face model", flag=flag
        )
        return cls(model)

    def save_pretrained(
        self,
        directory: str | os.PathLike,
        *,
        dtype: torch.dtype | None = None,
        extras: dict[str, Any] | None = None,
    ) -> Path:
        """Write the folder; ``extras`` maps file names to bytes / str / JSON-able values
        (``metrics.json``, ``figure.png`` ...) written beside the weights and sealed."""
        from synesthesia.utils import atomic_write_json

        directory = Path(self.model.save_pretrained(directory, dtype=dtype))
        for name, value in (extras or {}).items():
            path = directory / name
            if isinstance(value, bytes):
                path.write_bytes(value)
            elif isinstance(value, str):
                path.write_text(value, encoding="utf-8")
            else:
                atomic_write_json(path, value)
        return seal_folder(directory) if extras else directory

    @property
    def sample_rate(self) -> int:
        """The rate clips are resampled to."""
        return self.model.sample_rate

    @torch.no_grad()
    def __call__(
        self, waveform: Tensor, waveform_lengths: Tensor | None = None
    ) -> list[FacePrediction]:
        """Faces of clips (B, T) at :attr:`sample_rate` (``waveform_lengths`` (B,) when padded)."""
        if not isinstance(waveform, Tensor) or waveform.dim() != 2:
            shape = (
                tuple(waveform.shape) if isinstance(waveform, Tensor) else type(waveform).__name__
            )
            raise ParameterError(f"waveform of shape {shape} must be (B, T)")
        features, faces = self.model.infer(waveform, waveform_lengths)
        read = None
        if self.model.attribute_classifier is not None:
            read = self.model.predict_attributes(faces)
        out = []
        for i in range(waveform.shape[0]):
            attributes = {}
            if read is not None:
                attributes = {
                    name: values[int(read[i, a])]
                    for a, (name, values) in enumerate(self.model.attributes.items())
                }
            out.append(FacePrediction(features[i], faces[i], attributes))
        return out

    def predict_file(self, path: str | os.PathLike) -> FacePrediction:
        """The face of one audio file (resampled to :attr:`sample_rate`, mixed to mono)."""
        waveform, _ = load_audio(path, sample_rate=self.sample_rate)
        minimum = self.model.voice_encoder.min_length
        if waveform.shape[-1] < minimum:
            raise ParameterError(
                f"audio={str(path)!r} is {waveform.shape[-1]} samples at {self.sample_rate} Hz; "
                f"the voice encoder needs at least {minimum}"
            )
        return self(waveform[None])[0]

    @torch.no_grad()
    def redraw(self, images: Tensor) -> Tensor:
        """Faces redrawn by the decoder from the face encoder's features of ``images``.

        Args:
            images: (B, C, H, W) in [0, 1], any size (resized to the model's side); a
                grey-scale batch (C = 1) is repeated to RGB.

        Returns:
            (B, 3, S, S) decoded faces in [0, 1].
        """
        if not isinstance(images, Tensor) or images.dim() != 4 or images.shape[1] not in (1, 3):
            shape = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
            raise ParameterError(f"images of shape {shape} must be (B, 1 or 3, H, W)")
        images = images.float()
        if images.shape[1] == 1:
            images = images.expand(-1, 3, -1, -1)
        size = self.model.image_size
        if images.shape[-2:] != (size, size):
            images = resize_image(images, size=(size, size), keep_aspect=False).clamp(0, 1)
        return self.model.face_decoder(self.model.face_encoder.features(images))

    @staticmethod
    def save_face(face: Tensor, path: str | os.PathLike, *, scale: int = 4) -> Path:
        """Write a decoded face (3, S, S) as a PNG, enlarged ``scale``× (nearest)."""
        from synesthesia.viz.speech2face import save_face_png

        return save_face_png(face, path, scale=scale)

    def evaluate(self, test: Any, train: Any = None, *, ks: tuple[int, ...] = (1, 5, 10)) -> dict:
        """:func:`~synesthesia.metrics.speech2face.speech2face_scores` on held-out speakers."""
        from synesthesia.metrics.speech2face import speech2face_scores

        return speech2face_scores(self.model, test, train, ks=ks)

    @torch.no_grad()
    def figure(self, test: Any, *, num_rows: int = 6) -> Any:
        """The grid of :func:`~synesthesia.viz.speech2face.plot_face_grid` for the first
        ``num_rows`` speakers of ``test`` (each speaker's first clip)."""
        from synesthesia.viz.speech2face import plot_face_grid

        rows = min(num_rows, len(test.identities))
        if rows < 1:
            raise ParameterError(f"num_rows={num_rows!r} must be a positive integer")
        faces = test.faces[test.canonical[:rows]]
        first_clip = [int(torch.nonzero(test.clip_identity == i)[0]) for i in range(rows)]
        clips = [test.clips[i].float() for i in first_clip]
        from synesthesia.data.speech2face import collate_clips

        waveform, lengths = collate_clips(clips)
        _, from_voice = self.model.infer(waveform, lengths)
        from_face = self.model.face_decoder(self.model.face_encoder.features(faces))
        return plot_face_grid(faces, from_face, from_voice, row_labels=test.identities[:rows])
