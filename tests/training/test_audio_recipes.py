"""The documented vocoder and TTS recipes (configs/vocoder, configs/tts) load, validate and
build their models, and every vocoder recipe shares the TTS recipe's AudioConfig, so a
vocoder trained by one can voice the acoustic model trained by the other."""

from __future__ import annotations

from pathlib import Path

import pytest

from synesthesia.models import create_model
from synesthesia.training import tts, vocoder
from synesthesia.training.config import load_config, validate_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _model(path: Path, module, defaults: dict):
    """The config and the model its training module builds from it."""
    config = validate_config(load_config(path, [], defaults=defaults))
    kwargs = module._converted(config["model"]["kwargs"])
    return config, create_model(config["model"]["name"], **kwargs)


@pytest.mark.parametrize("name", ["espeak.yaml", "espeak_tts.yaml"])
def test_espeak_vocoder_recipes_share_the_tts_recipe_audio_config(name):
    _, acoustic = _model(CONFIGS / "tts" / "espeak.yaml", tts, tts.TTS_DEFAULTS)
    config, wavenet = _model(CONFIGS / "vocoder" / name, vocoder, vocoder.VOCODER_DEFAULTS)
    assert wavenet.audio_config == acoustic.audio_config
    assert config["trainer"]["max_steps"] > 0
