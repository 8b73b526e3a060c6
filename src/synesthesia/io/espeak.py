"""Offline speech synthesis with eSpeak NG through ctypes (no apt package, no subprocess).

The pip package ``espeakng-loader`` (a core dependency) ships ``libespeak-ng`` and its data
(dictionaries and about a hundred voice variants). This module loads a private copy of that
library, runs it in synchronous mode and collects the 16-bit samples from the synthesis
callback. eSpeak keeps global state (current voice, rate, pitch, and C statics such as the
pitch-flutter phase that survive ``espeak_Terminate``), so every call holds one module lock and
works on a freshly loaded, seeded copy of the library: synthesis is deterministic (the same
text, voice, rate and pitch give the same samples whatever was said before) and
:class:`EspeakSynthesizer` is safe to use from several threads.

Voices are ``language`` or ``language+variant`` (``en-us``, ``en-us+f3``, ``en-gb-x-rp+m2``).
Variants act as distinct speakers (different formant scaling, pitch and voice quality).
eSpeak silently ignores an unknown variant, so names are checked against the variant files.

References:
    eSpeak NG 1.52, ``speak_lib.h`` (espeak_Initialize, espeak_SetSynthCallback,
    espeak_SetVoiceByName, espeak_SetParameter, espeak_Synth, espeak_TextToPhonemes).
"""

from __future__ import annotations

import _ctypes
import atexit
import contextlib
import ctypes
import logging
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from synesthesia.errors import ParameterError

__all__ = [
    "EspeakSynthesizer",
    "espeak_phonemes",
    "espeak_phonemes_batch",
    "list_languages",
    "list_variants",
    "list_voices",
    "ESPEAK_SAMPLE_RATE",
]

log = logging.getLogger(__name__)

#: the output rate of eSpeak NG's formant synthesiser
ESPEAK_SAMPLE_RATE = 22050

_LOCK = threading.RLock()
_RANDOM_SEED = 0

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_CHARS_UTF8 = 1
_PARAM_RATE = 1
_PARAM_PITCH = 3
_PHONEMES_IPA = 0x02
_EE_OK = 0

_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class _VoiceStruct(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_char_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


class _Engine:
    """One freshly loaded copy of the library; use only inside :func:`_session`.

    eSpeak keeps state in C statics that ``espeak_Terminate`` does not reset (the pitch
    "flutter" phase, the oscillator phase, the ``rand()`` stream), so the same text would come
    out slightly differently depending on what was said before. Loading a private copy of the
    library for every call (about 3 ms) and seeding its random stream makes synthesis a pure
    function of (text, voice, rate, pitch).
    """

    def __init__(self, library_path: str, data_path: Path) -> None:
        self.data_path = data_path
        lib = ctypes.CDLL(library_path, mode=os.RTLD_LOCAL)
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.argtypes = []
        lib.espeak_Synchronize.restype = ctypes.c_int
        lib.espeak_Terminate.argtypes = []
        lib.espeak_Terminate.restype = ctypes.c_int
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        lib.espeak_ng_SetRandSeed.restype = None
        lib.espeak_TextToPhonemes.argtypes = [
            ctypes.POINTER(ctypes.c_char_p),
            ctypes.c_int,
            ctypes.c_int,
        ]
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_VoiceStruct))
        self.lib = lib
        rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, str(self.data_path).encode("utf-8"), 0
        )
        if rate <= 0:
            self.close()
            raise ParameterError(f"espeak_Initialize failed (returned {rate}) for {data_path}")
        self.sample_rate = int(rate)
        self.chunks: list[np.ndarray] = []
        self._callback = _CALLBACK(self._collect)  # keep a reference: C holds the pointer
        lib.espeak_SetSynthCallback(self._callback)
        lib.espeak_ng_SetRandSeed(_RANDOM_SEED)

    def close(self) -> None:
        self.lib.espeak_Terminate()
        _ctypes.dlclose(self.lib._handle)

    def _collect(self, wav, num_samples, events) -> int:
        if wav and num_samples > 0:
            self.chunks.append(np.ctypeslib.as_array(wav, shape=(num_samples,)).copy())
        return 0

    def set_voice(self, voice: str) -> None:
        code = self.lib.espeak_SetVoiceByName(voice.encode("utf-8"))
        if code != _EE_OK:
            raise ParameterError(
                f"voice={voice!r} is not an eSpeak NG voice (espeak_SetVoiceByName returned "
                f"{code}); see synesthesia.io.espeak.list_voices()"
            )

    def synthesize(self, text: str, rate: int, pitch: int) -> np.ndarray:
        self.lib.espeak_SetParameter(_PARAM_RATE, rate, 0)
        self.lib.espeak_SetParameter(_PARAM_PITCH, pitch, 0)
        data = text.encode("utf-8")
        self.chunks = []
        code = self.lib.espeak_Synth(data, len(data) + 1, 0, 0, 0, _CHARS_UTF8, None, None)
        self.lib.espeak_Synchronize()
        chunks, self.chunks = self.chunks, []
        if code != _EE_OK:
            raise ParameterError(f"espeak_Synth failed with code {code} for text={text!r}")
        if not chunks:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate(chunks)

    def phonemes(self, text: str) -> list[str]:
        data = ctypes.c_char_p(text.encode("utf-8"))
        pointer = ctypes.pointer(data)
        clauses = []
        while pointer.contents.value:
            out = self.lib.espeak_TextToPhonemes(pointer, _CHARS_UTF8, _PHONEMES_IPA)
            if out is None:
                break
            clause = out.decode("utf-8").strip()
            if clause:
                clauses.append(clause)
        return clauses


_PRIVATE_COPY: tuple[str, Path] | None = None


def _library() -> tuple[str, Path]:
    """A private copy of libespeak-ng (so nobody else's handle keeps it loaded) + data path."""
    global _PRIVATE_COPY
    if _PRIVATE_COPY is None:
        try:
            import espeakng_loader
        except ImportError:
            raise ParameterError(
                "espeak-ng is not available: the package 'espeakng-loader' is missing; "
                "pip install espeakng-loader"
            ) from None
        folder = tempfile.mkdtemp(prefix="synesthesia-espeak-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        copy = os.path.join(folder, "libespeak-ng.so")
        shutil.copyfile(espeakng_loader.get_library_path(), copy)
        _PRIVATE_COPY = (copy, Path(espeakng_loader.get_data_path()))
    return _PRIVATE_COPY


@contextlib.contextmanager
def _session() -> Iterator[_Engine]:
    """Hold the module lock and a freshly initialised library for the duration of a call."""
    with _LOCK:
        engine = _Engine(*_library())
        try:
            yield engine
        finally:
            engine.close()


def list_variants() -> list[str]:
    """Names of the voice variants shipped with the eSpeak NG data (``f1``, ``m3``, ``klatt`` …).

    Returns:
        Sorted variant names; combine as ``"<language>+<variant>"``.
    """
    folder = _library()[1] / "voices" / "!v"
    return sorted(p.name for p in folder.iterdir() if p.is_file())


def list_languages() -> list[str]:
    """Language voice identifiers known to eSpeak NG (``en-us``, ``en-gb-x-rp``, ``fr`` …).

    These are the names accepted by ``espeak_SetVoiceByName`` (the last part of each voice's
    identifier, e.g. ``gmw/en-US`` → ``en-us``).
    """
    names = []
    with _session() as engine:
        voices = engine.lib.espeak_ListVoices(None)
        i = 0
        while voices[i]:
            identifier = voices[i].contents.identifier
            if identifier:
                names.append(identifier.decode("utf-8").rsplit("/", 1)[-1].lower())
            i += 1
    return sorted(set(names))


@lru_cache(maxsize=1)
def _accepted_languages() -> frozenset[str]:
    """:func:`list_languages`, once per process.

    ``espeak_SetVoiceByName`` resolves some names it does not list ("klingon") to a default
    voice, so a misspelt language would speak English silently; this set refuses them.
    """
    return frozenset(list_languages())


#: variants that sound like a person speaking (the rest are robots, whispers, croaks …);
#: the default speaker set of the corpus generator
STANDARD_VARIANTS = (
    "f1",
    "f2",
    "f3",
    "f4",
    "f5",
    "m1",
    "m2",
    "m3",
    "m4",
    "m5",
    "m6",
    "m7",
)


@lru_cache(maxsize=8)
def _verified_voices(language: str) -> tuple[str, ...]:
    synth = EspeakSynthesizer()
    probe = "seven"
    usable = []
    for name in [language] + [f"{language}+{v}" for v in list_variants()]:
        try:
            wav, _ = synth.synthesize(probe, voice=name)
        except ParameterError:
            continue
        # audible, not clipped to silence, and at most 2 s for one word
        peak = float(wav.abs().max()) if wav.numel() else 0.0
        if peak > 0.01 and wav.numel() < 2 * synth.sample_rate:
            usable.append(name)
    return tuple(usable)


def list_voices(language: str = "en-us", *, standard_only: bool = False) -> list[str]:
    """Usable voices of ``language``: the plain voice and every ``language+variant``.

    Each candidate is verified once per process by synthesising a word and checking that it
    is audible; the result is cached.

    Args:
        language: an eSpeak NG language voice (see :func:`list_languages`).
        standard_only: keep only the plain voice and the human-sounding variants
            ``f1``…``f5``, ``m1``…``m7`` (:data:`STANDARD_VARIANTS`).

    Returns:
        Voice names such as ``["en-us", "en-us+Alex", …, "en-us+f1", …]``.
    """
    if not isinstance(language, str) or not language or "+" in language:
        raise ParameterError(f"language={language!r} must be a language name like 'en-us'")
    voices = list(_verified_voices(language))
    if not voices:
        raise ParameterError(f"language={language!r} has no usable eSpeak NG voice")
    if standard_only:
        keep = {language} | {f"{language}+{v}" for v in STANDARD_VARIANTS}
        voices = [v for v in voices if v in keep]
    return voices


def check_voice(voice: object) -> str:
    if not isinstance(voice, str) or not voice.strip():
        raise ParameterError(f"voice={voice!r} must be a voice name like 'en-us' or 'en-us+f3'")
    if "+" in voice:
        language, variant = voice.split("+", 1)
        if variant not in list_variants():
            raise ParameterError(
                f"voice={voice!r} names an unknown variant {variant!r}; known variants: "
                f"{', '.join(list_variants())}"
            )
        if not language:
            raise ParameterError(f"voice={voice!r} must start with a language, e.g. 'en-us+f3'")
    else:
        language = voice
    if language.lower() not in _accepted_languages():
        raise ParameterError(
            f"voice={voice!r} names an unknown eSpeak NG language {language!r} "
            "(synesthesia.io.espeak.list_languages() lists them; eSpeak would fall back to "
            "another voice)"
        )
    return voice


class EspeakSynthesizer:
    """Text → waveform with eSpeak NG (formant synthesis, 22050 Hz, deterministic).

    Example:
        >>> synth = EspeakSynthesizer()
        >>> waveform, sample_rate = synth.synthesize("bin blue at f two now", voice="en-us+f3")

    Thread-safe: all calls share one process-wide lock, because eSpeak keeps global state.

    References:
        eSpeak NG 1.52 (https://github.com/espeak-ng/espeak-ng), synchronous synthesis mode.
    """

    def __init__(self) -> None:
        _library()  # fail early and clearly when the package is missing

    @property
    def sample_rate(self) -> int:
        """The synthesiser's output rate (22050 Hz)."""
        return ESPEAK_SAMPLE_RATE

    def synthesize(
        self, text: str, *, voice: str = "en-us", rate: int = 175, pitch: int = 50
    ) -> tuple[torch.Tensor, int]:
        """Speak ``text``.

        Args:
            text: UTF-8 text; numbers and abbreviations are expanded by eSpeak.
            voice: ``language`` or ``language+variant``, e.g. ``"en-us+m3"``.
            rate: speaking rate in words per minute, 80–450.
            pitch: base pitch, 0–100 (50 is the voice's normal pitch).

        Returns:
            ``(waveform, sample_rate)``: float32 waveform (T,) in [-1, 1) and 22050.
        """
        if not isinstance(text, str):
            raise ParameterError(f"text={text!r} must be a string")
        if not text.strip():
            raise ParameterError(f"text={text!r} must contain something to say")
        voice = check_voice(voice)
        if isinstance(rate, bool) or not isinstance(rate, int) or not 80 <= rate <= 450:
            raise ParameterError(f"rate={rate!r} must be an integer in [80, 450] words/minute")
        if isinstance(pitch, bool) or not isinstance(pitch, int) or not 0 <= pitch <= 100:
            raise ParameterError(f"pitch={pitch!r} must be an integer in [0, 100]")
        with _session() as engine:
            engine.set_voice(voice)
            samples = engine.synthesize(text, rate, pitch)
            if engine.sample_rate != ESPEAK_SAMPLE_RATE:
                raise ParameterError(
                    f"libespeak-ng runs at {engine.sample_rate} Hz, expected {ESPEAK_SAMPLE_RATE}"
                )
        if samples.size == 0:
            warnings.warn(f"eSpeak produced no audio for text={text!r}", stacklevel=2)
        waveform = torch.from_numpy(samples.astype(np.float32) / 32768.0)
        return waveform, self.sample_rate

    def phonemes(self, text: str, *, voice: str = "en-us") -> str:
        """IPA phonemes of ``text`` (see :func:`espeak_phonemes`)."""
        return espeak_phonemes(text, voice=voice)


def espeak_phonemes_batch(texts: Sequence[str], *, voice: str = "en-us") -> list[str]:
    """:func:`espeak_phonemes` of several texts in one eSpeak NG session (one string each)."""
    if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
        raise ParameterError(f"texts={texts!r} must be a list of strings")
    voice = check_voice(voice)
    with _session() as engine:
        engine.set_voice(voice)
        return [" ".join(engine.phonemes(text)) for text in texts]


def espeak_phonemes(text: str, *, voice: str = "en-us") -> str:
    """IPA transcription of ``text`` by eSpeak NG, clause by clause.

    Stress marks (ˈ ˌ) and length marks (ː) are kept; words are separated by single spaces and
    clauses (split by eSpeak at punctuation) are joined with a single space, so punctuation
    itself does not appear. Numbers are expanded ("42" → "fˈɔːɹɾi tˈuː").

    Args:
        text: UTF-8 text.
        voice: the language voice whose rules are used (a variant does not change phonemes).

    Returns:
        The IPA string, e.g. ``"həlˈoʊ wˈɜːld"`` for ``"Hello world"``.

    References:
        eSpeak NG ``espeak_TextToPhonemes(textptr, espeakCHARS_UTF8, phonememode=0x02)``.
    """
    if not isinstance(text, str):
        raise ParameterError(f"text={text!r} must be a string")
    return espeak_phonemes_batch([text], voice=voice)[0]
