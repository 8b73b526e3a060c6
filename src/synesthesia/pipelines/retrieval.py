"""AudioImageRetriever: rank images for a sound (and sounds for an image) with a DualEncoder.

Loads an exported :class:`~synesthesia.models.DualEncoder` folder (``config.json``,
``model.safetensors``, ``audio_config.json``: the analysis as an
:class:`~synesthesia.AudioConfig`, and ``standardization.json``: the
:class:`~synesthesia.config.FeatureStandardization` and the image size, all written by
``synesthesia embed train``) and prepares raw inputs exactly as training did: waveforms
resampled to the training rate → the AudioConfig's log-mel, trimmed and normalised, cut or
padded to ``num_frames`` → standardised; images converted to the model's channels and resized to
the training size when the folder records it. Folders written before the AudioConfig
(``audio_features.json``, one flat record) still load. No Lightning needed.

References:
    Harwath et al., NeurIPS 2016 and Arandjelović & Zisserman, ECCV 2018 (cross-modal
    retrieval by cosine similarity of unit embeddings).
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from synesthesia.config import AudioConfig, FeatureStandardization
from synesthesia.data.spoken_digits import digit_audio_config, log_mel_features
from synesthesia.errors import CheckpointError, ParameterError
from synesthesia.functional._checks import check_min_samples
from synesthesia.functional.image import resize_image
from synesthesia.io.audio import load_audio, resample
from synesthesia.io.image import load_image
from synesthesia.metrics.ood import OODDetector, load_ood_detector
from synesthesia.models.dual_encoder import DualEncoder
from synesthesia.pipelines._folder import load_model_folder, require_file, seal_folder
from synesthesia.utils import atomic_write_json, read_json

__all__ = [
    "AUDIO_CONFIG_NAME",
    "AUDIO_FEATURES_NAME",
    "STANDARDIZATION_NAME",
    "AudioImageRetriever",
    "Ranking",
    "features_from_legacy",
    "list_media",
]

#: the folder's analysis (an AudioConfig, written beside the model)
AUDIO_CONFIG_NAME = "audio_config.json"
#: the folder's FeatureStandardization (``"audio"``) and image size (``"image_size"``)
STANDARDIZATION_NAME = "standardization.json"
#: the one flat record of folders written before the AudioConfig (read, never written)
AUDIO_FEATURES_NAME = "audio_features.json"

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".aiff", ".aif", ".mp3")
_FLOOR = 1e-5
_LEGACY_STEPS = ("num_frames", "mean", "std", "trim_db", "normalize")


def features_from_legacy(
    features: dict,
) -> tuple[AudioConfig, FeatureStandardization, list[int] | None]:
    """``(audio_config, standardization, image_size)`` of an ``audio_features.json`` record
    (sample_rate, n_mels, n_fft, hop_length, num_frames, mean, std; optional trim_db,
    normalize and image_size) — what folders held before the AudioConfig.

    Raises:
        ParameterError: a missing or invalid field.
    """
    if not isinstance(features, dict):
        raise ParameterError(f"features={features!r} must be a dict ({AUDIO_FEATURES_NAME})")
    needed = ("sample_rate", "n_mels", "n_fft", "hop_length", "num_frames", "mean", "std")
    missing = [key for key in needed if key not in features]
    if missing:
        raise ParameterError(f"{AUDIO_FEATURES_NAME} lacks {missing}")
    audio_config = digit_audio_config(
        sample_rate=features["sample_rate"],
        n_mels=features["n_mels"],
        n_fft=features["n_fft"],
        hop_length=features["hop_length"],
        log_floor=_FLOOR,
    )
    steps = {key: features[key] for key in _LEGACY_STEPS if key in features}
    size = features.get("image_size")
    return audio_config, FeatureStandardization(**steps), None if size is None else list(size)


def list_media(directory: str | os.PathLike, kind: str) -> list[Path]:
    """The files of ``directory`` with an image (kind="image") or audio suffix, sorted.

    Hidden files are ignored; other files are skipped with a warning naming them.

    Raises:
        ParameterError: ``directory`` is not a folder, or holds no file of that kind.
    """
    suffixes = IMAGE_SUFFIXES if kind == "image" else AUDIO_SUFFIXES
    folder = Path(directory)
    if not folder.is_dir():
        raise ParameterError(f"{kind} folder={str(folder)!r} does not exist or is not a folder")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    chosen = [p for p in files if p.suffix.lower() in suffixes]
    skipped = [p.name for p in files if p.suffix.lower() not in suffixes]
    if skipped:
        warnings.warn(
            f"skipping {len(skipped)} non-{kind} file(s) in {str(folder)!r}: "
            + ", ".join(skipped[:5])
            + (" ..." if len(skipped) > 5 else ""),
            stacklevel=2,
        )
    if not chosen:
        raise ParameterError(
            f"{kind} folder={str(folder)!r} is empty: no {kind} files ({', '.join(suffixes)})"
        )
    return chosen


@dataclass
class Ranking:
    """One query's ranked gallery: ``names[i]`` has cosine ``scores[i]``, best first."""

    names: list[str]
    scores: list[float]
    indices: list[int]


class AudioImageRetriever:
    """An exported DualEncoder plus its input preparation (see the module docstring).

    Args:
        model: the dual encoder (put in eval mode).
        features: the flat record of an older folder's ``audio_features.json``
            (:func:`features_from_legacy`); exclusive with the three arguments below.
        audio_config: the analysis the model was trained with.
        standardization: trimming, normalisation, frames and the training statistics.
        image_size: [H, W] images are resized to (None: left as they are).
    """

    def __init__(
        self,
        model: DualEncoder,
        features: dict | None = None,
        *,
        audio_config: AudioConfig | None = None,
        standardization: FeatureStandardization | None = None,
        image_size: list[int] | None = None,
    ) -> None:
        if not isinstance(model, DualEncoder):
            raise CheckpointError(f"model is a {type(model).__name__}, not a DualEncoder")
        if features is not None:
            if audio_config is not None or standardization is not None:
                raise ParameterError(
                    "give either features (an audio_features.json record) or "
                    "audio_config and standardization, not both"
                )
            audio_config, standardization, image_size = features_from_legacy(features)
        if not isinstance(audio_config, AudioConfig):
            raise ParameterError(f"audio_config={audio_config!r} must be an AudioConfig")
        if not isinstance(standardization, FeatureStandardization):
            raise ParameterError(
                f"standardization={standardization!r} must be a FeatureStandardization"
            )
        if model.audio_input != "waveform" and audio_config.n_mels != model.n_mels:
            raise CheckpointError(
                f"audio_config.n_mels={audio_config.n_mels} but the model reads "
                f"n_mels={model.n_mels}"
            )
        self.model = model.eval()
        self.audio_config = audio_config
        self.standardization = standardization
        self.image_size = None if image_size is None else [int(v) for v in image_size]
        self.sample_rate = audio_config.sample_rate

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike) -> AudioImageRetriever:
        """Load ``directory`` (config.json, model.safetensors, audio_config.json and
        standardization.json; an older folder's audio_features.json instead of the two)."""
        directory = Path(directory)
        if not directory.exists():
            raise ParameterError(f"model={str(directory)!r} does not exist")
        if not directory.is_dir():
            raise ParameterError(f"model={str(directory)!r} is not a model folder")
        model = load_model_folder(directory, DualEncoder, refusal=", not a dual_encoder")
        if (directory / AUDIO_CONFIG_NAME).is_file():
            audio_config = AudioConfig.from_json(directory / AUDIO_CONFIG_NAME)
            record = read_json(require_file(directory, STANDARDIZATION_NAME))
            if not isinstance(record, dict) or "audio" not in record:
                raise CheckpointError(
                    f"model={str(directory)!r}: {STANDARDIZATION_NAME} must hold an 'audio' record"
                )
            retriever = cls(
                model,
                audio_config=audio_config,
                standardization=FeatureStandardization.from_dict(record["audio"]),
                image_size=record.get("image_size"),
            )
        elif (directory / AUDIO_FEATURES_NAME).is_file():  # written before the AudioConfig
            features = json.loads((directory / AUDIO_FEATURES_NAME).read_text(encoding="utf-8"))
            retriever = cls(model, features)
        else:
            raise CheckpointError(
                f"model={str(directory)!r} has no {AUDIO_CONFIG_NAME} "
                f"(nor the older {AUDIO_FEATURES_NAME})"
            )
        retriever.ood = load_ood_detector(directory)
        return retriever

    @staticmethod
    def write_extras(
        directory: str | os.PathLike,
        *,
        audio_config: AudioConfig,
        standardization: FeatureStandardization,
        image_size: list[int] | None = None,
    ) -> Path:
        """Write ``audio_config.json`` and ``standardization.json`` into a folder."""
        directory = Path(directory)
        audio_config.to_json(directory / AUDIO_CONFIG_NAME)
        record = {"audio": standardization.to_dict(), "image_size": image_size}
        atomic_write_json(directory / STANDARDIZATION_NAME, record)
        return directory

    def save_pretrained(self, directory: str | os.PathLike) -> Path:
        """Write the folder :meth:`from_pretrained` reads (model, audio_config.json,
        standardization.json), in the current format whatever format it was loaded from."""
        directory = Path(self.model.save_pretrained(directory))
        self.write_extras(
            directory,
            audio_config=self.audio_config,
            standardization=self.standardization,
            image_size=self.image_size,
        )
        (directory / AUDIO_FEATURES_NAME).unlink(missing_ok=True)
        return seal_folder(directory)

    #: the folder's audio OOD detector (``ood.json``, ``benchmarks/ood.py --fit embed``) or None
    ood: OODDetector | None = None

    @torch.no_grad()
    def audio_ood(self, audio: Tensor, audio_lengths: Tensor) -> tuple[Tensor, Tensor] | None:
        """OOD scores (B,) and flags (B,) of prepared audio; None without a detector.

        ``audio`` (B, M, N) or (B, T) and ``audio_lengths`` (B,) as :meth:`prepare_audio`
        returns them. The detector reads the audio tower's output before the projection head
        (``inputs: "audio_encoder"``) or the unit embedding; higher scores are less like the
        spoken digits the model was trained on (:mod:`synesthesia.metrics.ood`), a flag is a
        score above the detector's threshold.
        """
        if self.ood is None:
            return None
        features = self.model.audio_encoder(audio, audio_lengths)
        if self.ood.inputs != "audio_encoder":
            features = self.model.audio_head(features)
        scores = self.ood.scores(features=features)
        return scores, self.ood.is_ood(scores)

    @property
    def min_samples(self) -> int:
        """The shortest clip (samples at :attr:`sample_rate`) the audio tower accepts."""
        if self.model.audio_input == "waveform":
            return int(self.model.audio_encoder.min_length)
        return self.audio_config.hop_length * int(self.model.audio_encoder.min_frames)

    def prepare_audio(self, waveform: Tensor, sample_rate: int) -> tuple[Tensor, Tensor]:
        """Model input of one mono clip (T,): ((1, M, N) log-mel or (1, T) waveform, lengths)."""
        if waveform.dim() != 1:
            raise ParameterError(f"waveform of shape {tuple(waveform.shape)} must be mono (T,)")
        if sample_rate != self.sample_rate:
            waveform = resample(
                waveform, orig_sample_rate=sample_rate, target_sample_rate=self.sample_rate
            )
        check_min_samples(waveform.shape[-1], self.min_samples, sample_rate=self.sample_rate)
        if self.model.audio_input == "waveform":
            return waveform[None], torch.tensor([waveform.shape[-1]])
        return self.log_mel(waveform[None], torch.tensor([waveform.shape[-1]]))

    def log_mel(self, waveform: Tensor, waveform_lengths: Tensor) -> tuple[Tensor, Tensor]:
        """Standardised log-mel (B, M, num_frames) and valid frames (B,) of clips (B, T).

        The training recipe (:func:`synesthesia.data.spoken_digits.log_mel_features`) with the
        folder's AudioConfig and standardisation (silence trimming and per-utterance
        normalisation when the model was trained with them).
        """
        return log_mel_features(
            waveform,
            waveform_lengths,
            audio_config=self.audio_config,
            standardization=self.standardization,
        )

    def prepare_image(self, image: Tensor) -> Tensor:
        """Model input (1, C, H, W) of an image (C, H, W) in [0, 1] of any channels/size."""
        channels = self.model.image_in_channels
        if image.shape[0] == 3 and channels == 1:
            weights = torch.tensor([0.299, 0.587, 0.114], dtype=image.dtype)
            image = (image * weights[:, None, None]).sum(0, keepdim=True)
        elif image.shape[0] == 1 and channels == 3:
            image = image.expand(3, -1, -1)
        if self.image_size is not None:
            image = resize_image(image, size=tuple(self.image_size), keep_aspect=False)
        return image[None]

    @torch.no_grad()
    def embed_waveforms(
        self, waveform: Tensor, waveform_lengths: Tensor, *, sample_rate: int
    ) -> Tensor:
        """Unit embeddings (B, E) of a padded batch of mono clips (B, T) at ``sample_rate``.

        Equal to embedding each clip alone (:meth:`prepare_audio`), batched for evaluation.
        """
        if waveform.dim() != 2 or waveform_lengths.shape != waveform.shape[:1]:
            raise ParameterError(
                f"waveform {tuple(waveform.shape)} and waveform_lengths "
                f"{tuple(waveform_lengths.shape)} must be (B, T) and (B,)"
            )
        if sample_rate != self.sample_rate:
            lengths = torch.div(
                waveform_lengths * self.sample_rate, sample_rate, rounding_mode="floor"
            )
            waveform = resample(
                waveform, orig_sample_rate=sample_rate, target_sample_rate=self.sample_rate
            )
            waveform_lengths = lengths.clamp(max=waveform.shape[-1])
        if self.model.audio_input == "waveform":
            return self.model.encode_audio(waveform, waveform_lengths)
        mel, mel_lengths = self.log_mel(waveform, waveform_lengths)
        return self.model.encode_audio(mel, mel_lengths)

    @torch.no_grad()
    def embed_audio_files(self, paths: list[Path]) -> Tensor:
        """Unit embeddings (B, E) of audio files (mixed to mono, resampled)."""
        out = []
        for path in paths:
            waveform, rate = load_audio(path)
            try:
                audio, lengths = self.prepare_audio(waveform, rate)
            except ParameterError as exc:
                raise ParameterError(f"audio={str(path)!r}: {exc}") from None
            out.append(self.model.encode_audio(audio, lengths))
        return torch.cat(out)

    @torch.no_grad()
    def embed_image_files(self, paths: list[Path]) -> tuple[Tensor, list[Path], list[Tensor]]:
        """Unit embeddings (B, E) of the readable images among ``paths``.

        Unreadable files are skipped with a warning. Returns (embeddings, the paths used, the
        images as loaded (C, H, W)).

        Raises:
            ParameterError: no file could be read as an image.
        """
        mode = "L" if self.model.image_in_channels == 1 else "RGB"
        used, images, embeddings = [], [], []
        for path in paths:
            try:
                image = load_image(path, mode=mode)
            except ParameterError as exc:
                warnings.warn(f"skipping unreadable image {str(path)!r}: {exc}", stacklevel=2)
                continue
            used.append(path)
            images.append(image)
            embeddings.append(self.model.encode_image(self.prepare_image(image)))
        if not used:
            raise ParameterError(f"no readable image among {len(paths)} file(s)")
        return torch.cat(embeddings), used, images

    @staticmethod
    def rank(query: Tensor, gallery: Tensor, names: list[str], *, k: int) -> Ranking:
        """The ``k`` gallery items (B, E) most similar (cosine) to one query (E,) or (1, E)."""
        scores = gallery @ query.reshape(-1)
        k = min(k, len(names))
        top = torch.topk(scores, k)
        indices = top.indices.tolist()
        return Ranking([names[i] for i in indices], top.values.tolist(), indices)
