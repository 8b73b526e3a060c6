"""Spoken ↔ handwritten digits: a built-in audio–image pairing for joint embeddings.

Audio: eSpeak NG voices (:class:`synesthesia.io.espeak.EspeakSynthesizer`) saying the digit
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from synesthesia.config import AudioConfig, FeatureStandardization
from synesthesia.errors import ParameterError
from synesthesia.utils import atomic_path

__all__ = [
    "DIGIT_NAMES",
    "TEST_VOICES",
    "TRAIN_VOICES",
    "FESTIVAL_SPEAKERS",
    "FLITE_SPEAKERS",
    "PIPER_SPEAKERS",
    "SpokenDigits",
    "default_cache_dir",
    "digit_audio_config",
    "log_mel_features",
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
        config = digit_audio_config(
            sample_rate=self.sample_rate, n_mels=n_mels, n_fft=n_fft, hop_length=hop_length,
            log_floor=floor,
        )  # fmt: skip
        frames = config.num_frames(self.waveform.shape[-1])
        return log_mel_features(
            self.waveform,
            self.waveform_lengths,
            audio_config=config,
            standardization=FeatureStandardization(num_frames=frames),
        )

    def sample_image_indices(self, labels: Tensor, *, generator: torch.Generator) -> Tensor:
        """For each digit in ``labels`` (B,), a random image index of that digit (B,)."""
        out = torch.empty(len(labels), dtype=torch.long)
        for digit in labels.unique().tolist():
            pool = torch.nonzero(self.image_labels == digit).squeeze(1)
            where = torch.nonzero(labels == digit).squeeze(1)
            pick = torch.randint(0, len(pool), (len(where),), generator=generator)
            out[where] = pool[pick]
        return out


#: the natural neural voice (Piper en_US-joe-medium)
PIPER_SPEAKERS = ("piper:joe",)
#: CMU Flite voices (Debian package flite)
FLITE_SPEAKERS = ("flite:awb", "flite:kal16", "flite:rms", "flite:slt")
#: Festival voices (Debian packages festival, festvox-kallpc16k, festvox-us-slt-hts)
FESTIVAL_SPEAKERS = ("festival:kal_diphone", "festival:cmu_us_slt_arctic_hts")


def digit_audio_config(
    *, sample_rate: int, n_mels: int, n_fft: int, hop_length: int, log_floor: float = 1e-5
) -> AudioConfig:
    """The spoken-digit analysis as an :class:`~synesthesia.AudioConfig`: Slaney mel power
    (``power=2``) over the whole band (``f_max`` = Nyquist), a Hann window of ``n_fft``
    samples, centred frames with zero padding, ``log(max(mel, log_floor))``."""
    return AudioConfig(
        sample_rate=sample_rate,
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=n_fft,
        window="hann",
        center=True,
        pad_mode="constant",
        n_mels=n_mels,
        f_min=0.0,
        f_max=None,
        mel_scale="slaney",
        norm="slaney",
        power=2.0,
        log_floor=log_floor,
    )


def log_mel_features(
    waveform: Tensor,
    waveform_lengths: Tensor,
    *,
    audio_config: AudioConfig,
    standardization: FeatureStandardization,
) -> tuple[Tensor, Tensor]:
    """The spoken-digit model input: clips (B, T) → standardised log-mel (B, M, num_frames).

    The one recipe that training, ``embed evaluate`` and the retrieval pipeline share, the
    analysis given by ``audio_config`` (:func:`digit_audio_config` for the built-in data) and
    the steps by ``standardization``:

    1. ``trim_db``: leading and trailing silence (frames more than ``trim_db`` below the clip's
       loudest, :func:`synesthesia.functional.trim.trim_silence`) is cut, so a recording that
       starts with half a second of room noise is seen like a clip that starts at the word;
    2. log-mel: ``log(max(mel, log_floor))`` of the AudioConfig's mel; frames past a clip's end
       hold ``log(log_floor)``;
    3. ``normalize="utterance"``: each mel band's mean over the clip's own frames is removed
       (cepstral mean normalisation: a fixed channel, microphone or telephone filter and the
       recording level add a constant per band in the log domain); padded frames become 0;
       ``"global"`` leaves the log-mel as is;
    4. cut or pad (with the padding value above) to ``num_frames`` frames, then
       ``(x - mean) / std`` with the training set's statistics.

    Args:
        waveform: padded clips (B, T) at ``audio_config.sample_rate``.
        waveform_lengths: valid samples per clip (B,).
        audio_config: the analysis.
        standardization: trimming, normalisation, frames and scaling.

    Returns:
        ``(mel (B, M, num_frames), mel_lengths (B,))``, ``mel_lengths`` clamped to num_frames.
    """
    from synesthesia.functional.mel import log_mel_spectrogram
    from synesthesia.functional.trim import trim_silence

    if not isinstance(audio_config, AudioConfig):
        raise ParameterError(f"audio_config={audio_config!r} must be an AudioConfig")
    if not isinstance(standardization, FeatureStandardization):
        raise ParameterError(
            f"standardization={standardization!r} must be a FeatureStandardization"
        )
    hop_length, num_frames = audio_config.hop_length, standardization.num_frames
    if standardization.trim_db is not None:
        waveform, waveform_lengths = trim_silence(
            waveform, waveform_lengths, top_db=standardization.trim_db,
            frame_length=audio_config.n_fft, hop_length=max(1, hop_length // 4),
        )  # fmt: skip
    log_mel = log_mel_spectrogram(
        waveform, log_floor=audio_config.log_floor, **audio_config.mel_kwargs()
    )
    lengths = (1 + waveform_lengths.to(torch.long) // hop_length).clamp(max=log_mel.shape[-1])
    valid = torch.arange(log_mel.shape[-1]) < lengths.unsqueeze(1)  # True = inside clip
    pad_value = float(np.log(audio_config.log_floor))
    if standardization.normalize == "utterance":
        weights = valid.unsqueeze(1).to(log_mel.dtype)
        band_mean = (log_mel * weights).sum(-1, keepdim=True) / lengths.clamp(min=1)[
            :, None, None
        ].to(log_mel.dtype)
        log_mel = log_mel - band_mean
        pad_value = 0.0
    log_mel = log_mel.masked_fill(~valid.unsqueeze(1), pad_value)
    if log_mel.shape[-1] >= num_frames:
        log_mel = log_mel[..., :num_frames]
    else:
        log_mel = torch.nn.functional.pad(
            log_mel, (0, num_frames - log_mel.shape[-1]), value=pad_value
        )
    mean, std = standardization.mean, standardization.std
    return ((log_mel - mean) / std).contiguous(), lengths.clamp(min=1, max=num_frames)


def _split_images(split: str) -> tuple[Tensor, Tensor]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = np.random.default_rng(_SPLIT_SEED).permutation(len(digits.target))
    cut = int(round(_TRAIN_SHARE * len(order)))
    chosen = np.sort(order[:cut] if split == "train" else order[cut:])
    images = torch.from_numpy(digits.images[chosen].astype(np.float32) / 16.0).unsqueeze(1)
    return images, torch.from_numpy(digits.target[chosen].astype(np.int64))


def _engine_of(speaker: str) -> str:
    from synesthesia.data.engines import parse_speaker

    return parse_speaker(speaker)[0]


def _variations_of(variations: int | Mapping[str, int], speaker: str) -> int:
    if isinstance(variations, Mapping):
        return int(variations.get(_engine_of(speaker), variations.get("default", 3)))
    return int(variations)


def _synthesize(
    voices: Sequence[str], variations: int | Mapping[str, int], sample_rate: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Clips of every speaker saying every digit ``variations`` times, resampled.

    eSpeak voices (bare names or ``espeak:``) draw a rate and a pitch from :data:`_RATES` and
    :data:`_PITCHES`, as before engines existed (same clips, same cache); other engines draw a
    speed factor in [0.8, 1.25], a pitch factor in [0.85, 1.2] and their own variation knobs
    (Piper's noise scales) from a generator seeded by ``seed`` and the speaker's name.
    """
    from tqdm.auto import tqdm

    from synesthesia.data.engines import get_engine, parse_speaker

    rng = np.random.default_rng(seed)
    clips, labels, names = [], [], []
    for voice in tqdm(voices, desc="spoken digits", unit="voice", disable=None, leave=False):
        engine_name, voice_name = parse_speaker(voice)
        engine = get_engine(engine_name)
        count = _variations_of(variations, voice)
        if engine_name != "espeak":
            key = int.from_bytes(hashlib.sha256(voice.encode()).digest()[:4], "little")
            speaker_rng = np.random.default_rng([seed, key])
        for digit, word in enumerate(DIGIT_NAMES):
            for _ in range(count):
                if engine_name == "espeak":
                    rate, pitch = int(rng.choice(_RATES)), int(rng.choice(_PITCHES))
                    waveform, rate_hz = _ESPEAK.synthesize(
                        word, voice=voice_name, rate=rate, pitch=pitch
                    )
                    clip = waveform.numpy().astype(np.float64)
                else:
                    speed = float(speaker_rng.uniform(0.8, 1.25))
                    factor = float(np.exp(speaker_rng.uniform(np.log(0.85), np.log(1.2))))
                    audio, rate_hz = engine.synthesize(
                        word, voice=voice_name, speed=speed, pitch=factor, rng=speaker_rng,
                        vary=True,
                    )  # fmt: skip
                    clip = audio.astype(np.float64)
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


class _LazyEspeak:
    def synthesize(self, text: str, **kwargs):
        from synesthesia.io.espeak import EspeakSynthesizer

        return EspeakSynthesizer().synthesize(text, **kwargs)


_ESPEAK = _LazyEspeak()


def make_spoken_digits(
    split: str = "train",
    *,
    voices: Sequence[str] | None = None,
    variations: int | Mapping[str, int] = 3,
    sample_rate: int = 16000,
    seed: int = 0,
    cache_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
) -> SpokenDigits:
    """Build (or load from the cache) one split of spoken ↔ handwritten digits.

    Args:
        split: "train" (:data:`TRAIN_VOICES`, 80 % of the scans) or "test"
            (:data:`TEST_VOICES`, the other 20 %).
        voices: override the split's speakers: eSpeak NG names such as "en-us+f3", or
            ``engine:voice`` names of any engine in :mod:`synesthesia.data.engines`
            ("piper:joe", "flite:slt", "festival:kal_diphone").
        variations: clips per (speaker, digit), each at a random rate and pitch; an int, or
            a mapping from engine name (and optionally "default") to a count, e.g.
            ``{"espeak": 3, "piper": 40}``.
        sample_rate: output rate of the clips (eSpeak speaks at 22050 Hz; resampled by soxr).
        seed: seeds the rate/pitch draws.
        cache_dir: folder for the ``.npz`` cache (``None``: :func:`default_cache_dir`).
        use_cache: read/write the cache (False: always synthesise, write nothing).

    Returns:
        A :class:`SpokenDigits` with K = Σ over speakers of 10 × variations clips.
    """
    if split not in ("train", "test"):
        raise ParameterError(f"split={split!r} must be 'train' or 'test'")
    counts = list(variations.values()) if isinstance(variations, Mapping) else [variations]
    if not counts or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in counts):
        raise ParameterError(
            f"variations={variations!r} must be a positive integer or a mapping from engine "
            "name to positive integers"
        )
    if isinstance(variations, Mapping):
        variations = dict(sorted(variations.items()))
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate < 4000:
        raise ParameterError(f"sample_rate={sample_rate!r} must be an integer >= 4000")
    voices = tuple(TRAIN_VOICES if split == "train" else TEST_VOICES) if voices is None else voices
    voices = tuple(voices)
    if not voices or not all(isinstance(v, str) and v for v in voices):
        raise ParameterError(f"voices={voices!r} must be a non-empty sequence of voice names")
    for voice in voices:
        _engine_of(voice)  # unknown engines fail before any synthesis
    images, image_labels = _split_images(split)
    key = json.dumps([_FORMAT_VERSION, voices, variations, sample_rate, seed])
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    folder = Path(cache_dir or default_cache_dir())
    if use_cache and os.path.lexists(folder) and not folder.is_dir():
        # checked before minutes of synthesis, not when the cache is written after them
        raise ParameterError(f"cache_dir={str(folder)!r} is a file, not a folder")
    path = folder / f"spoken_digits_{digest}.npz"
    arrays = None
    if use_cache and path.is_file():
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in ("waveform", "lengths", "labels", "voices")}
            logger.info("spoken digits: loaded %s", path)
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("spoken digits: ignoring unreadable cache %s (%s)", path, exc)
    if arrays is None:
        total = sum(10 * _variations_of(variations, v) for v in voices)
        logger.info("spoken digits: synthesising %d clips", total)
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
