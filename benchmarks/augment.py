"""Cost per batch of each augmentation, and librosa / scipy side by side where one exists.

Run:  python benchmarks/augment.py            (5 repeats after a warm-up)
      python benchmarks/augment.py --quick    (3 repeats)

Input: a batch of 64 x 1 s at 16 kHz (float32, deterministic: a chirp, harmonics and a little
noise per item), lengths all 16000; spectrogram ops on its log-mel (64, 80, 101): n_fft 512,
hop 160. One torch thread (numpy's and scipy's FFTs are single-threaded by default).

Table 1 times each module of ``synesthesia.transforms`` (what ``augment:`` in a training
config builds) at p = 1 with its default ranges, plus the embed recipe's whole list
(configs/embed/spoken_digits_no_piper.yaml, with its p's).
Table 2 runs the same work through ours and the reference in one process, on identical
per-item settings: pitch shift (64 different shifts in [-3, 3] semitones, one call per item,
as the module does) against ``librosa.effects.pitch_shift`` (n_fft 512, hop 128 on both sides,
librosa's default soxr_hq resampler); time stretch (rates in [0.8, 1.25]) against
``librosa.effects.time_stretch``; the reverb convolution of the batch with the same 64
synthetic RIRs (rt60 in [0.2, 0.8] s) against ``scipy.signal.fftconvolve(..., axes=-1)``.
ratio = reference time / ours (> 1: ours is faster). Agreement: ``||ours - ref|| / ||ref||`` of
the waveforms and of their STFT magnitudes (n_fft 512, hop 128); the pitch shifts' resamplers
differ (ours: windowed sinc; librosa: soxr), which moves the waveforms by a fraction of a
sample, so for them the magnitude figure is the meaningful one.

Reported: median wall time and median CPU time (``time.process_time``) per batch; CPU time is
less sensitive to other jobs on a shared machine. The load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import numpy as np

SAMPLE_RATE, SECONDS, BATCH = 16000, 1.0, 64
N_FFT, HOP, N_MELS = 512, 160, 80


def make_batch() -> np.ndarray:
    t = np.arange(int(SECONDS * SAMPLE_RATE)) / SAMPLE_RATE
    items = []
    for b in range(BATCH):
        rng = np.random.default_rng(b)
        f0 = 100 + 4 * b
        chirp = 0.3 * np.sin(2 * np.pi * (f0 + 400 * t) * t)
        tone = sum(0.1 / k * np.sin(2 * np.pi * 2 * f0 * k * t) for k in range(1, 6))
        items.append(chirp + tone + 0.01 * rng.standard_normal(t.shape))
    return np.stack(items).astype(np.float32)


def measure(fn: Callable[[], object], repeats: int) -> tuple[float, float, object]:
    """(median wall ms, median CPU ms, last output) after one warm-up call."""
    out = fn()
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return 1e3 * statistics.median(walls), 1e3 * statistics.median(cpus), out


def load() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def module_table(x, lengths, log_mel, frames, repeats: int) -> list[tuple[str, float, float]]:
    import yaml

    from synesthesia.transforms.augment_builder import build_augmentation

    specs = {
        "noise, white (SNR 5-30 dB)": [{"name": "noise", "kind": "white"}],
        "noise, pink": [{"name": "noise", "kind": "pink"}],
        "noise, babble (4 talkers from the batch)": [{"name": "noise", "kind": "babble"}],
        "reverb (RIR synthesis + convolution, rt60 0.2-0.8 s)": [{"name": "reverb"}],
        "telephone (band-pass, 8 kHz, mu/A-law, back to 16 kHz)": [{"name": "telephone"}],
        "speed (factor 0.9-1.1)": [{"name": "speed"}],
        "pitch (+-3 semitones)": [{"name": "pitch"}],
        "vtlp (warp 0.9-1.1)": [{"name": "vtlp"}],
        "time_mask (2 x <= 40 frames)": [{"name": "time_mask"}],
        "freq_mask (2 x <= 15 bins)": [{"name": "freq_mask"}],
        "time_warp (<= 5 frames)": [{"name": "time_warp"}],
    }
    config = os.path.join(
        os.path.dirname(__file__), "..", "configs", "embed", "spoken_digits_no_piper.yaml"
    )
    with open(config) as f:
        recipe = yaml.safe_load(f)["data"]["augment"]
    rows = []
    for name, spec in [*specs.items(), ("embed recipe's list (with its p's)", recipe)]:
        compose = build_augmentation(spec, sample_rate=SAMPLE_RATE, seed=0)
        wave, spec_part = compose.waveform, compose.spectrogram

        def run(wave=wave, spec_part=spec_part):
            out = None
            if len(wave.transforms):
                out = wave(x, lengths)
            if len(spec_part.transforms):
                out = spec_part(log_mel, frames)
            return out

        wall, cpu, _ = measure(run, repeats)
        rows.append((name, wall, cpu))
        print(f"  {name}: {wall:.1f} ms wall, {cpu:.1f} ms CPU", flush=True)
    return rows


def reference_table(x_np: np.ndarray, repeats: int) -> list[tuple]:
    import librosa
    import scipy.signal
    import torch

    import synesthesia.functional as AF

    rng = np.random.default_rng(0)
    shifts = rng.uniform(-3, 3, BATCH).tolist()
    rates = rng.uniform(0.8, 1.25, BATCH).tolist()
    x = torch.from_numpy(x_np)
    rir = AF.synthetic_rir(
        sample_rate=SAMPLE_RATE,
        rt60=torch.from_numpy(rng.uniform(0.2, 0.8, BATCH)),
        direct_to_reverberant_db=torch.from_numpy(rng.uniform(0.0, 10.0, BATCH)),
        generator=torch.Generator().manual_seed(0),
        dtype=torch.float32,
    )  # (B, L): L = 0.8 s at most
    rir_np = rir.numpy()
    hop = N_FFT // 4
    cases = [
        (
            "pitch shift, 64 items",
            lambda: torch.stack(
                [
                    AF.pitch_shift(
                        x[b], sample_rate=SAMPLE_RATE, semitones=s, n_fft=N_FFT, hop_length=hop
                    )
                    for b, s in enumerate(shifts)
                ]
            ),
            "librosa.effects.pitch_shift",
            lambda: np.stack(
                [
                    librosa.effects.pitch_shift(
                        x_np[b], sr=SAMPLE_RATE, n_steps=s, n_fft=N_FFT, hop_length=hop
                    )
                    for b, s in enumerate(shifts)
                ]
            ),
        ),
        (
            "time stretch, 64 items",
            lambda: [
                AF.time_stretch(x[b], rate=r, n_fft=N_FFT, hop_length=hop)
                for b, r in enumerate(rates)
            ],
            "librosa.effects.time_stretch",
            lambda: [
                librosa.effects.time_stretch(x_np[b], rate=r, n_fft=N_FFT, hop_length=hop)
                for b, r in enumerate(rates)
            ],
        ),
        (
            "reverb convolution, same RIRs",
            lambda: AF.reverberate(x, rir),
            "scipy.signal.fftconvolve",
            lambda: scipy.signal.fftconvolve(x_np, rir_np, mode="full", axes=-1)[
                :, : x_np.shape[-1]
            ],
        ),
    ]
    rows = []
    for name, ours, ref_name, ref in cases:
        wall, cpu, out = measure(ours, repeats)
        ref_wall, ref_cpu, ref_out = measure(ref, max(1, repeats // 2 + 1))
        if isinstance(out, list):
            out = np.concatenate([o.numpy() for o in out])
            ref_out = np.concatenate(ref_out)
        out, ref_out = np.asarray(out), np.asarray(ref_out)
        diff = float(np.linalg.norm(out - ref_out) / np.linalg.norm(ref_out))
        spectra = [
            torch.stft(
                torch.from_numpy(np.ascontiguousarray(y)),
                n_fft=N_FFT,
                hop_length=hop,
                window=torch.hann_window(N_FFT),
                return_complex=True,
            ).abs()
            for y in (out, ref_out)
        ]
        diff_mag = float((spectra[0] - spectra[1]).norm() / spectra[1].norm())
        rows.append((name, wall, cpu, ref_name, ref_wall, ref_cpu, diff, diff_mag))
        print(
            f"  {name}: ours {wall:.1f} ms ({cpu:.1f} CPU), {ref_name} {ref_wall:.1f} ms "
            f"({ref_cpu:.1f} CPU), ratio {ref_wall / wall:.2f}x, rel. diff {diff:.2g} "
            f"(|STFT| {diff_mag:.2g})",
            flush=True,
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats instead of 5")
    args = parser.parse_args()
    repeats = 3 if args.quick else 5

    import torch

    import synesthesia.functional as AF

    torch.set_num_threads(1)
    print(
        f"load average before: {load()} ({os.cpu_count()} CPUs); torch {torch.__version__}, "
        f"1 thread; batch {BATCH} x {SECONDS:g} s at {SAMPLE_RATE} Hz"
    )
    x_np = make_batch()
    x = torch.from_numpy(x_np)
    lengths = torch.full((BATCH,), x.shape[-1])
    mel = AF.mel_spectrogram(x, sample_rate=SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS)
    log_mel = AF.power_to_db(mel)
    frames = torch.full((BATCH,), log_mel.shape[-1])
    print("modules (per batch):")
    modules = module_table(x, lengths, log_mel, frames, repeats)
    print("side by side:")
    references = reference_table(x_np, repeats)
    print(f"load average after: {load()}\n")

    print("| augmentation (module, p = 1) | ms / batch (wall) | ms / batch (CPU) |")
    print("|---|---|---|")
    for name, wall, cpu in modules:
        print(f"| {name} | {wall:.1f} | {cpu:.1f} |")
    print(
        "\n| op | ours ms (CPU) | reference | ref. ms (CPU) | ratio (wall) | rel. diff "
        "waveform / abs STFT |"
    )
    print("|---|---|---|---|---|---|")
    for name, wall, cpu, ref_name, ref_wall, ref_cpu, diff, diff_mag in references:
        print(
            f"| {name} | {wall:.1f} ({cpu:.1f}) | `{ref_name}` | {ref_wall:.1f} ({ref_cpu:.1f}) "
            f"| **{ref_wall / wall:.2f}×** | {diff:.2g} / {diff_mag:.2g} |"
        )


if __name__ == "__main__":
    main()
