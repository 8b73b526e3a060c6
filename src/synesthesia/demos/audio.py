"""Demo section "Sound representations": a synthesized sound, its representations, and
Griffin-Lim reconstructions you can listen to, with their spectral convergence."""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import torch

from synesthesia.viz.report import Report

log = logging.getLogger(__name__)

SAMPLE_RATE = 22050


def synthesize_sound(*, seconds: float = 2.5, sample_rate: int = SAMPLE_RATE, seed: int = 0):
    """A test sound: a rising chirp, a decaying harmonic tone and a noise burst (T,) float32."""
    generator = torch.Generator().manual_seed(seed)
    t = torch.arange(int(seconds * sample_rate), dtype=torch.float64) / sample_rate
    chirp = 0.25 * torch.sin(2 * math.pi * (200 * t + 900 * t**2 / seconds))
    tone_start = 0.6
    local = (t - tone_start).clamp(min=0)
    envelope = torch.where(t >= tone_start, torch.exp(-2.0 * local), torch.zeros_like(t))
    tone = sum(0.3 / k * torch.sin(2 * math.pi * 330 * k * local) for k in range(1, 7))
    burst = (
        ((t > 1.6) & (t < 1.9)).double()
        * 0.2
        * torch.randn(t.shape, generator=generator, dtype=torch.float64)
    )
    sound = chirp + envelope * tone + burst
    return (0.9 * sound / sound.abs().max()).float()


def run(report: Report, *, workdir: Path, seed: int) -> None:
    import synesthesia.functional as AF
    from synesthesia.io import save_audio
    from synesthesia.viz.audio import plot_representations

    sound = synthesize_sound(seed=seed)
    settings = dict(
        n_fft=1024, hop_length=256, win_length=1024, window="hann", center=True, pad_mode="reflect"
    )
    report.text(
        "A generated sound (a rising chirp, a decaying harmonic tone from 0.6 s and a noise "
        f"burst at 1.6-1.9 s; {sound.numel() / SAMPLE_RATE:.1f} s at {SAMPLE_RATE} Hz) and "
        "its classic representations, computed with synesthesia.functional (stft, "
        "power_spectrum, mel_spectrogram, power_to_db; every one checked against librosa in "
        "the tests)."
    )
    report.figure(
        plot_representations(sound, SAMPLE_RATE, n_fft=1024, hop_length=256, n_mels=80),
        caption="Waveform, power spectrum, spectrogram and 80-band mel-spectrogram (dB re. "
        "peak, 80 dB range).",
    )
    magnitude = AF.spectrogram(sound, power=1.0, **settings)
    report.audio(sound, SAMPLE_RATE, caption="original")
    rows = []
    audio_dir = Path(workdir) / "audio"
    for n_iter, momentum in [(32, 0.0), (32, 0.99)]:
        start = time.perf_counter()
        rebuilt = AF.griffin_lim(
            magnitude,
            n_iter=n_iter,
            momentum=momentum,
            init="random",
            seed=seed,
            length=sound.numel(),
            **settings,
        )
        seconds = time.perf_counter() - start
        convergence = AF.spectral_convergence(
            magnitude, AF.spectrogram(rebuilt, power=1.0, **settings)
        ).item()
        label = f"Griffin-Lim, {n_iter} iterations, momentum {momentum}"
        report.audio(
            rebuilt, SAMPLE_RATE, caption=f"{label}: spectral convergence {convergence:.3f}"
        )
        save_audio(audio_dir / f"griffin_lim_{n_iter}_{momentum}.wav", rebuilt, SAMPLE_RATE)
        rows.append([label, convergence, round(seconds, 2)])
    save_audio(audio_dir / "original.wav", sound, SAMPLE_RATE)
    report.table(rows, header=["reconstruction from |STFT|", "spectral convergence", "time (s)"])
    report.text(
        "Spectral convergence is ||S - S_hat||_F / ||S||_F between the STFT magnitudes of the "
        "original and of the reconstruction (0 is perfect). Momentum 0.99 (fast Griffin-Lim, "
        "Perraudin et al. 2013) converges much faster than plain Griffin-Lim (momentum 0). "
        "The WAV files are in audio/ beside this report.",
        note=True,
    )
    log.info("audio demo: %s", rows)
