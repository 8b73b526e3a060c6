"""Vocoder inference: log-mel analysis, Griffin-Lim baseline, WaveNet synthesis (no Lightning).

The mel representation every vocoder here consumes is the natural-log mel magnitude of
``LogMelSpectrogram.from_config(audio_config)``: ``log(max(mel_filterbank @ |STFT|**power,
log_floor))`` with ``center=True`` frames (frame ``n`` centred on sample ``n * hop_length``),
shape (M, N) for one utterance with ``N = 1 + T // hop_length``. A mel saved to ``.npy`` by
:func:`save_mel` carries its AudioConfig in a sidecar ``.json`` of the same stem so a vocoder
can refuse a mel made with another analysis.

References:
    Griffin & Lim, "Signal estimation from modified short-time Fourier transform", 1984;
    librosa.feature.inverse.mel_to_audio (NNLS inverse mel + Griffin-Lim);
    van den Oord et al., "WaveNet", 2016.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from synesthesia.config import AudioConfig
from synesthesia.errors import ParameterError

__all__ = [
    "log_mel",
    "griffin_lim_from_log_mel",
    "save_mel",
    "load_mel",
    "load_vocoder",
    "save_vocoder",
    "write_vocoder_extras",
    "AUDIO_CONFIG_NAME",
]

AUDIO_CONFIG_NAME = "audio_config.json"


def log_mel(waveform: torch.Tensor, audio_config: AudioConfig) -> torch.Tensor:
    """(..., T) waveform at ``audio_config.sample_rate`` → (..., M, N) log-mel."""
    from synesthesia.transforms import LogMelSpectrogram

    if not isinstance(waveform, torch.Tensor) or waveform.shape[-1] == 0:
        raise ParameterError("waveform must be a non-empty tensor (..., T)")
    with torch.no_grad():
        return LogMelSpectrogram.from_config(audio_config).to(waveform.dtype)(waveform)


def griffin_lim_from_log_mel(
    mel: torch.Tensor,
    audio_config: AudioConfig,
    *,
    n_iter: int = 64,
    momentum: float = 0.99,
    seed: int = 0,
    length: int | None = None,
) -> torch.Tensor:
    """Griffin-Lim waveform from a log-mel (the model-free baseline).

    ``exp`` undoes the log, :func:`synesthesia.functional.inverse_mel` (NNLS) estimates the
    linear magnitude, :func:`synesthesia.functional.griffin_lim` its phase.

    Args:
        mel: (..., M, N) log-mel made with ``audio_config``.
        audio_config: the analysis.
        n_iter: Griffin-Lim iterations.
        momentum: fast Griffin-Lim momentum.
        seed: seed of the random initial phase.
        length: samples to return (default ``(N - 1) * hop_length``, the length whose
            centred analysis has exactly ``N`` frames).

    Returns:
        (..., T) waveform.
    """
    from synesthesia.transforms import GriffinLim, InverseMel

    magnitude = InverseMel.from_config(audio_config)(mel.exp())
    griffin_lim = GriffinLim.from_config(audio_config, n_iter=n_iter, momentum=momentum,
                                         init="random", seed=seed)  # fmt: skip
    if length is None:
        length = (mel.shape[-1] - 1) * audio_config.hop_length
    return griffin_lim(magnitude, length=length)


def _sidecar(path: Path) -> Path:
    return path.with_suffix(".json")


def save_mel(path: str | os.PathLike, mel: torch.Tensor, audio_config: AudioConfig) -> Path:
    """Write a (M, N) log-mel as float32 ``.npy`` and its AudioConfig as ``<stem>.json``."""
    from synesthesia.utils import atomic_path

    path = Path(path)
    if path.suffix != ".npy":
        raise ParameterError(f"output={str(path)!r} must end in .npy")
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.save(handle, mel.detach().cpu().numpy().astype(np.float32))
    audio_config.to_json(_sidecar(path))
    return path


def load_mel(path: str | os.PathLike) -> tuple[torch.Tensor, AudioConfig | None]:
    """Read a (M, N) log-mel ``.npy`` (no pickles) and its sidecar AudioConfig when present."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"mel={str(path)!r} does not exist or is not a file")
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise ParameterError(f"mel={str(path)!r} is not a readable .npy array: {exc}") from None
    if array.ndim != 2 or not np.issubdtype(array.dtype, np.floating):
        raise ParameterError(
            f"mel={str(path)!r} holds a {array.dtype} array of shape {array.shape}; it must be "
            "a float (M, N) log-mel"
        )
    if array.shape[1] == 0:
        raise ParameterError(f"mel={str(path)!r} has shape {array.shape}: zero frames")
    sidecar = _sidecar(path)
    config = AudioConfig.from_json(sidecar) if sidecar.is_file() else None
    return torch.from_numpy(array.astype(np.float32)), config


def load_vocoder(directory: str | os.PathLike):
    """Load a WaveNet model folder; another architecture is a CheckpointError."""
    from synesthesia.models import WaveNet
    from synesthesia.pipelines._folder import load_model_folder

    model = load_model_folder(directory, WaveNet, refusal=" model, not a 'wavenet' vocoder")
    return model.eval()


def write_vocoder_extras(directory: str | os.PathLike, *, audio_config: AudioConfig) -> Path:
    """Write ``audio_config.json`` (for readers that only need the analysis) into a folder."""
    path = Path(directory) / AUDIO_CONFIG_NAME
    audio_config.to_json(path)
    return path


def save_vocoder(model, directory: str | os.PathLike) -> Path:
    """Write the vocoder folder :func:`load_vocoder` reads (model + ``audio_config.json``)."""
    from synesthesia.pipelines._folder import seal_folder

    directory = Path(model.save_pretrained(directory))
    write_vocoder_extras(directory, audio_config=model.audio_config)
    return seal_folder(directory)
