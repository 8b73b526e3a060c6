"""Module twins of the sound functions: settings and buffers in, one functional call out.

Windows and mel filterbanks are registered as non-persistent buffers (they follow
``.to(device, dtype)`` but are not saved in state dicts: they are rebuilt from the settings).

References:
    torchaudio.transforms (Spectrogram, MelSpectrogram, MFCC, GriffinLim, InverseMelScale,
    MuLawEncoding, AmplitudeToDB); librosa 0.11 for the numerics (see synesthesia.functional).
"""

from __future__ import annotations

import torch
from torch import nn

from synesthesia import functional as AF
from synesthesia.config import AudioConfig
from synesthesia.errors import ParameterError
from synesthesia.functional.spectral import resolve_lengths

#: the AudioConfig fields each family of transforms takes (``from_config``)
_STFT_FIELDS = ("n_fft", "hop_length", "win_length", "window", "center", "pad_mode")
_MEL_FIELDS = ("sample_rate", "f_min", "f_max", "mel_scale", "norm")  # the filterbank


def _config_fields(config: AudioConfig, names: tuple[str, ...], overrides: dict) -> dict:
    """``{name: config.name}`` for ``names``, then ``overrides`` (a transform's ``from_config``)."""
    if not isinstance(config, AudioConfig):
        raise ParameterError(f"config={config!r} must be an AudioConfig")
    return {**{name: getattr(config, name) for name in names}, **overrides}


__all__ = [
    "Spectrogram",
    "MelSpectrogram",
    "LogMelSpectrogram",
    "MFCC",
    "AmplitudeToDB",
    "GriffinLim",
    "InverseMel",
    "MuLawEncoding",
    "MuLawDecoding",
]


class _Windowed(nn.Module):
    """Shared STFT settings and the window buffer."""

    def __init__(
        self,
        *,
        n_fft: int,
        hop_length: int | None,
        win_length: int | None,
        window: str,
        center: bool,
        pad_mode: str,
    ) -> None:
        super().__init__()
        self.n_fft, self.hop_length, self.win_length = resolve_lengths(
            n_fft, hop_length, win_length
        )
        self.window_name = window
        self.center = center
        self.pad_mode = pad_mode
        if pad_mode not in AF.spectral.PAD_MODES:
            raise ParameterError(f"pad_mode={pad_mode!r} must be one of {AF.spectral.PAD_MODES}")
        self.register_buffer("window", self._make_window(torch.float32, None), persistent=False)

    def _make_window(self, dtype: torch.dtype, device) -> torch.Tensor:
        return AF.get_window(
            self.window_name, self.win_length, n_fft=self.n_fft, dtype=dtype, device=device
        ).clone()

    def _rebuild_buffers(self, dtype: torch.dtype, device) -> None:
        self.window = self._make_window(dtype, device)

    def _apply(self, fn, recurse=True):
        # .to(dtype) would round float32 buffers; rebuild them exactly from the settings
        module = super()._apply(fn, recurse)
        self._rebuild_buffers(self.window.dtype, self.window.device)
        return module

    def _window_for(self, x: torch.Tensor) -> torch.Tensor:
        dtype = x.real.dtype if x.is_complex() else x.dtype
        if self.window.dtype == dtype and self.window.device == x.device:
            return self.window
        return self._make_window(dtype, x.device)

    def _stft_kwargs(self, x: torch.Tensor) -> dict:
        return dict(
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            win_length=self.win_length,
            window=self._window_for(x),
            center=self.center,
            pad_mode=self.pad_mode,
        )

    def extra_repr(self) -> str:
        return (
            f"n_fft={self.n_fft}, hop_length={self.hop_length}, win_length={self.win_length}, "
            f"window={self.window_name!r}, center={self.center}, pad_mode={self.pad_mode!r}"
        )


class Spectrogram(_Windowed):
    """(..., T) waveform -> (..., F, N) ``|STFT|^power``; see ``functional.spectrogram``."""

    def __init__(
        self,
        *,
        n_fft: int = 1024,
        hop_length: int | None = None,
        win_length: int | None = None,
        window: str = "hann",
        center: bool = True,
        pad_mode: str = "reflect",
        power: float = 2.0,
    ) -> None:
        super().__init__(
            n_fft=n_fft,
            hop_length=hop_length,
            win_length=win_length,
            window=window,
            center=center,
            pad_mode=pad_mode,
        )
        self.power = AF.spectral.check_power(power)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return AF.spectrogram(waveform, power=self.power, **self._stft_kwargs(waveform))


class MelSpectrogram(_Windowed):
    """(..., T) waveform -> (..., M, N) mel-spectrogram; see ``functional.mel_spectrogram``.

    The (M, F) filterbank is the buffer ``filterbank``.
    """

    def __init__(
        self,
        *,
        sample_rate: int,
        n_fft: int = 1024,
        hop_length: int | None = None,
        win_length: int | None = None,
        window: str = "hann",
        center: bool = True,
        pad_mode: str = "reflect",
        power: float = 2.0,
        n_mels: int = 128,
        f_min: float = 0.0,
        f_max: float | None = None,
        mel_scale: str = "slaney",
        norm: str | None = "slaney",
    ) -> None:
        super().__init__(
            n_fft=n_fft,
            hop_length=hop_length,
            win_length=win_length,
            window=window,
            center=center,
            pad_mode=pad_mode,
        )
        self.sample_rate = sample_rate
        self.power = AF.spectral.check_power(power)
        self.n_mels, self.f_min, self.f_max = n_mels, f_min, f_max
        self.mel_scale, self.norm = mel_scale, norm
        self.register_buffer(
            "filterbank", self._make_filterbank(torch.float32, None), persistent=False
        )

    def _make_filterbank(self, dtype: torch.dtype, device) -> torch.Tensor:
        return AF.mel_filterbank(
            sample_rate=self.sample_rate,
            n_fft=self.n_fft,
            n_mels=self.n_mels,
            f_min=self.f_min,
            f_max=self.f_max,
            mel_scale=self.mel_scale,
            norm=self.norm,
            dtype=dtype,
            device=device,
        )

    def _rebuild_buffers(self, dtype: torch.dtype, device) -> None:
        super()._rebuild_buffers(dtype, device)
        if hasattr(self, "filterbank"):
            self.filterbank = self._make_filterbank(dtype, device)

    @classmethod
    def from_config(cls, config: AudioConfig, **overrides) -> MelSpectrogram:
        """Build from an :class:`~synesthesia.AudioConfig` (``overrides`` replace fields)."""
        return cls(
            **_config_fields(config, _STFT_FIELDS + _MEL_FIELDS + ("n_mels", "power"), overrides)
        )

    def _mel(self, waveform: torch.Tensor) -> torch.Tensor:
        filterbank = self.filterbank
        if filterbank.dtype != waveform.dtype or filterbank.device != waveform.device:
            # exact filters for this dtype (an upcast float32 buffer would be rounded)
            filterbank = self._make_filterbank(waveform.dtype, waveform.device)
        return AF.mel_spectrogram(
            waveform,
            sample_rate=self.sample_rate,
            power=self.power,
            filterbank=filterbank,
            **self._stft_kwargs(waveform),
        )

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return self._mel(waveform)

    def extra_repr(self) -> str:
        return (
            f"sample_rate={self.sample_rate}, {super().extra_repr()}, power={self.power}, "
            f"n_mels={self.n_mels}, f_min={self.f_min}, f_max={self.f_max}, "
            f"mel_scale={self.mel_scale!r}, norm={self.norm!r}"
        )


class LogMelSpectrogram(MelSpectrogram):
    """(..., T) -> (..., M, N) ``log(max(mel, log_floor))``, the vocoder/TTS representation.

    Build it with :meth:`from_config` so that every model shares one
    :class:`~synesthesia.AudioConfig`; ``self.config`` keeps it (None when built by hand).
    """

    def __init__(self, *, sample_rate: int, log_floor: float = 1e-5, **kwargs) -> None:
        super().__init__(sample_rate=sample_rate, **kwargs)
        if isinstance(log_floor, bool) or not isinstance(log_floor, (int, float)) or log_floor <= 0:
            raise ParameterError(f"log_floor={log_floor!r} must be a positive number")
        self.log_floor = float(log_floor)
        self.config: AudioConfig | None = None

    @classmethod
    def from_config(cls, config: AudioConfig, **overrides) -> LogMelSpectrogram:
        """Build from an :class:`~synesthesia.AudioConfig` (power, log_floor and all)."""
        module = super().from_config(config, log_floor=config.log_floor, **overrides)
        module.config = config if not overrides else None
        return module

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return torch.clamp(self._mel(waveform), min=self.log_floor).log()


class MFCC(MelSpectrogram):
    """(..., T) -> (..., n_mfcc, N) MFCCs; see ``functional.mfcc``."""

    def __init__(
        self,
        *,
        sample_rate: int,
        n_mfcc: int = 20,
        lifter: float = 0.0,
        amin: float = 1e-10,
        top_db: float | None = 80.0,
        **mel_kwargs,
    ) -> None:
        super().__init__(sample_rate=sample_rate, **mel_kwargs)
        self.n_mfcc, self.lifter, self.amin, self.top_db = n_mfcc, lifter, amin, top_db
        self.register_buffer(
            "dct",
            AF.db.dct_matrix(n_mfcc, self.n_mels, dtype=torch.float32).clone(),
            persistent=False,
        )

    def _rebuild_buffers(self, dtype: torch.dtype, device) -> None:
        super()._rebuild_buffers(dtype, device)
        if hasattr(self, "dct"):
            self.dct = AF.db.dct_matrix(self.n_mfcc, self.n_mels, dtype=dtype, device=device)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return AF.mfcc(
            waveform,
            sample_rate=self.sample_rate,
            n_mfcc=self.n_mfcc,
            lifter=self.lifter,
            amin=self.amin,
            top_db=self.top_db,
            power=self.power,
            n_mels=self.n_mels,
            f_min=self.f_min,
            f_max=self.f_max,
            mel_scale=self.mel_scale,
            norm=self.norm,
            **self._stft_kwargs(waveform),
        )


class AmplitudeToDB(nn.Module):
    """Magnitude or power -> dB; see ``functional.amplitude_to_db``.

    Args:
        stype: "magnitude" (20 log10) or "power" (10 log10).
        ref, amin, top_db: as in the functions (amin defaults to 1e-5 / 1e-10).
    """

    def __init__(
        self,
        *,
        stype: str = "magnitude",
        ref: float | str = 1.0,
        amin: float | None = None,
        top_db: float | None = 80.0,
    ) -> None:
        super().__init__()
        if stype not in ("magnitude", "power"):
            raise ParameterError(f"stype={stype!r} must be 'magnitude' or 'power'")
        self.stype, self.ref, self.top_db = stype, ref, top_db
        self.amin = (1e-5 if stype == "magnitude" else 1e-10) if amin is None else amin

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fn = AF.amplitude_to_db if self.stype == "magnitude" else AF.power_to_db
        return fn(x, ref=self.ref, amin=self.amin, top_db=self.top_db)


class GriffinLim(_Windowed):
    """(..., F, N) magnitude -> (..., T) waveform; see ``functional.griffin_lim``."""

    def __init__(
        self,
        *,
        n_fft: int = 1024,
        hop_length: int | None = None,
        win_length: int | None = None,
        window: str = "hann",
        center: bool = True,
        pad_mode: str = "reflect",
        n_iter: int = 32,
        momentum: float = 0.99,
        init: str = "random",
        seed: int | None = None,
    ) -> None:
        super().__init__(
            n_fft=n_fft,
            hop_length=hop_length,
            win_length=win_length,
            window=window,
            center=center,
            pad_mode=pad_mode,
        )
        self.n_iter, self.momentum, self.init, self.seed = n_iter, momentum, init, seed

    @classmethod
    def from_config(cls, config: AudioConfig, **overrides) -> GriffinLim:
        """The STFT of an :class:`~synesthesia.AudioConfig` (``overrides``: ``n_iter``,
        ``momentum``, ``init``, ``seed`` or a replaced field)."""
        return cls(**_config_fields(config, _STFT_FIELDS, overrides))

    def forward(self, magnitude: torch.Tensor, *, length: int | None = None) -> torch.Tensor:
        return AF.griffin_lim(
            magnitude,
            n_iter=self.n_iter,
            momentum=self.momentum,
            init=self.init,
            seed=self.seed,
            length=length,
            **self._stft_kwargs(magnitude),
        )


class InverseMel(nn.Module):
    """(..., M, N) mel -> (..., F, N) magnitude; see ``functional.inverse_mel``."""

    def __init__(
        self,
        *,
        sample_rate: int,
        n_fft: int,
        f_min: float = 0.0,
        f_max: float | None = None,
        mel_scale: str = "slaney",
        norm: str | None = "slaney",
        power: float = 2.0,
        n_iter: int = 100,
    ) -> None:
        super().__init__()
        self.kwargs = dict(
            sample_rate=sample_rate,
            n_fft=n_fft,
            f_min=f_min,
            f_max=f_max,
            mel_scale=mel_scale,
            norm=norm,
            power=power,
            n_iter=n_iter,
        )

    @classmethod
    def from_config(cls, config: AudioConfig, **overrides) -> InverseMel:
        """The mel filterbank and power of an :class:`~synesthesia.AudioConfig` (``overrides``:
        ``n_iter`` or a replaced field)."""
        return cls(**_config_fields(config, _MEL_FIELDS + ("n_fft", "power"), overrides))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return AF.inverse_mel(mel, **self.kwargs)


class MuLawEncoding(nn.Module):
    """Waveform in [-1, 1] -> classes in [0, Q - 1]; see ``functional.mu_law_encode``."""

    def __init__(self, *, quantization_channels: int = 256) -> None:
        super().__init__()
        self.quantization_channels = quantization_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return AF.mu_law_encode(x, quantization_channels=self.quantization_channels)


class MuLawDecoding(nn.Module):
    """Classes -> waveform in [-1, 1]; see ``functional.mu_law_decode``."""

    def __init__(self, *, quantization_channels: int = 256) -> None:
        super().__init__()
        self.quantization_channels = quantization_channels

    def forward(self, q: torch.Tensor) -> torch.Tensor:
        return AF.mu_law_decode(q, quantization_channels=self.quantization_channels)
