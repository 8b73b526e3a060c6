"""Foreign inputs for out-of-distribution checks: synthetic music, noise, clicks, speech, photos.

None of these resemble what the shipped models were trained on (synthetic scenes, spoken
digits, handwritten digit strips); ``benchmarks/ood.py`` measures how well each model's OOD
score tells them from held-out in-distribution data. Everything is generated offline and is
deterministic for a seed.

* :func:`synthetic_music` — harmonic notes with attack/decay envelopes: chords, melodies, and
  a melody over a chord, equal-tempered pitches, random timbre (harmonic roll-off);
* :func:`noise_clips` — white or pink (1/f power) noise;
* :func:`click_clips` — trains of short clicks (a camera shutter, a ticking clock);
* :func:`speech_clips` — sentences or words from the speech engines (eSpeak NG, Piper ...);
* :func:`foreign_photos` — scikit-image's sample photographs (dev extra) and noise images.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from synesthesia.errors import ParameterError

__all__ = [
    "NON_DIGIT_WORDS",
    "PHOTO_NAMES",
    "click_clips",
    "foreign_photos",
    "noise_clips",
    "noise_images",
    "speech_clips",
    "synthetic_music",
]

#: scikit-image sample photographs used as foreign images
PHOTO_NAMES = (
    "astronaut",
    "camera",
    "coffee",
    "chelsea",
    "rocket",
    "horse",
    "grass",
    "gravel",
    "brick",
    "moon",
    "page",
    "text",
    "coins",
    "clock",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
    "cat",
)
#: spoken words that are not digits (nor sound like one)
NON_DIGIT_WORDS = (
    "hello",
    "water",
    "yellow",
    "morning",
    "table",
    "window",
    "garden",
    "music",
    "happy",
    "bread",
    "purple",
    "monkey",
    "rocket",
    "pencil",
    "summer",
    "doctor",
)


def _check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ParameterError(f"{name}={value!r} must be a positive integer")


def _note(f0: float, n: int, sample_rate: int, rolloff: float, decay: float) -> np.ndarray:
    t = np.arange(n) / sample_rate
    wave = np.zeros(n)
    for k in range(1, 9):
        if k * f0 >= sample_rate / 2:
            break
        wave += rolloff ** (k - 1) * np.sin(2 * math.pi * k * f0 * t)
    attack = min(n, int(0.01 * sample_rate))
    envelope = np.exp(-t / decay)
    envelope[:attack] *= np.linspace(0.0, 1.0, attack, endpoint=False)
    release = min(n, int(0.02 * sample_rate))
    envelope[n - release :] *= np.linspace(1.0, 0.0, release)
    return wave * envelope


def synthetic_music(
    num_clips: int, *, sample_rate: int, duration: float = 2.0, seed: int = 0
) -> Tensor:
    """Clips (num_clips, T) of synthetic music, T = round(duration · sample_rate), peak 0.5.

    Clip i is a chord sequence (i % 3 == 0), a melody (1) or a melody over a held chord (2);
    notes are equal-tempered (A4 = 440 Hz) harmonic tones with a 10 ms attack and an
    exponential decay.
    """
    _check_count("num_clips", num_clips)
    rng = np.random.default_rng(seed)
    total = int(round(duration * sample_rate))
    clips = np.zeros((num_clips, total))
    for i in range(num_clips):
        rolloff, decay = rng.uniform(0.3, 0.8), rng.uniform(0.2, 1.0)
        root = int(rng.integers(-12, 8))  # semitones from A4
        scale = np.array([0, 2, 4, 5, 7, 9, 11, 12])

        def freq(semitone: int) -> float:
            return 440.0 * 2.0 ** (semitone / 12.0)

        out = clips[i]
        kind = i % 3
        if kind in (0, 2):
            beat = total if kind == 2 else int(rng.uniform(0.4, 0.8) * sample_rate)
            start = 0
            while start < total:
                n = min(beat, total - start)
                degree = int(rng.integers(0, 5))
                for step in (0, 2, 4):  # a triad on the scale degree
                    semitone = root - 12 + scale[(degree + step) % 7] + 12 * ((degree + step) // 7)
                    out[start : start + n] += _note(freq(semitone), n, sample_rate, rolloff, decay)
                start += n
        if kind in (1, 2):
            start = 0
            while start < total:
                n = min(int(rng.choice([0.125, 0.25, 0.5]) * sample_rate), total - start)
                semitone = root + int(scale[rng.integers(0, 8)])
                out[start : start + n] += 1.5 * _note(freq(semitone), n, sample_rate, rolloff, 0.3)
                start += n
        clips[i] = 0.5 * out / max(np.abs(out).max(), 1e-9)
    return torch.from_numpy(clips.astype(np.float32))


def noise_clips(
    num_clips: int, *, sample_rate: int, duration: float = 2.0, kind: str = "white", seed: int = 0
) -> Tensor:
    """White or pink (power ∝ 1/f) noise clips (num_clips, T), RMS drawn in [0.03, 0.3]."""
    _check_count("num_clips", num_clips)
    if kind not in ("white", "pink"):
        raise ParameterError(f"kind={kind!r} must be 'white' or 'pink'")
    rng = np.random.default_rng(seed)
    total = int(round(duration * sample_rate))
    noise = rng.standard_normal((num_clips, total))
    if kind == "pink":
        spectrum = np.fft.rfft(noise, axis=-1)
        f = np.fft.rfftfreq(total)
        f[0] = f[1]
        noise = np.fft.irfft(spectrum / np.sqrt(f), n=total, axis=-1)
    noise /= noise.std(axis=-1, keepdims=True)
    noise *= rng.uniform(0.03, 0.3, size=(num_clips, 1))
    return torch.from_numpy(noise.astype(np.float32))


def click_clips(
    num_clips: int, *, sample_rate: int, duration: float = 2.0, seed: int = 0
) -> Tensor:
    """Trains of short decaying broadband clicks (num_clips, T) over faint noise.

    Each clip has its own click rate (1–12 per second, regular or random) and click length
    (0.5–5 ms), like a shutter or a clock.
    """
    _check_count("num_clips", num_clips)
    rng = np.random.default_rng(seed)
    total = int(round(duration * sample_rate))
    clips = 1e-3 * rng.standard_normal((num_clips, total))
    for i in range(num_clips):
        rate = rng.uniform(1.0, 12.0)
        count = max(1, int(rate * duration))
        if i % 2 == 0:
            starts = (np.arange(count) / rate * sample_rate).astype(int)
        else:
            starts = np.sort(rng.integers(0, total, size=count))
        length = max(2, int(rng.uniform(0.0005, 0.005) * sample_rate))
        click = rng.standard_normal(length) * np.exp(-np.arange(length) / (length / 4))
        for start in starts:
            n = min(length, total - start)
            clips[i, start : start + n] += rng.uniform(0.3, 0.9) * click[:n]
    return torch.from_numpy(clips.astype(np.float32))


def speech_clips(
    texts: Sequence[str], speakers: Sequence[str], *, sample_rate: int
) -> tuple[Tensor, Tensor]:
    """Every text spoken by every speaker, resampled: padded (K, T) and lengths (K,).

    Args:
        texts: what to say.
        speakers: eSpeak NG voice names or ``engine:voice`` names ("piper:joe").
        sample_rate: output rate.
    """
    from synesthesia.data.engines import get_engine, parse_speaker
    from synesthesia.io.audio import resample

    clips = []
    for speaker in speakers:
        engine_name, voice = parse_speaker(speaker)
        engine = get_engine(engine_name)
        for text in texts:
            waveform, rate = engine.synthesize(text, voice=voice)
            wave = torch.as_tensor(np.asarray(waveform, dtype=np.float32))
            if rate != sample_rate:
                wave = resample(wave, orig_sample_rate=rate, target_sample_rate=sample_rate)
            clips.append(wave)
    if not clips:
        raise ParameterError("texts and speakers must each hold at least one entry")
    lengths = torch.tensor([c.shape[-1] for c in clips])
    out = torch.zeros(len(clips), int(lengths.max()))
    for i, c in enumerate(clips):
        out[i, : c.shape[-1]] = c
    return out, lengths


def foreign_photos(names: Sequence[str] = PHOTO_NAMES) -> list[Tensor]:
    """scikit-image sample photographs as RGB tensors (3, H, W) in [0, 1] (needs scikit-image)."""
    import skimage.data

    photos = []
    for name in names:
        array = np.asarray(getattr(skimage.data, name)())
        if array.dtype == np.bool_:
            array = array.astype(np.float64)
        elif array.dtype.kind in "ui":
            array = array.astype(np.float64) / np.iinfo(array.dtype).max
        else:
            low, high = float(array.min()), float(array.max())
            array = (array - low) / max(high - low, 1e-12)
        if array.ndim == 2:
            array = np.stack([array] * 3, axis=-1)
        photos.append(torch.from_numpy(np.ascontiguousarray(array[..., :3])).permute(2, 0, 1))
    return [p.float() for p in photos]


def noise_images(
    num_images: int, *, height: int = 32, width: int = 128, seed: int = 0
) -> list[Tensor]:
    """Noise images (3, H, W) in [0, 1]: uniform, Gaussian blobs, salt-and-pepper, in turn."""
    _check_count("num_images", num_images)
    generator = torch.Generator().manual_seed(seed)
    out = []
    for i in range(num_images):
        if i % 3 == 0:
            image = torch.rand(3, height, width, generator=generator)
        elif i % 3 == 1:
            small = torch.rand(3, max(1, height // 8), max(1, width // 8), generator=generator)
            image = torch.nn.functional.interpolate(
                small[None], size=(height, width), mode="bilinear", align_corners=False
            )[0]
        else:
            image = (
                (torch.rand(1, height, width, generator=generator) > 0.9).float().expand(3, -1, -1)
            )
        out.append(image.clamp(0, 1).contiguous())
    return out
