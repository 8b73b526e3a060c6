"""Joint audio–image embedding training on spoken ↔ handwritten digits.

The data module builds :func:`synesthesia.data.make_spoken_digits` (train: 45 voices and 80 %
of the digit scans; validation: 6 held-out voices and the other 20 % of the scans), turns the
clips into log-mel spectrograms of a fixed number of frames (normalised with the training
mean and standard deviation), and draws resumable random batches of ``batch_size`` clips, each
paired with a random training image of the same digit. The loss is a label-aware metric loss
over the concatenated audio and image embeddings (so both cross-modal and within-modal pairs
count): triplet with mining, or contrastive. Validation embeds every held-out clip and image and
logs Recall@1 and mAP in both directions (``val/R@1`` is their mean R@1).

The exported model folder holds ``audio_config.json`` (the analysis, an
:class:`~synesthesia.AudioConfig`) and ``standardization.json`` (trimming, normalisation, frames,
training statistics and the image size) beside the model, so inference prepares inputs the same
way (:class:`~synesthesia.pipelines.AudioImageRetriever`).

References:
    Hermans et al. 2017 (batch-hard / batch-all triplet training); Harwath et al., NeurIPS
    2016 (speech ↔ image retrieval, Recall@K); Arandjelović & Zisserman, ECCV 2018.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader

from synesthesia.config import FeatureStandardization
from synesthesia.data.spoken_digits import (
    SpokenDigits,
    digit_audio_config,
    log_mel_features,
    make_spoken_digits,
)
from synesthesia.errors import ParameterError
from synesthesia.functional.metric_losses import contrastive_loss, triplet_margin_loss
from synesthesia.metrics.retrieval import cross_modal_retrieval
from synesthesia.pipelines.retrieval import AudioImageRetriever
from synesthesia.training.config import DEFAULTS
from synesthesia.training.data import fixed_loader, stream_loader
from synesthesia.training.fit import FitResult
from synesthesia.training.system import ModelSystem
from synesthesia.training.task import Task, train

__all__ = [
    "EMBED_DEFAULTS",
    "EMBED_TASK",
    "DualEncoderSystem",
    "PairSampler",
    "SpokenDigitsDataModule",
    "train_dual_encoder",
]

log = logging.getLogger(__name__)

#: defaults of the spoken ↔ handwritten digits recipe (configs/embed/spoken_digits.yaml)
EMBED_DEFAULTS: dict[str, Any] = copy.deepcopy(DEFAULTS)
EMBED_DEFAULTS["out_dir"] = "runs/embed"
EMBED_DEFAULTS["model"].update(
    name="dual_encoder_small",
    kwargs={
        "n_mels": 32,
        "audio_channels": [16, 32, 64],
        "image_channels": [16, 32, 64],
        "image_in_channels": 1,
    },
)
EMBED_DEFAULTS["data"] = {
    "train_voices": None,  # None: synesthesia.data.spoken_digits.TRAIN_VOICES
    "val_voices": None,  # None: TEST_VOICES (held out)
    "variations": 3,
    "sample_rate": 16000,
    "n_mels": 32,
    "n_fft": 512,
    "hop_length": 256,
    "num_frames": 48,
    "batch_size": 64,
    "cache_dir": None,
    "loss": "triplet",  # triplet | contrastive
    "mining": "batch_all",
    "margin": 0.2,
    "distance": "cosine",
    # robustness (the defaults keep the first recipe's features exactly)
    "trim_db": None,  # cut leading/trailing silence more than this many dB below the peak
    "normalize": "global",  # global | utterance (per-clip mean of each mel band removed)
    "augment": None,  # a list of augmentation specs (synesthesia.transforms.augment)
    "augment_copies": 0,  # 0: augment every batch; K: K augmented copies made once, up front
    "val_seed": 0,  # seed of the validation clips' prosody draws
}
EMBED_DEFAULTS["optim"].update(lr=3.0e-3, weight_decay=1.0e-4, warmup_steps=30)
EMBED_DEFAULTS["trainer"].update(
    max_steps=300, val_check_interval=100, num_sanity_val_steps=0, log_every_n_steps=10
)
EMBED_DEFAULTS["checkpoint"].update(monitor="val/R@1", mode="max")

_LOSSES = ("triplet", "contrastive")


class PairSampler:
    """Random training batches: ``generator → {"mel", "mel_lengths", "image", "label"}``.

    ``batch_size`` clips are drawn uniformly; each is paired with a uniformly drawn image of
    the same digit. ``augment`` is a pair of augmentation pipelines ``(on_waveform,
    on_mel)`` (either may be None), each called as ``(x, lengths, generator=...) → (x,
    lengths)``. With ``waveform`` and ``featurize``, ``mel`` is computed per batch from the
    drawn clips after ``on_waveform``, so every step sees freshly augmented audio; ``on_mel``
    (SpecAugment masks) is applied to every batch either way.
    """

    def __init__(
        self,
        mel: Tensor,
        mel_lengths: Tensor,
        audio_labels: Tensor,
        images: Tensor,
        image_labels: Tensor,
        *,
        batch_size: int,
        waveform: Tensor | None = None,
        waveform_lengths: Tensor | None = None,
        featurize: Any = None,
        augment: Any = None,
    ) -> None:
        self.mel, self.mel_lengths, self.audio_labels = mel, mel_lengths, audio_labels
        self.images, self.batch_size = images, batch_size
        self.pools = [torch.nonzero(image_labels == d).squeeze(1) for d in range(10)]
        self.waveform, self.waveform_lengths = waveform, waveform_lengths
        self.featurize, self.augment = featurize, augment

    def __call__(self, generator: torch.Generator) -> dict[str, Tensor]:
        index = torch.randint(0, len(self.mel), (self.batch_size,), generator=generator)
        labels = self.audio_labels[index]
        picks = torch.rand(self.batch_size, generator=generator)
        image_index = torch.stack(
            [self.pools[int(d)][int(p * len(self.pools[int(d)]))] for d, p in zip(labels, picks)]
        )
        on_waveform, on_mel = self.augment if self.augment is not None else (None, None)
        if self.featurize is None:
            mel, mel_lengths = self.mel[index], self.mel_lengths[index]
        else:
            waveform, lengths = self.waveform[index], self.waveform_lengths[index]
            if on_waveform is not None:
                waveform, lengths = on_waveform(waveform, lengths, generator=generator)
                waveform = waveform.clamp(-1.0, 1.0)
            mel, mel_lengths = self.featurize(waveform, lengths)
        if on_mel is not None:
            mel, mel_lengths = on_mel(mel, mel_lengths, generator=generator)
        return {
            "mel": mel,
            "mel_lengths": mel_lengths,
            "image": self.images[image_index],
            "label": labels,
        }


class SpokenDigitsDataModule(L.LightningDataModule):
    """Spoken ↔ handwritten digits as log-mel / image batches (see the module docstring).

    Args:
        train_voices: voices of the training clips (``None``: the default training voices).
        val_voices: voices of the validation clips (``None``: the held-out voices).
        variations: clips per (voice, digit).
        sample_rate: rate of the clips.
        n_mels: M.
        n_fft: FFT size of the log-mel.
        hop_length: samples between frames.
        num_frames: N; clips are cut or padded (with the floor value) to this many frames.
        batch_size: clips (and images) per training batch.
        cache_dir: cache folder of the synthesised clips (``None``: the default).
        seed: seed of the random batches.
        trim_db: cut leading and trailing silence more than this many dB below each clip's
            loudest frame (``None``: keep clips whole).
        normalize: "global" or "utterance" (see
            :func:`~synesthesia.data.spoken_digits.log_mel_features`).
        augment: augmentation specs applied to every training batch's waveforms before the
            log-mel (:func:`synesthesia.transforms.augment.build_augmentation`); the
            validation clips stay clean.
        augment_copies: 0 augments every training batch's waveforms afresh (slow: pitch
            shift and VTLP cost about a second per batch on one core); K > 0 renders K
            augmented copies of the training clips once, up front (seeded, so a resumed run
            rebuilds the same copies), and trains on the clean clips and the copies, with only
            the spectrogram-domain augmentations (SpecAugment masks) drawn per batch.
        val_seed: seed of the validation clips' prosody draws.
    """

    def __init__(
        self,
        *,
        train_voices: Sequence[str] | None = None,
        val_voices: Sequence[str] | None = None,
        variations: int = 3,
        sample_rate: int = 16000,
        n_mels: int = 32,
        n_fft: int = 512,
        hop_length: int = 256,
        num_frames: int = 48,
        batch_size: int = 64,
        cache_dir: str | None = None,
        seed: int = 0,
        trim_db: float | None = None,
        normalize: str = "global",
        augment: Sequence[dict] | None = None,
        augment_copies: int = 0,
        val_seed: int = 0,
    ) -> None:
        super().__init__()
        for name, value, low in (
            ("num_frames", num_frames, 1),
            ("batch_size", batch_size, 2),
            ("hop_length", hop_length, 1),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ParameterError(f"data.{name}={value!r} must be an integer >= {low}")
        self.batch_size, self.seed = batch_size, seed
        self.audio_config = digit_audio_config(
            sample_rate=sample_rate, n_mels=n_mels, n_fft=n_fft, hop_length=hop_length
        )
        #: the steps before the training statistics are known (mean 0, std 1)
        self.standardization = FeatureStandardization(
            num_frames=num_frames, trim_db=trim_db, normalize=normalize
        )
        self.augment = None
        if augment:
            from synesthesia.transforms.augment_builder import build_augmentation

            compose = build_augmentation(list(augment), sample_rate=sample_rate, seed=seed)
            self.augment = (compose.waveform, compose.spectrogram)
        common = {"variations": variations, "sample_rate": sample_rate, "cache_dir": cache_dir}
        self.train_set = make_spoken_digits("train", voices=train_voices, **common)
        self.val_set = make_spoken_digits("test", voices=val_voices, seed=val_seed, **common)
        mel, self.train_lengths = self._log_mel(self.train_set)
        self.mean, self.std = float(mel.mean()), float(mel.std())
        self.train_labels = self.train_set.audio_labels
        if self.augment is not None and augment_copies:
            copies, copy_lengths = self._augmented_copies(augment_copies, seed)
            mel = torch.cat([mel, copies])
            self.train_lengths = torch.cat([self.train_lengths, copy_lengths])
            self.train_labels = self.train_labels.repeat(1 + augment_copies)
            self.augment = (None, self.augment[1])
        self.standardization = FeatureStandardization(
            num_frames=num_frames, mean=self.mean, std=self.std, trim_db=trim_db,
            normalize=normalize,
        )  # fmt: skip
        self.image_size = list(self.train_set.images.shape[-2:])
        self.train_mel = (mel - self.mean) / self.std
        val_mel, self.val_lengths = self._log_mel(self.val_set)
        self.val_mel = (val_mel - self.mean) / self.std

    def _augmented_copies(self, copies: int, seed: int) -> tuple[Tensor, Tensor]:
        """Unscaled features of ``copies`` augmented renderings of every training clip."""
        from tqdm.auto import tqdm

        from synesthesia.training.data import batch_generator

        on_waveform = self.augment[0]
        data, chunk = self.train_set, 64
        mels, lengths = [], []
        total = copies * ((len(data.waveform) + chunk - 1) // chunk)
        with tqdm(total=total, desc="augmented copies", disable=None, leave=False) as bar:
            for copy in range(copies):
                for start in range(0, len(data.waveform), chunk):
                    part = slice(start, start + chunk)
                    generator = batch_generator(seed, 1_000_003 * (copy + 1) + start)
                    waveform, waveform_lengths = on_waveform(
                        data.waveform[part], data.waveform_lengths[part], generator=generator
                    )
                    view = SpokenDigits(
                        waveform.clamp(-1.0, 1.0), waveform_lengths, data.audio_labels[part],
                        data.voices[part], data.sample_rate, data.images, data.image_labels,
                        data.split,
                    )  # fmt: skip
                    mel, mel_lengths = self._log_mel(view)
                    mels.append(mel)
                    lengths.append(mel_lengths)
                    bar.update(1)
        return torch.cat(mels), torch.cat(lengths)

    def featurize(self, waveform: Tensor, waveform_lengths: Tensor) -> tuple[Tensor, Tensor]:
        """Standardised model input (B, M, N) of clips (B, T) (the exported recipe)."""
        return log_mel_features(
            waveform,
            waveform_lengths,
            audio_config=self.audio_config,
            standardization=self.standardization,
        )

    def _log_mel(self, data: SpokenDigits) -> tuple[Tensor, Tensor]:
        """Features of ``data`` before the training statistics are applied."""
        return log_mel_features(
            data.waveform,
            data.waveform_lengths,
            audio_config=self.audio_config,
            standardization=self.standardization.unscaled(),
        )

    def train_dataloader(self) -> DataLoader:
        sampler = PairSampler(
            self.train_mel,
            self.train_lengths,
            self.train_labels,
            self.train_set.images,
            self.train_set.image_labels,
            batch_size=self.batch_size,
            waveform=self.train_set.waveform if self._per_batch else None,
            waveform_lengths=self.train_set.waveform_lengths,
            featurize=self.featurize if self._per_batch else None,
            augment=self.augment,
        )
        return stream_loader(sampler, seed=self.seed, trainer=self.trainer)

    @property
    def _per_batch(self) -> bool:
        return self.augment is not None and self.augment[0] is not None

    def val_batch(self) -> dict[str, Tensor]:
        """Every held-out clip and every held-out image, in one batch."""
        return {
            "mel": self.val_mel,
            "mel_lengths": self.val_lengths,
            "label": self.val_set.audio_labels,
            "image": self.val_set.images,
            "image_label": self.val_set.image_labels,
        }

    def val_dataloader(self) -> DataLoader:
        return fixed_loader([self.val_batch()])

    def export(self, directory: str | Path) -> Path:
        """Write ``audio_config.json`` and ``standardization.json`` (the retriever's inputs)."""
        return AudioImageRetriever.write_extras(
            directory,
            audio_config=self.audio_config,
            standardization=self.standardization,
            image_size=self.image_size,
        )


class DualEncoderSystem(ModelSystem):
    """Metric loss over concatenated audio and image embeddings; retrieval at validation.

    Args:
        loss: "triplet" or "contrastive".
        mining: triplet mining strategy (see :func:`synesthesia.functional.triplet_margin_loss`).
        margin: the loss margin.
        distance: "cosine" or "euclidean".
        **kwargs: :class:`ModelSystem` arguments (model_name, model_kwargs, optim).
    """

    def __init__(
        self,
        *,
        loss: str = "triplet",
        mining: str = "batch_all",
        margin: float = 0.2,
        distance: str = "cosine",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if loss not in _LOSSES:
            raise ParameterError(f"data.loss={loss!r} must be one of {list(_LOSSES)}")
        self.loss_name, self.mining, self.margin, self.distance = loss, mining, margin, distance

    def batch_size_of(self, batch: Any) -> int:
        return int(batch["mel"].shape[0])

    def compute_loss(self, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        audio = self.model.encode_audio(batch["mel"], batch["mel_lengths"])
        image = self.model.encode_image(batch["image"])
        image_labels = batch.get("image_label", batch["label"])
        embeddings = torch.cat([audio, image])
        labels = torch.cat([batch["label"], image_labels])
        if self.loss_name == "triplet":
            loss = triplet_margin_loss(
                embeddings, labels, margin=self.margin, mining=self.mining, distance=self.distance
            )
        else:
            loss = contrastive_loss(embeddings, labels, margin=self.margin, distance=self.distance)
        return loss, {}

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        loss = super().validation_step(batch, batch_idx)
        with torch.no_grad():
            audio = self.model.encode_audio(batch["mel"], batch["mel_lengths"])
            image = self.model.encode_image(batch["image"])
        result = cross_modal_retrieval(
            audio.cpu(),
            image.cpu(),
            first_labels=batch["label"].cpu(),
            second_labels=batch["image_label"].cpu(),
        )
        size = self.batch_size_of(batch)
        for direction, values in result.items():
            for key in ("R@1", "R@5", "mAP"):
                self.log(f"val/{direction}/{key}", values[key], batch_size=size)
        mean_r1 = 0.5 * (result["audio_to_image"]["R@1"] + result["image_to_audio"]["R@1"])
        self.log("val/R@1", mean_r1, prog_bar=True, batch_size=size)
        return loss


def _system_kwargs(config: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """The loss settings, taken out of ``data`` and checked before the data preparation."""
    loss_settings = {k: data.pop(k) for k in ("loss", "mining", "margin", "distance")}
    if loss_settings["loss"] not in _LOSSES:  # before the (slower) data preparation
        raise ParameterError(f"data.loss={loss_settings['loss']!r} must be one of {list(_LOSSES)}")
    return loss_settings


def _data_module(config: dict[str, Any], data: dict[str, Any]) -> SpokenDigitsDataModule:
    return SpokenDigitsDataModule(seed=config["seed"], **data)


def _model_kwargs(
    config: dict[str, Any], data: dict[str, Any], datamodule: SpokenDigitsDataModule
) -> dict[str, Any]:
    """``n_mels`` defaults to ``data.n_mels``."""
    kwargs = dict(config["model"]["kwargs"])
    if kwargs.setdefault("n_mels", data["n_mels"]) != data["n_mels"]:
        raise ParameterError(
            f"model.kwargs.n_mels={kwargs['n_mels']!r} must equal data.n_mels={data['n_mels']}"
        )
    return kwargs


def _announce(
    system: DualEncoderSystem, datamodule: SpokenDigitsDataModule, config: dict[str, Any]
) -> None:
    log.info(
        "training %s (%d parameters) on %d clips / %d images; validating on %d clips / %d images",
        config["model"]["name"],
        system.model.num_parameters,
        len(datamodule.train_mel),
        len(datamodule.train_set.images),
        len(datamodule.val_mel),
        len(datamodule.val_set.images),
    )


#: the joint-embedding task (``synesthesia embed train``; pipeline: :class:`AudioImageRetriever`)
EMBED_TASK = Task(
    name="embed",
    defaults=EMBED_DEFAULTS,
    data_module=_data_module,
    model_kwargs=_model_kwargs,
    system=DualEncoderSystem,
    pipeline=AudioImageRetriever,
    system_kwargs=_system_kwargs,
    announce=_announce,
)


def train_dual_encoder(config: dict[str, Any], *, callbacks: Sequence[Any] = ()) -> FitResult:
    """Train a :class:`~synesthesia.models.DualEncoder` as ``config`` says; export it.

    ``config`` follows :data:`EMBED_DEFAULTS` (``data`` holds the data and loss settings);
    ``model.kwargs.n_mels`` defaults to ``data.n_mels`` (:data:`EMBED_TASK` through
    :func:`~synesthesia.training.task.train`).
    """
    return train(EMBED_TASK, config, callbacks=callbacks)
