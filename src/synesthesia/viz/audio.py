"""Figures of sound: waveform, power spectrum, spectrogram and mel-spectrogram in one figure.

References:
    librosa.display.waveshow / specshow (axes in seconds and Hz, dB colour bars).
"""

from __future__ import annotations

import numpy as np
import torch

import synesthesia.functional as AF
from synesthesia.errors import ParameterError

__all__ = ["plot_representations", "plot_log_mels"]


def _as_mono(waveform: torch.Tensor | np.ndarray) -> torch.Tensor:
    x = waveform if isinstance(waveform, torch.Tensor) else torch.as_tensor(np.asarray(waveform))
    x = x.detach().cpu()
    if not x.is_floating_point():
        raise ParameterError(f"waveform with dtype {x.dtype} must be floating point")
    if x.dim() == 2:
        x = x.mean(dim=0)
    if x.dim() != 1:
        raise ParameterError(f"waveform with shape {tuple(x.shape)} must be (T,) or (C, T)")
    return x.to(torch.float64)


def plot_representations(
    waveform: torch.Tensor | np.ndarray,
    sample_rate: int,
    *,
    n_fft: int = 1024,
    hop_length: int = 256,
    n_mels: int = 80,
    f_max: float | None = None,
    top_db: float = 80.0,
    title: str | None = None,
):
    """One figure with the waveform, its power spectrum, spectrogram and mel-spectrogram.

    Args:
        waveform: (T,) or (C, T) samples (channels are averaged).
        sample_rate: rate in Hz.
        n_fft: FFT size of the spectrograms.
        hop_length: hop of the spectrograms.
        n_mels: mel bands.
        f_max: top of the mel filterbank in Hz (default Nyquist).
        top_db: dynamic range shown (dB below each panel's peak).
        title: figure title.

    Returns:
        A ``matplotlib.figure.Figure`` (not attached to pyplot; save it or pass it to
        :meth:`~synesthesia.viz.Report.figure`).
    """
    from matplotlib.figure import Figure

    x = _as_mono(waveform)
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0:
        raise ParameterError(f"sample_rate={sample_rate!r} must be a positive integer")
    if x.numel() <= n_fft // 2:
        raise ParameterError(
            f"waveform with {x.numel()} samples is too short for n_fft={n_fft} (needs > "
            f"{n_fft // 2})"
        )
    spec_kw = dict(
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=n_fft,
        window="hann",
        center=True,
        pad_mode="reflect",
    )
    power = AF.spectrogram(x, power=2.0, **spec_kw)
    mel = AF.mel_spectrogram(
        x,
        sample_rate=sample_rate,
        power=2.0,
        n_mels=n_mels,
        f_min=0.0,
        f_max=f_max,
        mel_scale="slaney",
        norm="slaney",
        **spec_kw,
    )
    whole = AF.power_spectrum(x, window="hann")
    db_kw = dict(ref="max", amin=1e-10, top_db=top_db)
    power_db = AF.power_to_db(power, **db_kw).numpy()
    mel_db = AF.power_to_db(mel, **db_kw).numpy()
    whole_db = AF.power_to_db(whole, **db_kw).numpy()

    fig = Figure(figsize=(11, 8), layout="constrained")
    axes = fig.subplots(2, 2)
    seconds = np.arange(x.numel()) / sample_rate
    ax = axes[0, 0]
    ax.plot(seconds, x.numpy(), linewidth=0.5)
    ax.set(title="Waveform", xlabel="time (s)", ylabel="amplitude", xlim=(0, seconds[-1]))

    ax = axes[0, 1]
    freqs = np.arange(whole_db.shape[-1]) * sample_rate / x.numel()
    ax.plot(freqs, whole_db, linewidth=0.6)
    ax.set(
        title="Power spectrum (whole signal, Hann)",
        xlabel="frequency (Hz)",
        ylabel="power (dB re. peak)",
        xlim=(0, sample_rate / 2),
    )

    frame_times = np.arange(power_db.shape[-1] + 1) * hop_length / sample_rate
    ax = axes[1, 0]
    bin_edges = (np.arange(power_db.shape[0] + 1) - 0.5) * sample_rate / n_fft
    image = ax.pcolormesh(frame_times, bin_edges.clip(0), power_db, shading="flat", cmap="magma")
    ax.set(
        title=f"Spectrogram (n_fft={n_fft}, hop={hop_length})",
        xlabel="time (s)",
        ylabel="frequency (Hz)",
    )
    fig.colorbar(image, ax=ax, format="%+.0f dB")

    ax = axes[1, 1]
    top = sample_rate / 2 if f_max is None else f_max
    band_edges = AF.mel_frequencies(n_mels + 1, f_min=0.0, f_max=top, mel_scale="slaney")
    image = ax.pcolormesh(frame_times, band_edges.numpy(), mel_db, shading="flat", cmap="magma")
    ax.set(
        title=f"Mel-spectrogram ({n_mels} bands, slaney)",
        xlabel="time (s)",
        ylabel="frequency (Hz, mel-spaced bands)",
    )
    fig.colorbar(image, ax=ax, format="%+.0f dB")
    if title:
        fig.suptitle(title)
    return fig


def plot_log_mels(
    log_mels: dict[str, torch.Tensor | np.ndarray],
    *,
    hop_seconds: float,
    dynamic_range: float = 10.0,
    title: str | None = None,
):
    """Log-mel-spectrograms stacked one above the other on one colour scale, to compare.

    Meant for "the same utterance, rendered several ways" (original, Griffin-Lim, a
    vocoder): every panel shares the time axis and the colour limits (the largest value of
    all panels and ``dynamic_range`` below it), so a noise floor or a smeared formant in one
    panel is visible against the others.

    Args:
        log_mels: panel title → (M, N) natural-log mel magnitudes (as
            :class:`~synesthesia.transforms.LogMelSpectrogram` gives); at least one, all with
            the same ``M`` (``N`` may differ).
        hop_seconds: seconds per frame (``hop_length / sample_rate``).
        dynamic_range: natural-log units shown below the overall peak (> 0).
        title: figure title.

    Returns:
        A ``matplotlib.figure.Figure`` (not attached to pyplot).
    """
    from matplotlib.figure import Figure

    if not isinstance(log_mels, dict) or not log_mels:
        raise ParameterError(f"log_mels={log_mels!r} must be a non-empty dict of title → (M, N)")
    if not hop_seconds > 0:
        raise ParameterError(f"hop_seconds={hop_seconds!r} must be positive")
    if not dynamic_range > 0:
        raise ParameterError(f"dynamic_range={dynamic_range!r} must be positive")
    panels: dict[str, np.ndarray] = {}
    for name, mel in log_mels.items():
        array = np.asarray(mel.detach().cpu() if isinstance(mel, torch.Tensor) else mel)
        if array.ndim != 2 or array.shape[1] == 0:
            raise ParameterError(f"log_mels[{name!r}] with shape {array.shape} must be (M, N > 0)")
        if not np.isfinite(array).all():
            raise ParameterError(f"log_mels[{name!r}] has non-finite values")
        panels[name] = array.astype(np.float64)
    bands = {array.shape[0] for array in panels.values()}
    if len(bands) != 1:
        raise ParameterError(f"log_mels have different numbers of mel bands {sorted(bands)}")
    top = max(float(array.max()) for array in panels.values())
    longest = max(array.shape[1] for array in panels.values()) * hop_seconds
    fig = Figure(figsize=(10, 2.2 * len(panels) + 0.4), layout="constrained")
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    image = None
    for ax, (name, array) in zip(axes, panels.items()):
        edges = np.arange(array.shape[1] + 1) * hop_seconds
        image = ax.pcolormesh(
            edges,
            np.arange(array.shape[0] + 1),
            array,
            shading="flat",
            cmap="magma",
            vmin=top - dynamic_range,
            vmax=top,
        )
        ax.set(title=name, ylabel="mel band", xlim=(0, longest))
    axes[-1].set_xlabel("time (s)")
    fig.colorbar(image, ax=list(axes), label="ln mel magnitude")
    if title:
        fig.suptitle(title)
    return fig
