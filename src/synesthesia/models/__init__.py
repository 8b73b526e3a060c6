"""Whole architectures, one per file, and the model registry.

Each architecture module registers its presets on import; add new ones to the import list.
"""

from synesthesia.models.base import (
    PretrainedModel,
    architecture_class,
    list_architectures,
    load_pretrained,
)
from synesthesia.models.registry import create_model, list_models, model_defaults, register_model

__all__ = [
    "PretrainedModel",
    "architecture_class",
    "create_model",
    "list_architectures",
    "list_models",
    "load_pretrained",
    "model_defaults",
    "register_model",
]

from synesthesia.models.gpt import GPT  # noqa: E402

__all__ += ["GPT"]

from synesthesia.models.dual_encoder import DualEncoder  # noqa: E402

__all__ += ["DualEncoder"]

from synesthesia.models.wavenet import WaveNet  # noqa: E402

__all__ += ["WaveNet"]

from synesthesia.models.show_attend_tell import ShowAttendTell  # noqa: E402

__all__ += ["ShowAttendTell"]

from synesthesia.models.image_classifier import ImageClassifier  # noqa: E402
from synesthesia.models.scene_student import SceneStudent  # noqa: E402

__all__ += ["ImageClassifier", "SceneStudent"]

from synesthesia.models.tacotron2 import Tacotron2  # noqa: E402

__all__ += ["Tacotron2"]

from synesthesia.models.transformer_captioner import TransformerCaptioner  # noqa: E402

__all__ += ["TransformerCaptioner"]

from synesthesia.models.face_decoder import FaceDecoder  # noqa: E402
from synesthesia.models.face_encoder import FaceEncoder  # noqa: E402
from synesthesia.models.speech2face import Speech2FaceModel  # noqa: E402
from synesthesia.models.voice_encoder import VoiceEncoder  # noqa: E402

__all__ += ["FaceDecoder", "FaceEncoder", "Speech2FaceModel", "VoiceEncoder"]
