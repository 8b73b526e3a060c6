"""The documented vocoder and TTS recipes (configs/vocoder, configs/tts) load, validate and
build their models, and every vocoder recipe shares the TTS recipe's AudioConfig, so a
vocoder trained by one can voice the acoustic model trained by the other."""

from __future__ import annotations

from pathlib import Path

import pytest

from synesthesia.config import AudioConfig
from synesthesia.models import create_model
from synesthesia.training.config import load_config, validate_config
from synesthesia.training.tts import TTS_DEFAULTS
from synesthesia.training.vocoder import VOCODER_DEFAULTS

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _model(path: Path, defaults: dict):
    config = validate_config(load_config(path, [], defaults=defaults))
    kwargs = dict(config["model"]["kwargs"])
    if isinstance(kwargs.get("audio_config"), dict):
        kwargs["audio_config"] = AudioConfig(**kwargs["audio_config"])
    return config, create_model(config["model"]["name"], **kwargs)


@pytest.mark.parametrize("name", ["espeak.yaml", "espeak_tts.yaml"])
def test_espeak_vocoder_recipes_share_the_tts_recipe_audio_config(name):
    _, acoustic = _model(CONFIGS / "tts" / "espeak.yaml", TTS_DEFAULTS)
    config, vocoder = _model(CONFIGS / "vocoder" / name, VOCODER_DEFAULTS)
    assert vocoder.audio_config == acoustic.audio_config
    assert config["trainer"]["max_steps"] > 0
