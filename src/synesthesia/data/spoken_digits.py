"""Spoken ↔ handwritten digits: a built-in audio–image pairing for joint embeddings.

Audio: eSpeak NG voices (:class:`synesthesia.data.espeak.EspeakSynthesizer`) saying the digit
words "zero" … "nine" at several speaking rates and pitches, resampled to ``sample_rate``.
Images: scikit-learn's ``load_digits`` (1,797 real 8 × 8 handwritten scans, values 0–16 scaled
to [0, 1]). An audio clip and an image are a positive pair when they show the same digit.

Held-out evaluation: the "test" split uses *voices never heard in training* (:data:`TEST_VOICES`
vs :data:`TRAIN_VOICES`) and *digit scans never seen in training* (a fixed 80/20 permutation of
the 1,797 scans, independent of ``seed``).

Generation takes a few seconds; the result is cached as an ``.npz`` file (no pickle) under
``cache_dir`` (default ``$SYNESTHESIA_CACHE`` or ``~/.cache/synesthesia``).

References:
    Alpaydin & Kaynak, UCI Optical Recognition of Handwritten Digits (scikit-learn
    ``load_digits``); eSpeak NG 1.52; the spoken/written digit pairing follows audio–visual
    correspondence set-ups such as Harwath et al., "Unsupervised Learning of Spoken Language
    with Visual Context", NeurIPS 2016 (retrieval between speech and images).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from synesthesia.errors import ParameterError
from synesthesia.utils import atomic_path

__all__ = [
    "DIGIT_NAMES",
    "TEST_VOICES",
    "TRAIN_VOICES",
    "SpokenDigits",
    "default_cache_dir",
    "make_spoken_digits",
]

logger = logging.getLogger(__name__)

DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_LANGUAGES = ("en-us", "en", "en-029", "en-gb-x-rp", "en-gb-scotland")
_TRAIN_VARIANTS = ("", "+f1", "+f2", "+f3", "+m1", "+m2", "+m3", "+m4", "+m5")
#: 45 training voices: 5 English accents × (plain, f1–f3, m1–m5)
TRAIN_VOICES = tuple(f"{lang}{var}" for lang in _LANGUAGES for var in _TRAIN_VARIANTS)
#: 6 held-out voices: variants never used in training
TEST_VOICES = ("en-us+f4", "en-us+f5", "en-us+m6", "en-us+m7", "en-gb-x-rp+f4", "en+m7")
_RATES = (140, 160, 175, 190, 210)
_PITCHES = (30, 40, 50, 60, 70)
_SPLIT_SEED = 1234  # which scans are train / test; independent of `seed`
_TRAIN_SHARE = 0.8
_FORMAT_VERSION = 2


def default_cache_dir() -> Path:
    """``$SYNESTHESIA_CACHE`` or ``~/.cache/synesthesia``."""
    return Path(os.environ.get("SYNESTHESIA_CACHE", Path.home() / ".cache" / "synesthesia"))


@dataclass
class SpokenDigits:
    """One split of spoken digit clips and handwritten digit images.

    Attributes:
        waveform: padded clips (K, T), float32 in [-1, 1].
        waveform_lengths: valid samples per clip (K,).
        audio_labels: the digit each clip says (K,).
        voices: the voice of each clip (K entries).
        sample_rate: samples per second of ``waveform``.
        images: handwritten digits (I, 1, 8, 8) in [0, 1].
        image_labels: the digit of each image (I,).
        split: "train" or "test".
    """

    waveform: Tensor
    waveform_lengths: Tensor
    audio_labels: Tensor
    voices: list[str]
    sample_rate: int
    images: Tensor
    image_labels: Tensor
    split: str

    def log_mel(
        self, *, n_mels: int = 40, n_fft: int = 512, hop_length: int = 160, floor: float = 1e-5
    ) -> tuple[Tensor, Tensor]:
        """Log-mel spectrograms of the clips: ``log(max(mel, floor))``.

        Args:
            n_mels: M.
            n_fft: FFT size.
            hop_length: samples between frames.
            floor: floor before the natural log.

        Returns:
            ``(mel (K, M, N), mel_lengths (K,))`` with ``N = 1 + T // hop_length`` (centred
            frames) and ``mel_lengths = 1 + waveform_lengths // hop_length``; frames past a
            clip's end are set to ``log(floor)``.
        """
        from synesthesia.functional.mel import mel_spectrogram

        mel = mel_spectrogram(
            self.waveform,
            sample_rate=self.sample_rate,
            n_fft=n_fft,
            hop_length=hop_length,
            win_length=n_fft,
            window="hann",
            center=True,
            pad_mode="constant",
            power=2.0,
            n_mels=n_mels,
            f_min=0.0,
            f_max=self.sample_rate / 2,
            mel_scale="slaney",
            norm="slaney",
        )
        log_mel = mel.clamp(min=floor).log()
        lengths = 1 + self.waveform_lengths // hop_length
        valid = torch.arange(log_mel.shape[-1]) < lengths.unsqueeze(1)  # True = inside clip
        log_mel = log_mel.masked_fill(~valid.unsqueeze(1), float(np.log(floor)))
        return log_mel.contiguous(), lengths

    def sample_image_indices(self, labels: Tensor, *, generator: torch.Generator) -> Tensor:
        """For each digit in ``labels`` (B,), a random image index of that digit (B,)."""
        out = torch.empty(len(labels), dtype=torch.long)
        for digit in labels.unique().tolist():
            pool = torch.nonzero(self.image_labels == digit).squeeze(1)
            where = torch.nonzero(labels == digit).squeeze(1)
            pick = torch.randint(0, len(pool), (len(where),), generator=generator)
            out[where] = pool[pick]
        return out


def _split_images(split: str) -> tuple[Tensor, Tensor]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = np.random.default_rng(_SPLIT_SEED).permutation(len(digits.target))
    cut = int(round(_TRAIN_SHARE * len(order)))
    chosen = np.sort(order[:cut] if split == "train" else order[cut:])
    images = torch.from_numpy(digits.images[chosen].astype(np.float32) / 16.0).unsqueeze(1)
    return images, torch.from_numpy(digits.target[chosen].astype(np.int64))


def _synthesize(
    voices: Sequence[str], variations: int, sample_rate: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    from tqdm.auto import tqdm

    from synesthesia.data.espeak import EspeakSynthesizer

    synth = EspeakSynthesizer()
    rng = np.random.default_rng(seed)
    clips, labels, names = [], [], []
    for voice in tqdm(voices, desc="spoken digits", unit="voice", disable=None, leave=False):
        for digit, word in enumerate(DIGIT_NAMES):
            for _ in range(variations):
                rate, pitch = int(rng.choice(_RATES)), int(rng.choice(_PITCHES))
                waveform, rate_hz = synth.synthesize(word, voice=voice, rate=rate, pitch=pitch)
                clip = waveform.numpy().astype(np.float64)
                if rate_hz != sample_rate:
                    import soxr

                    clip = soxr.resample(clip, rate_hz, sample_rate)
                clips.append(np.clip(clip, -1.0, 1.0).astype(np.float32))
                labels.append(digit)
                names.append(voice)
    lengths = np.array([len(c) for c in clips], dtype=np.int64)
    padded = np.zeros((len(clips), int(lengths.max())), dtype=np.float32)
    for row, clip in enumerate(clips):
        padded[row, : len(clip)] = clip
    return padded, lengths, np.array(labels, dtype=np.int64), names


def make_spoken_digits(
    split: str = "train",
    *,
    voices: Sequence[str] | None = None,
    variations: int = 3,
    sample_rate: int = 16000,
    seed: int = 0,
    cache_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
) -> SpokenDigits:
    """Build (or load from the cache) one split of spoken ↔ handwritten digits.

    Args:
        split: "train" (:data:`TRAIN_VOICES`, 80 % of the scans) or "test"
            (:data:`TEST_VOICES`, the other 20 %).
        voices: override the split's voices (eSpeak NG names such as "en-us+f3").
        variations: clips per (voice, digit), each at a random rate and pitch.
        sample_rate: output rate of the clips (eSpeak speaks at 22050 Hz; resampled by soxr).
        seed: seeds the rate/pitch draws.
        cache_dir: folder for the ``.npz`` cache (``None``: :func:`default_cache_dir`).
        use_cache: read/write the cache (False: always synthesise, write nothing).

    Returns:
        A :class:`SpokenDigits` with K = len(voices) × 10 × variations clips.
    """
    if split not in ("train", "test"):
        raise ParameterError(f"split={split!r} must be 'train' or 'test'")
    if isinstance(variations, bool) or not isinstance(variations, int) or variations < 1:
        raise ParameterError(f"variations={variations!r} must be a positive integer")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate < 4000:
        raise ParameterError(f"sample_rate={sample_rate!r} must be an integer >= 4000")
    voices = tuple(TRAIN_VOICES if split == "train" else TEST_VOICES) if voices is None else voices
    voices = tuple(voices)
    if not voices or not all(isinstance(v, str) and v for v in voices):
        raise ParameterError(f"voices={voices!r} must be a non-empty sequence of voice names")
    images, image_labels = _split_images(split)
    key = json.dumps([_FORMAT_VERSION, voices, variations, sample_rate, seed])
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    path = Path(cache_dir or default_cache_dir()) / f"spoken_digits_{digest}.npz"
    arrays = None
    if use_cache and path.is_file():
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in ("waveform", "lengths", "labels", "voices")}
            logger.info("spoken digits: loaded %s", path)
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("spoken digits: ignoring unreadable cache %s (%s)", path, exc)
    if arrays is None:
        logger.info("spoken digits: synthesising %d clips", len(voices) * 10 * variations)
        waveform, lengths, labels, names = _synthesize(voices, variations, sample_rate, seed)
        arrays = {
            "waveform": np.round(waveform * 32767.0).astype(np.int16),  # half the disk
            "lengths": lengths,
            "labels": labels,
            "voices": np.array(names),
        }
        if use_cache:
            with atomic_path(path) as tmp:
                with open(tmp, "wb") as handle:
                    np.savez(handle, **arrays)
    return SpokenDigits(
        waveform=torch.from_numpy(arrays["waveform"].astype(np.float32) / 32767.0),
        waveform_lengths=torch.from_numpy(arrays["lengths"]),
        audio_labels=torch.from_numpy(arrays["labels"]),
        voices=[str(v) for v in arrays["voices"]],
        sample_rate=sample_rate,
        images=images,
        image_labels=image_labels,
        split=split,
    )
