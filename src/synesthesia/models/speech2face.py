"""Speech2Face: a voice → the face feature of its speaker → a canonical face image.

The bundle of the paper's three networks (and the attribute classifier that checks them):

- :class:`~synesthesia.models.voice_encoder.VoiceEncoder`: log-mel CNN → face feature (B, E);
- :class:`~synesthesia.models.face_encoder.FaceEncoder`: face image → face feature (B, E) and
  identity logits (frozen while the voice encoder learns; its features are the targets);
- :class:`~synesthesia.models.face_decoder.FaceDecoder`: face feature → face image;
- optionally an :class:`~synesthesia.models.ImageClassifier` over the joint classes of
  ``attributes`` (e.g. gender × age × skin), trained separately on faces and applied to
  decoded faces (the paper's Face++ attribute check).

The three networks train in stages (``synesthesia.training.speech2face``); this class only
holds them so that one folder (``config.json`` + ``model.safetensors``) carries them all.

References:
    Oh et al., "Speech2Face: Learning the Face Behind a Voice", CVPR 2019.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from synesthesia.errors import ParameterError
from synesthesia.models.base import PretrainedModel
from synesthesia.models.face_decoder import FaceDecoder
from synesthesia.models.face_encoder import FaceEncoder
from synesthesia.models.image_classifier import ImageClassifier
from synesthesia.models.registry import register_model
from synesthesia.models.voice_encoder import VoiceEncoder

__all__ = ["Speech2FaceModel"]


class Speech2FaceModel(PretrainedModel):
    """Voice encoder + face encoder + face decoder (+ attribute classifier).

    Args:
        voice_encoder: :class:`VoiceEncoder` keyword arguments.
        face_encoder: :class:`FaceEncoder` keyword arguments.
        face_decoder: :class:`FaceDecoder` keyword arguments.
        attributes: attribute name → its values, a dict or ``[name, values]`` pairs (their
            order fixes the joint class index; ``None``: no attribute classifier).
        attribute_classifier: :class:`ImageClassifier` keyword arguments but ``num_classes``
            (the product of the attributes' value counts); used only with ``attributes``.

    Shapes:
        forward: waveform (B, T), waveform_lengths (B,), images (B, 3, S, S) → dict of
        voice_features / face_features (B, E), voice_logits / face_logits (B, K),
        faces_from_voice / faces_from_face (B, 3, S, S), attribute_logits (B, A_joint).
        infer: waveform (B, T), waveform_lengths (B,) → (features (B, E), faces (B, 3, S, S)).
    """

    architecture = "speech2face"

    def __init__(
        self,
        *,
        voice_encoder: dict[str, Any] | None = None,
        face_encoder: dict[str, Any] | None = None,
        face_decoder: dict[str, Any] | None = None,
        attributes: dict[str, list[str]] | list | None = None,
        attribute_classifier: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.voice_encoder = VoiceEncoder(**(voice_encoder or {}))
        self.face_encoder = FaceEncoder(**(face_encoder or {}))
        self.face_decoder = FaceDecoder(**(face_decoder or {}))
        dims = {
            "voice_encoder.embedding_dim": self.voice_encoder.embedding_dim,
            "face_encoder.embedding_dim": self.face_encoder.embedding_dim,
            "face_decoder.embedding_dim": self.face_decoder.embedding_dim,
        }
        if len(set(dims.values())) != 1:
            raise ParameterError(f"the embedding widths {dims} must be equal")
        self.attributes = None
        self.attribute_classifier = None
        if attributes:
            pairs = list(attributes.items()) if isinstance(attributes, dict) else list(attributes)
            if any(
                not isinstance(pair, (list, tuple))
                or len(pair) != 2
                or not isinstance(pair[1], (list, tuple))
                or len(pair[1]) < 1
                for pair in pairs
            ):
                raise ParameterError(
                    f"attributes={attributes!r} must map names to value lists (a dict or "
                    "[name, values] pairs)"
                )
            self.attributes = {str(k): [str(x) for x in v] for k, v in pairs}
            joint = math.prod(len(v) for v in self.attributes.values())
            if joint < 2:
                raise ParameterError(
                    f"attributes={attributes!r} must have at least 2 joint classes"
                )
            self.attribute_classifier = ImageClassifier(
                num_classes=joint,
                **{k: v for k, v in (attribute_classifier or {}).items() if k != "num_classes"},
            )

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "voice_encoder": self.voice_encoder.get_config(),
            "face_encoder": self.face_encoder.get_config(),
            "face_decoder": self.face_decoder.get_config(),
            # [name, values] pairs: the order fixes the joint class index (JSON dicts get sorted)
            "attributes": None
            if self.attributes is None
            else [[k, v] for k, v in self.attributes.items()],
        }
        if self.attribute_classifier is not None:
            classifier = self.attribute_classifier.get_config()
            classifier.pop("num_classes")
            config["attribute_classifier"] = classifier
        return config

    @property
    def sample_rate(self) -> int:
        """The rate clips must be at."""
        return self.voice_encoder.sample_rate

    @property
    def image_size(self) -> int:
        """The side of the decoded faces."""
        return self.face_decoder.image_size

    # -- attributes ----------------------------------------------------------------------
    def joint_attribute_index(self, labels: Tensor) -> Tensor:
        """Per-attribute value indices (B, A) → joint class index (B,)."""
        sizes = [len(v) for v in self.attributes.values()]
        index = torch.zeros(labels.shape[0], dtype=torch.long, device=labels.device)
        for a, size in enumerate(sizes):
            index = index * size + labels[:, a]
        return index

    def split_attribute_index(self, joint: Tensor) -> Tensor:
        """Joint class index (B,) → per-attribute value indices (B, A)."""
        sizes = [len(v) for v in self.attributes.values()]
        out = []
        for size in reversed(sizes):
            out.append(joint % size)
            joint = joint // size
        return torch.stack(out[::-1], dim=-1)

    @torch.no_grad()
    def predict_attributes(self, images: Tensor) -> Tensor:
        """Per-attribute value indices (B, A) that the attribute classifier reads off images."""
        if self.attribute_classifier is None:
            raise ParameterError("this Speech2Face model has no attribute classifier")
        return self.split_attribute_index(self.attribute_classifier(images).argmax(-1))

    # -- the networks --------------------------------------------------------------------
    def forward(
        self, waveform: Tensor, waveform_lengths: Tensor | None = None, *, images: Tensor
    ) -> dict[str, Tensor]:
        """Every network once (for tests and one-pass fine-tuning); see the class Shapes."""
        voice = self.voice_encoder(waveform, waveform_lengths)
        face, face_logits = self.face_encoder(images)
        out = {
            "voice_features": voice,
            "face_features": face,
            "voice_logits": self.face_encoder.classify(voice),
            "face_logits": face_logits,
            "faces_from_voice": self.face_decoder(voice),
            "faces_from_face": self.face_decoder(face),
        }
        if self.attribute_classifier is not None:
            out["attribute_logits"] = self.attribute_classifier(images)
        return out

    @torch.no_grad()
    def infer(
        self, waveform: Tensor, waveform_lengths: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """(face features (B, E), decoded faces (B, 3, S, S)) of clips (B, T), no grad."""
        features = self.voice_encoder(waveform, waveform_lengths)
        return features, self.face_decoder(features)

    def example_inputs(self, batch_size: int = 2) -> dict[str, Tensor]:
        inputs = self.voice_encoder.example_inputs(batch_size)
        device = inputs["waveform"].device
        size = self.image_size
        inputs["images"] = torch.rand(batch_size, 3, size, size, device=device)
        return inputs


def _parts(size: str) -> dict[str, Any]:
    """The ``voice_encoder_<size>``, ``face_encoder_<size>``, ``face_decoder_<size>`` presets."""
    from synesthesia.models.registry import model_defaults

    return {
        "voice_encoder": model_defaults(f"voice_encoder_{size}"),
        "face_encoder": model_defaults(f"face_encoder_{size}"),
        "face_decoder": model_defaults(f"face_decoder_{size}"),
    }


register_model(
    "speech2face_tiny",
    lambda **kw: Speech2FaceModel(**{**_parts("tiny"), **kw}),
    attributes={"gender": ["female", "male"], "age": ["older", "adult", "young"]},
    attribute_classifier={"channels": [4, 8]},
)
register_model(
    "speech2face_small",
    lambda **kw: Speech2FaceModel(**{**_parts("small"), **kw}),
    attribute_classifier={"channels": [16, 32, 64]},
)
