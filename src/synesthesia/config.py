"""AudioConfig: the one description of how waveforms become mel-spectrograms.

Every model that consumes or produces mel-spectrograms (vocoders, text-to-speech) carries the
AudioConfig it was trained with and refuses mels made with another one. Models that read a
fixed-size, standardised log-mel (the dual encoder of ``embed``) add a
:class:`FeatureStandardization` beside it: how the AudioConfig's log-mel is trimmed,
normalised, cut to a fixed number of frames and scaled.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from synesthesia.errors import ConfigMismatchError, ParameterError
from synesthesia.utils import atomic_write_json, read_json

__all__ = ["AudioConfig", "FeatureStandardization"]

_MEL_SCALES = ("slaney", "htk")
_NORMS = ("slaney", None)
_PAD_MODES = ("constant", "reflect", "replicate", "circular")
_NORMALIZE = ("global", "utterance")


def _from_dict(cls: type, data: dict[str, Any]) -> Any:
    """``cls(**data)`` for a dataclass; unknown keys are an error naming the known ones."""
    name = cls.__name__
    if not isinstance(data, dict):
        raise ParameterError(f"data={data!r} must be a dict of {name} fields")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ParameterError(f"unknown {name} fields {unknown}; known: {sorted(known)}")
    return cls(**data)


@dataclass(frozen=True)
class AudioConfig:
    """Settings of the waveform → (log-)mel-spectrogram analysis.

    Names follow torchaudio/librosa. Frames: ``N = 1 + T // hop_length`` when ``center=True``
    (``1 + (T - 1) // hop_length`` for an odd ``n_fft``).

    Attributes:
        sample_rate: samples per second.
        n_fft: FFT size; ``F = n_fft // 2 + 1`` frequency bins.
        hop_length: samples between frames (may exceed ``win_length``, as in librosa and
            ``functional.stft``; the frames then skip samples).
        win_length: window length (``<= n_fft``); the window is zero-padded to ``n_fft``.
        window: window name ("hann", "hamming", "blackman" or "rectangular"), periodic.
        center: pad the signal by ``n_fft // 2`` on both sides so frame ``n`` is centred on
            sample ``n * hop_length``.
        pad_mode: padding used when ``center=True``.
        n_mels: number of mel bands ``M``.
        f_min: lowest mel filter edge in Hz.
        f_max: highest mel filter edge in Hz (``None`` means ``sample_rate / 2``).
        mel_scale: "slaney" (librosa default) or "htk".
        norm: "slaney" (area-normalised filters) or ``None``.
        power: exponent of the magnitude before the mel projection (1 = magnitude, 2 = power).
        log_floor: floor applied before the natural log of a log-mel (``log(max(mel, floor))``).
    """

    sample_rate: int = 22050
    n_fft: int = 1024
    hop_length: int = 256
    win_length: int = 1024
    window: str = "hann"
    center: bool = True
    pad_mode: str = "reflect"
    n_mels: int = 80
    f_min: float = 0.0
    f_max: float | None = 8000.0
    mel_scale: str = "slaney"
    norm: str | None = "slaney"
    power: float = 1.0
    log_floor: float = 1e-5

    def __post_init__(self) -> None:
        for name in ("sample_rate", "n_fft", "hop_length", "win_length", "n_mels"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ParameterError(f"{name}={value!r} must be a positive integer")
        if self.win_length > self.n_fft:
            raise ParameterError(f"win_length={self.win_length} must be <= n_fft={self.n_fft}")
        nyquist = self.sample_rate / 2
        if not 0 <= self.f_min < nyquist:
            raise ParameterError(f"f_min={self.f_min!r} must be in [0, {nyquist})")
        if self.f_max is not None and not self.f_min < self.f_max <= nyquist:
            raise ParameterError(
                f"f_max={self.f_max!r} must be in (f_min={self.f_min}, Nyquist={nyquist}]"
            )
        if self.mel_scale not in _MEL_SCALES:
            raise ParameterError(f"mel_scale={self.mel_scale!r} must be one of {_MEL_SCALES}")
        if self.norm not in _NORMS:
            raise ParameterError(f"norm={self.norm!r} must be one of {_NORMS}")
        if self.pad_mode not in _PAD_MODES:
            raise ParameterError(f"pad_mode={self.pad_mode!r} must be one of {_PAD_MODES}")
        if not self.power > 0:
            raise ParameterError(f"power={self.power!r} must be positive")
        if not self.log_floor > 0:
            raise ParameterError(f"log_floor={self.log_floor!r} must be positive")

    @property
    def n_freqs(self) -> int:
        """Number of STFT bins ``F = n_fft // 2 + 1``."""
        return self.n_fft // 2 + 1

    @property
    def f_max_hz(self) -> float:
        """``f_max`` with ``None`` resolved to the Nyquist frequency."""
        return self.sample_rate / 2 if self.f_max is None else float(self.f_max)

    def mel_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`synesthesia.functional.mel_spectrogram` for this
        analysis (``f_max`` resolved to Hz); ``log_floor`` is not among them."""
        return {
            "sample_rate": self.sample_rate,
            "n_fft": self.n_fft,
            "hop_length": self.hop_length,
            "win_length": self.win_length,
            "window": self.window,
            "center": self.center,
            "pad_mode": self.pad_mode,
            "power": self.power,
            "n_mels": self.n_mels,
            "f_min": self.f_min,
            "f_max": self.f_max_hz,
            "mel_scale": self.mel_scale,
            "norm": self.norm,
        }

    def num_frames(self, num_samples: int) -> int:
        """Frames ``N`` produced for ``T = num_samples`` samples."""
        if self.center:  # the signal is padded by n_fft // 2 on each side
            padded = num_samples + 2 * (self.n_fft // 2)
            return 1 + (padded - self.n_fft) // self.hop_length
        return max(0, 1 + (num_samples - self.n_fft) // self.hop_length)

    # -- serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict of every field."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AudioConfig:
        """Build from a dict; unknown keys are an error (they usually mean a typo)."""
        return _from_dict(cls, data)

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """Return the JSON text; with ``path``, also write it there atomically."""
        text = json.dumps(self.to_dict(), indent=2, sort_keys=True)
        if path is not None:
            atomic_write_json(Path(path), self.to_dict())
        return text

    @classmethod
    def from_json(cls, path_or_text: str | os.PathLike) -> AudioConfig:
        """Load from a JSON file path or a JSON string."""
        text = str(path_or_text)
        if isinstance(path_or_text, str) and text.lstrip().startswith("{"):
            try:
                return cls.from_dict(json.loads(text))
            except json.JSONDecodeError as exc:
                raise ParameterError(f"invalid AudioConfig JSON: {exc}") from None
        return cls.from_dict(read_json(path_or_text))

    def diff(self, other: AudioConfig) -> dict[str, tuple[Any, Any]]:
        """Fields whose values differ: ``{name: (self_value, other_value)}``."""
        return {
            f.name: (getattr(self, f.name), getattr(other, f.name))
            for f in fields(self)
            if getattr(self, f.name) != getattr(other, f.name)
        }

    def check_compatible(self, other: AudioConfig, *, what: str = "input") -> None:
        """Raise ConfigMismatchError naming every differing field.

        Args:
            other: the configuration the ``what`` was made with.
            what: a short description used in the message ("mel", "vocoder" ...).
        """
        if not isinstance(other, AudioConfig):
            raise ParameterError(f"{what} config={other!r} must be an AudioConfig")
        delta = self.diff(other)
        if delta:
            parts = ", ".join(f"{k}: expected {a!r}, got {b!r}" for k, (a, b) in delta.items())
            raise ConfigMismatchError(f"{what} was made with a different AudioConfig ({parts})")


@dataclass(frozen=True)
class FeatureStandardization:
    """How an :class:`AudioConfig`'s log-mel becomes a fixed-size, standardised model input.

    The steps, in order (:func:`synesthesia.data.spoken_digits.log_mel_features`): trim
    leading and trailing silence more than ``trim_db`` below the clip's loudest frame; the
    log-mel; with ``normalize="utterance"`` remove each band's mean over the clip's own frames;
    cut or pad to ``num_frames``; then ``(x - mean) / std``.

    Attributes:
        num_frames: N, frames of the model input.
        mean: the training set's mean of the (normalised) log-mel.
        std: its standard deviation (> 0).
        trim_db: silence threshold in dB (None: clips are not trimmed).
        normalize: "global" (the log-mel as is) or "utterance" (per-clip band means removed).
    """

    num_frames: int
    mean: float = 0.0
    std: float = 1.0
    trim_db: float | None = None
    normalize: str = "global"

    def __post_init__(self) -> None:
        n = self.num_frames
        if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
            raise ParameterError(f"num_frames={n!r} must be a positive integer")
        for name in ("mean", "std"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ParameterError(f"{name}={value!r} must be a number")
        if not self.std > 0:
            raise ParameterError(f"std={self.std!r} must be positive")
        if self.trim_db is not None and (
            isinstance(self.trim_db, bool)
            or not isinstance(self.trim_db, (int, float))
            or not self.trim_db > 0
        ):
            raise ParameterError(f"trim_db={self.trim_db!r} must be a positive number or None")
        if self.normalize not in _NORMALIZE:
            raise ParameterError(f"normalize={self.normalize!r} must be one of {_NORMALIZE}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict of every field."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureStandardization:
        """Build from a dict; unknown keys are an error (they usually mean a typo)."""
        return _from_dict(cls, data)

    def unscaled(self) -> FeatureStandardization:
        """The same steps without the final scaling (mean 0, std 1): for computing the
        statistics of a training set."""
        return dataclasses.replace(self, mean=0.0, std=1.0)
