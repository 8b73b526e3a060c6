"""Training with Lightning: config, generic ModelSystem, fit (checkpoints, resume, export), tasks.

The ONLY package of synesthesia that imports lightning; trained models are exported as plain
model folders (safetensors + JSON) that inference loads without it.
"""

from synesthesia.training.config import DEFAULTS, apply_overrides, default_config, load_config
from synesthesia.training.data import RandomBatchStream, batch_generator, batches_consumed
from synesthesia.training.fit import FitResult, build_trainer, export_model, fit
from synesthesia.training.lm import LM_DEFAULTS, LMSystem, TextDataModule, train_lm
from synesthesia.training.optim import build_optimizer, lr_factor, parameter_groups
from synesthesia.training.system import ModelSystem

__all__ = [
    "DEFAULTS",
    "LM_DEFAULTS",
    "FitResult",
    "LMSystem",
    "ModelSystem",
    "RandomBatchStream",
    "TextDataModule",
    "apply_overrides",
    "batch_generator",
    "batches_consumed",
    "build_optimizer",
    "build_trainer",
    "default_config",
    "export_model",
    "fit",
    "load_config",
    "lr_factor",
    "parameter_groups",
    "train_lm",
]

from synesthesia.training.embed import (  # noqa: E402
    EMBED_DEFAULTS,
    DualEncoderSystem,
    SpokenDigitsDataModule,
    train_dual_encoder,
)

__all__ += ["EMBED_DEFAULTS", "DualEncoderSystem", "SpokenDigitsDataModule", "train_dual_encoder"]

from synesthesia.training.scene import SCENE_DEFAULTS, train_scene  # noqa: E402

__all__ += ["SCENE_DEFAULTS", "train_scene"]

from synesthesia.training.tts import TTS_DEFAULTS, TTSDataModule, TTSSystem, train_tts  # noqa: E402

__all__ += ["TTS_DEFAULTS", "TTSDataModule", "TTSSystem", "train_tts"]

from synesthesia.training.task import Task, train  # noqa: E402

__all__ += ["Task", "train"]
