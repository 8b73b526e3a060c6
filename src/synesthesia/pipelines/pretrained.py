"""Locate the models and example files shipped inside the package.

Shipped models live in ``synesthesia/pretrained/<name>/`` (config.json, model.safetensors and
what the model needs to run, plus a README.md with the command that reproduces it); example
inputs live in ``synesthesia/assets/`` (see its README.md: ``speech.wav``, a 2 s eSpeak NG
sentence; ``scene_birds.wav``, a 3 s synthetic scene; ``digit_strip_example.png`` ...). Both are
package data, so they are found the same way from a source checkout and from an installed wheel.

Example:
    >>> from synesthesia.pipelines import ImageCaptioner, asset_path, pretrained_path
    >>> captioner = ImageCaptioner.from_pretrained(pretrained_path("caption_digits"))
    >>> captioner([asset_path("digit_strip_example.png")])[0].caption
    'seven six three'
"""

from __future__ import annotations

from pathlib import Path

from synesthesia.errors import ParameterError

__all__ = [
    "DEFAULT_VOICE",
    "SHIPPED_VOCODERS",
    "asset_path",
    "list_pretrained",
    "pretrained_path",
    "resolve_model",
    "write_example_audio",
]

_PACKAGE = Path(__file__).resolve().parents[1]
PRETRAINED_DIR = _PACKAGE / "pretrained"
ASSETS_DIR = _PACKAGE / "assets"

#: the example clips :func:`write_example_audio` makes (shipped in ``assets/``)
SPEECH_EXAMPLE = "speech.wav"
SCENE_EXAMPLE = "scene_birds.wav"
#: what ``speech.wav`` says, and with which eSpeak NG voice
SPEECH_TEXT = "Machines that see, hear and speak."
SPEECH_VOICE = "en-us"
#: ``scene_birds.wav``: the "birds" clip of make_synthetic_scenes("test", num_per_class=1,
#: duration=3.0, seed=2026) at the shipped scene model's 8 kHz
SCENE_CLASS, SCENE_SEED, SCENE_DURATION, SCENE_SAMPLE_RATE = "birds", 2026, 3.0, 8000


#: the acoustic model ``synesthesia speak`` and ``TextToSpeech.from_pretrained()`` use
DEFAULT_VOICE = "tts_espeak"
#: the WaveNet trained on each shipped voice (``--vocoder wavenet``); a voice without one
#: speaks through Griffin-Lim only
SHIPPED_VOCODERS: dict[str, str] = {}


def list_pretrained() -> list[str]:
    """Names of the shipped models (folders holding a config.json)."""
    if not PRETRAINED_DIR.is_dir():
        return []
    return sorted(p.name for p in PRETRAINED_DIR.iterdir() if (p / "config.json").is_file())


def pretrained_path(name: str) -> Path:
    """The folder of the shipped model ``name`` (e.g. ``"caption_digits"``).

    Raises:
        ParameterError: no shipped model has that name.
    """
    path = PRETRAINED_DIR / str(name)
    if not (path / "config.json").is_file():
        raise ParameterError(f"name={name!r} is not a shipped model; shipped: {list_pretrained()}")
    return path


def resolve_model(model: str | Path | None, *, default: str) -> Path:
    """A model folder given as a path, the name of a shipped model, or None (``default``).

    A folder on disk wins over a shipped model of the same name.

    Raises:
        ParameterError: neither a folder nor a shipped model's name.
    """
    if model is None:
        return pretrained_path(default)
    path = Path(model)
    if path.is_dir():
        return path
    if isinstance(model, str) and (PRETRAINED_DIR / model / "config.json").is_file():
        return PRETRAINED_DIR / model
    raise ParameterError(
        f"model={str(model)!r} is neither a folder nor a shipped model; shipped: "
        f"{list_pretrained()}"
    )


def asset_path(name: str) -> Path:
    """The path of the shipped example file ``name`` (e.g. ``"digit_strip_example.png"``).

    Raises:
        ParameterError: no such file among the assets.
    """
    path = ASSETS_DIR / str(name)
    if not path.is_file():
        shipped = sorted(p.name for p in ASSETS_DIR.iterdir()) if ASSETS_DIR.is_dir() else []
        raise ParameterError(f"name={name!r} is not a shipped asset; shipped: {shipped}")
    return path


def write_example_audio(directory: str | Path) -> list[Path]:
    """Regenerate the shipped example clips into ``directory`` (how ``assets/`` was made).

    * ``speech.wav``: :data:`SPEECH_TEXT` spoken by eSpeak NG (voice :data:`SPEECH_VOICE`,
      default rate and pitch) at its native 22050 Hz, mono 16-bit, about 2 s;
    * ``scene_birds.wav``: the :data:`SCENE_CLASS` clip of
      ``make_synthetic_scenes("test", num_per_class=1, duration=3.0, seed=2026)`` at 8 kHz,
      mono 16-bit (the shipped ``scene_synthetic`` model's rate).

    Both are deterministic: a rerun writes the same samples.

    Returns:
        The two paths written.
    """
    from synesthesia.data.espeak import EspeakSynthesizer
    from synesthesia.data.synthetic_scenes import SCENE_CLASSES, make_synthetic_scenes
    from synesthesia.io.audio import save_audio

    directory = Path(directory)
    waveform, sample_rate = EspeakSynthesizer().synthesize(SPEECH_TEXT, voice=SPEECH_VOICE)
    speech = save_audio(directory / SPEECH_EXAMPLE, waveform, sample_rate, subtype="PCM_16")
    scenes = make_synthetic_scenes(
        "test",
        num_per_class=1,
        sample_rate=SCENE_SAMPLE_RATE,
        duration=SCENE_DURATION,
        seed=SCENE_SEED,
        use_cache=False,
    )
    index = int((scenes.labels == SCENE_CLASSES.index(SCENE_CLASS)).nonzero()[0, 0])
    scene = save_audio(
        directory / SCENE_EXAMPLE, scenes.waveform[index], SCENE_SAMPLE_RATE, subtype="PCM_16"
    )
    return [speech, scene]
