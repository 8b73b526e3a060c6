"""Synthetic scenes: procedural scene images paired with procedural ambient sounds.

**This data set is synthetic.** No labelled environmental-sound data can be obtained offline,
so every example is generated: a small colour picture of a scene and a short ambient sound of
the same scene class, both drawn with random variation. It exists to exercise the SoundNet
recipe (a visual teacher transfers its knowledge to an audio student through unlabeled
image–audio pairs) end to end on a CPU; results on it say the pipeline works, not how well a
network recognises real scenes.

Classes (:data:`SCENE_CLASSES`) and what is synthesised:

======== ====================================================== =================================
class    image (C=3, H=W=``image_size``)                         sound (mono, ``duration`` s)
======== ====================================================== =================================
rain     dark grey sky and ground, light diagonal streaks        high-band hiss + droplet clicks
wind     pale sky, green ground, bent grass strokes              low-band noise with slow gusts
birds    blue sky, green ground, small dark "v" shapes           frequency-swept chirps
traffic  grey sky, dark road with lane marks, coloured cars      engine hum (harmonics) swelling
water    sky over blue water with lighter wave lines             mid-band noise + rising bubbles
crowd    indoor wall, many small skin-tone heads                 babble: several eSpeak NG voices
======== ====================================================== =================================

Every clip also gets faint broadband noise and a random loudness; colours, counts, positions,
frequencies and rates are drawn per example. The crowd babble mixes random crops of a pool of
sentences spoken by different eSpeak NG voices (:class:`synesthesia.io.espeak.EspeakSynthesizer`).

Splits (a different random stream each): ``teacher_train`` (labelled images for the visual
teacher), ``unlabeled`` (image–sound pairs of the same class, whose labels a student must not
use), ``probe_train`` (a few labelled clips per class for a linear probe) and ``test``.
Generated sets are cached as ``.npz`` (no pickle) under ``cache_dir``.

References:
    Aytar, Vondrick & Torralba, "SoundNet: Learning Sound Representations from Unlabeled
    Video", NeurIPS 2016 (the teacher–student transfer this data set is made to exercise).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from synesthesia.data.spoken_digits import default_cache_dir
from synesthesia.errors import ParameterError
from synesthesia.utils import atomic_path

__all__ = ["SCENE_CLASSES", "SCENE_SPLITS", "SyntheticScenes", "make_synthetic_scenes"]

logger = logging.getLogger(__name__)

SCENE_CLASSES: tuple[str, ...] = ("rain", "wind", "birds", "traffic", "water", "crowd")
#: split name -> default examples per class
SCENE_SPLITS: dict[str, int] = {
    "teacher_train": 100,
    "unlabeled": 200,
    "probe_train": 5,
    "test": 50,
}
_FORMAT_VERSION = 1

_BABBLE_VOICES = ("en-us", "en-us+f3", "en-us+m3", "en-gb-x-rp", "en-us+f1", "en-us+m7")
_BABBLE_TEXT = (
    "did you see the game last night, it went on for hours",
    "we should meet again next week and talk about the plan",
    "the coffee here is better than the place across the street",
    "she told me the train was late again this morning",
    "I think we need more chairs for the people at the back",
)


@dataclass
class SyntheticScenes:
    """One split of synthetic scenes.

    Attributes:
        images: scene pictures (K, 3, H, W) in [0, 1].
        waveform: ambient sounds (K, T), float32.
        labels: class index of each pair (K,); image k and sound k show the same class.
        sample_rate: samples per second of ``waveform``.
        classes: the class names (index → name).
        split: the split's name.
    """

    images: Tensor
    waveform: Tensor
    labels: Tensor
    sample_rate: int
    classes: tuple[str, ...]
    split: str

    def __len__(self) -> int:
        return int(self.labels.shape[0])


# -- images ---------------------------------------------------------------------------------


def _jitter(rng: np.random.Generator, colour: tuple[float, float, float], amount: float = 0.08):
    return np.clip(np.asarray(colour) + rng.uniform(-amount, amount, 3), 0.0, 1.0)


def _line(img: np.ndarray, x0: float, y0: float, x1: float, y1: float, colour, width=1) -> None:
    size = img.shape[1]
    steps = int(max(abs(x1 - x0), abs(y1 - y0)) * 2) + 2
    xs = np.linspace(x0, x1, steps).round().astype(int)
    ys = np.linspace(y0, y1, steps).round().astype(int)
    for dx in range(width):
        keep = (xs + dx >= 0) & (xs + dx < size) & (ys >= 0) & (ys < size)
        img[:, ys[keep], xs[keep] + dx] = np.asarray(colour)[:, None]


def _draw_image(rng: np.random.Generator, label: int, size: int) -> np.ndarray:
    img = np.empty((3, size, size), dtype=np.float64)
    horizon = int(size * rng.uniform(0.45, 0.65))
    name = SCENE_CLASSES[label]
    yy, xx = np.mgrid[0:size, 0:size]
    if name == "rain":
        sky, ground = _jitter(rng, (0.35, 0.37, 0.42)), _jitter(rng, (0.25, 0.27, 0.25))
    elif name == "wind":
        sky, ground = _jitter(rng, (0.78, 0.82, 0.86)), _jitter(rng, (0.45, 0.62, 0.30))
    elif name == "birds":
        sky, ground = _jitter(rng, (0.45, 0.65, 0.92)), _jitter(rng, (0.30, 0.55, 0.25))
    elif name == "traffic":
        sky, ground = _jitter(rng, (0.62, 0.64, 0.68)), _jitter(rng, (0.18, 0.18, 0.20))
    elif name == "water":
        sky, ground = _jitter(rng, (0.60, 0.75, 0.90)), _jitter(rng, (0.10, 0.30, 0.60))
    else:  # crowd: an indoor wall and floor
        sky, ground = _jitter(rng, (0.72, 0.62, 0.48)), _jitter(rng, (0.45, 0.35, 0.28))
        horizon = int(size * rng.uniform(0.7, 0.85))
    img[:] = np.where(yy < horizon, 1.0, 0.0)[None] * sky[:, None, None]
    img += np.where(yy >= horizon, 1.0, 0.0)[None] * ground[:, None, None]
    if name == "rain":
        slope = rng.uniform(0.2, 0.6)
        for _ in range(rng.integers(12, 25)):
            x, y = rng.uniform(-4, size), rng.uniform(-4, size)
            length = rng.uniform(3, 7)
            _line(img, x, y, x + slope * length, y + length, _jitter(rng, (0.70, 0.75, 0.85)))
    elif name == "wind":
        lean = rng.uniform(1.5, 4.0) * rng.choice([-1, 1])
        for _ in range(rng.integers(10, 20)):
            x, top = rng.uniform(0, size), rng.uniform(horizon - 6, horizon + 2)
            _line(img, x, size - 1, x + lean, top, _jitter(rng, (0.25, 0.45, 0.15)))
        for _ in range(rng.integers(2, 5)):  # streaks of blown air
            y, x = rng.uniform(2, horizon - 2), rng.uniform(-5, size - 8)
            _line(img, x, y, x + rng.uniform(6, 14), y, _jitter(rng, (0.93, 0.95, 0.97), 0.04))
    elif name == "birds":
        for _ in range(rng.integers(3, 8)):
            x, y, w = rng.uniform(2, size - 6), rng.uniform(2, horizon - 4), rng.uniform(2, 3.5)
            colour = _jitter(rng, (0.08, 0.08, 0.10), 0.05)
            _line(img, x, y, x + w, y + w * 0.7, colour)
            _line(img, x + w, y + w * 0.7, x + 2 * w, y, colour)
    elif name == "traffic":
        road = rng.uniform(0.3, 0.4) * size
        mid = horizon + (size - horizon) / 2
        for x in range(0, size, 6):
            _line(img, x, mid, x + 3, mid, _jitter(rng, (0.95, 0.90, 0.40), 0.04))
        for _ in range(rng.integers(1, 4)):
            x = int(rng.uniform(-4, size - 6))
            y = int(rng.uniform(horizon, size - 5))
            w, h = int(rng.uniform(6, 10)), int(rng.uniform(3, 5))
            colour = rng.uniform(0.2, 1.0, 3)
            img[:, max(y, 0) : y + h, max(x, 0) : x + w] = colour[:, None, None]
        del road
    elif name == "water":
        for _ in range(rng.integers(5, 10)):
            y0, x0 = rng.uniform(horizon + 1, size - 1), rng.uniform(-4, size - 8)
            length = rng.uniform(6, 14)
            xs = np.linspace(x0, x0 + length, 12)
            ys = y0 + 0.8 * np.sin(np.linspace(0, 2 * np.pi, 12) + rng.uniform(0, 6))
            for a, b, c, d in zip(xs[:-1], ys[:-1], xs[1:], ys[1:]):
                _line(img, a, b, c, d, _jitter(rng, (0.55, 0.75, 0.95), 0.05))
    else:
        for _ in range(rng.integers(10, 20)):
            cx, cy = rng.uniform(0, size), rng.uniform(size * 0.35, size)
            radius = rng.uniform(1.5, 2.8)
            skin = _jitter(
                rng, rng.choice([(0.95, 0.80, 0.65), (0.70, 0.50, 0.35), (0.40, 0.28, 0.20)]), 0.05
            )
            disc = (xx - cx) ** 2 + (yy - cy) ** 2 <= radius**2
            img[:, disc] = skin[:, None]
            body = (np.abs(xx - cx) <= radius * 1.2) & (yy > cy + radius) & (yy < cy + 3 * radius)
            img[:, body] = rng.uniform(0.1, 0.9, 3)[:, None]
    img *= rng.uniform(0.8, 1.15)  # exposure
    img += rng.normal(0.0, 0.03, img.shape)
    return np.clip(img, 0.0, 1.0)


# -- sounds ---------------------------------------------------------------------------------


def _band_noise(rng: np.random.Generator, n: int, low: float, high: float, sample_rate: int):
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / sample_rate)
    spectrum[(freqs < low) | (freqs > high)] = 0.0
    noise = np.fft.irfft(spectrum, n)
    return noise / (noise.std() + 1e-12)


def _envelope(rng: np.random.Generator, n: int, sample_rate: int, rate: float, depth: float):
    t = np.arange(n) / sample_rate
    phase = rng.uniform(0, 2 * np.pi)
    slow = np.sin(2 * np.pi * rate * t + phase) + 0.5 * np.sin(2 * np.pi * 2.3 * rate * t)
    return 1.0 + depth * slow / 1.5


def _tone_burst(n_burst: int, sample_rate: int, f0: float, f1: float, decay: float) -> np.ndarray:
    t = np.arange(n_burst) / sample_rate
    duration = n_burst / sample_rate
    freq = f0 + (f1 - f0) * t / max(duration, 1e-9)
    phase = 2 * np.pi * np.cumsum(freq) / sample_rate
    window = np.exp(-t * decay) * np.minimum(1.0, t * sample_rate / 8.0)
    return np.sin(phase) * window


def _add(out: np.ndarray, burst: np.ndarray, start: int) -> None:
    end = min(len(out), start + len(burst))
    if end > start:
        out[start:end] += burst[: end - start]


def _draw_sound(
    rng: np.random.Generator, label: int, n: int, sample_rate: int, babble: list[np.ndarray]
) -> np.ndarray:
    name = SCENE_CLASSES[label]
    nyquist = sample_rate / 2
    t = np.arange(n) / sample_rate
    out = np.zeros(n)
    if name == "rain":
        out += _band_noise(rng, n, rng.uniform(1000, 2000), nyquist * 0.95, sample_rate)
        for _ in range(rng.integers(30, 90)):
            f = rng.uniform(1200, min(3500, nyquist * 0.9))
            burst = _tone_burst(int(0.006 * sample_rate), sample_rate, f, f * 0.8, 600.0)
            _add(out, rng.uniform(1.0, 3.0) * burst, int(rng.integers(0, n)))
    elif name == "wind":
        noise = _band_noise(rng, n, 30, rng.uniform(300, 600), sample_rate)
        out += noise * _envelope(rng, n, sample_rate, rng.uniform(0.4, 1.5), 0.9)
    elif name == "birds":
        out += 0.15 * _band_noise(rng, n, 200, 2000, sample_rate)
        for _ in range(rng.integers(3, 9)):
            f0 = rng.uniform(1800, min(3500, nyquist * 0.85))
            f1 = f0 + rng.uniform(-900, 600)
            burst = _tone_burst(int(rng.uniform(0.04, 0.12) * sample_rate), sample_rate, f0, f1, 15)
            _add(out, rng.uniform(2.0, 4.0) * burst, int(rng.integers(0, n)))
    elif name == "traffic":
        f0 = rng.uniform(30, 90)
        wobble = 1 + 0.03 * np.sin(2 * np.pi * rng.uniform(0.2, 1.0) * t)
        phase = 2 * np.pi * np.cumsum(f0 * wobble) / sample_rate
        hum = sum(np.sin(k * phase) / k for k in range(1, 12))
        centre, width = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.5)
        swell = 0.3 + np.exp(-(((t / t[-1]) - centre) ** 2) / (2 * width**2))
        out += 2.0 * hum / np.abs(hum).max() * swell
        out += 0.5 * _band_noise(rng, n, 20, 800, sample_rate)
    elif name == "water":
        out += _band_noise(rng, n, 300, 1500, sample_rate) * _envelope(
            rng, n, sample_rate, 3.0, 0.4
        )
        for _ in range(rng.integers(20, 60)):
            f0 = rng.uniform(400, 1200)
            burst = _tone_burst(
                int(rng.uniform(0.01, 0.03) * sample_rate),
                sample_rate,
                f0,
                f0 * rng.uniform(1.5, 2.5),
                120.0,
            )
            _add(out, rng.uniform(1.0, 2.5) * burst, int(rng.integers(0, n)))
    else:  # crowd babble: several voices talking at once
        for _ in range(rng.integers(4, 8)):
            speech = babble[int(rng.integers(0, len(babble)))]
            start = int(rng.integers(0, max(1, len(speech) - n)))
            crop = speech[start : start + n]
            _add(
                out,
                rng.uniform(0.5, 1.0) * crop / (crop.std() + 1e-6),
                int(rng.integers(0, n // 4)),
            )
    out /= out.std() + 1e-12
    out += 0.05 * rng.standard_normal(n)
    gain = rng.uniform(0.05, 0.2)
    return np.clip(out * gain / (out.std() + 1e-12), -1.0, 1.0)


def _babble_pool(sample_rate: int) -> list[np.ndarray]:
    import soxr

    from synesthesia.io.espeak import EspeakSynthesizer

    synth = EspeakSynthesizer()
    pool = []
    for i, voice in enumerate(_BABBLE_VOICES):
        for j, text in enumerate(_BABBLE_TEXT):
            waveform, rate = synth.synthesize(
                text, voice=voice, rate=150 + 10 * ((i + j) % 5), pitch=35 + 6 * ((i * 3 + j) % 5)
            )
            pool.append(soxr.resample(waveform.numpy().astype(np.float64), rate, sample_rate))
    return pool


def make_synthetic_scenes(
    split: str = "test",
    *,
    num_per_class: int | None = None,
    sample_rate: int = 8000,
    duration: float = 1.0,
    image_size: int = 32,
    seed: int = 0,
    cache_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
) -> SyntheticScenes:
    """Build (or load from the cache) one split of synthetic scenes (see the module docstring).

    Args:
        split: one of :data:`SCENE_SPLITS` ("teacher_train", "unlabeled", "probe_train",
            "test"); each split draws from its own random stream.
        num_per_class: examples per class (``None``: the split's default in
            :data:`SCENE_SPLITS`).
        sample_rate: rate of the sounds (at least 8000, so chirps stay below Nyquist).
        duration: seconds per sound.
        image_size: H = W of the pictures (at least 16).
        seed: base seed.
        cache_dir: folder of the ``.npz`` cache (``None``: ``$SYNESTHESIA_CACHE`` or
            ``~/.cache/synesthesia``).
        use_cache: read/write the cache.

    Returns:
        A :class:`SyntheticScenes` with K = len(SCENE_CLASSES) × num_per_class pairs, ordered
        class by class.
    """
    if split not in SCENE_SPLITS:
        raise ParameterError(f"split={split!r} must be one of {list(SCENE_SPLITS)}")
    if num_per_class is None:
        num_per_class = SCENE_SPLITS[split]
    for name, value, low in (
        ("num_per_class", num_per_class, 1),
        ("sample_rate", sample_rate, 8000),
        ("image_size", image_size, 16),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ParameterError(f"{name}={value!r} must be an integer >= {low}")
    if isinstance(duration, bool) or not isinstance(duration, (int, float)) or duration < 0.1:
        raise ParameterError(f"duration={duration!r} must be a number of seconds >= 0.1")
    n = int(round(duration * sample_rate))
    key = json.dumps([_FORMAT_VERSION, split, num_per_class, sample_rate, n, image_size, seed])
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    path = Path(cache_dir or default_cache_dir()) / f"synthetic_scenes_{digest}.npz"
    arrays = None
    if use_cache and path.is_file():
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in ("images", "waveform", "labels")}
            logger.info("synthetic scenes: loaded %s", path)
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("synthetic scenes: ignoring unreadable cache %s (%s)", path, exc)
    if arrays is None:
        split_index = list(SCENE_SPLITS).index(split)
        rng = np.random.default_rng([seed, split_index])
        babble = _babble_pool(sample_rate)
        num_classes = len(SCENE_CLASSES)
        labels = np.repeat(np.arange(num_classes), num_per_class)
        images = np.stack([_draw_image(rng, int(c), image_size) for c in labels])
        sounds = np.stack([_draw_sound(rng, int(c), n, sample_rate, babble) for c in labels])
        arrays = {
            "images": np.round(images * 255).astype(np.uint8),
            "waveform": np.round(sounds * 32767.0).astype(np.int16),
            "labels": labels.astype(np.int64),
        }
        if use_cache:
            with atomic_path(path) as tmp:
                with open(tmp, "wb") as handle:
                    np.savez(handle, **arrays)
    return SyntheticScenes(
        images=torch.from_numpy(arrays["images"].astype(np.float32) / 255.0),
        waveform=torch.from_numpy(arrays["waveform"].astype(np.float32) / 32767.0),
        labels=torch.from_numpy(arrays["labels"]),
        sample_rate=sample_rate,
        classes=SCENE_CLASSES,
        split=split,
    )
