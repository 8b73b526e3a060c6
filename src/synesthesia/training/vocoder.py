"""Vocoder training: a WaveNet learns waveforms from log-mels of a speech folder.

The data is an LJSpeech-layout folder (``metadata.csv`` + ``wavs/``, e.g. the corpus written
by ``synesthesia data espeak``, whose ``split.json`` holds out whole voices) or any folder of
audio files. Every utterance is loaded once at the model's sample rate and its log-mel is
computed over the *whole* utterance with ``LogMelSpectrogram.from_config(audio_config)``
(the analysis of :class:`~synesthesia.data.VocoderDataset`); training batches are random
hop-aligned crops of ``segment_length`` samples with their ``1 + T // hop_length`` frames,
drawn by a resumable :class:`~synesthesia.training.data.RandomBatchStream` (batch ``j``
depends only on ``(seed, j)``). Validation uses fixed crops of the held-out utterances.

The exported model folder is ``save_pretrained``'s (config.json carries the AudioConfig,
model.safetensors) plus ``audio_config.json`` for readers that only need the analysis.

References:
    van den Oord et al., "WaveNet", 2016; Shen et al., "Natural TTS synthesis by conditioning
    WaveNet on mel spectrogram predictions", 2018 (crop-and-condition training, as in
    r9y9/wavenet_vocoder and HiFi-GAN's MelDataset).
"""

from __future__ import annotations

import copy
import json
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader

from synesthesia.config import AudioConfig
from synesthesia.data.vocoder import collate_vocoder
from synesthesia.errors import ParameterError
from synesthesia.models import create_model
from synesthesia.pipelines import vocoder as vocoder_pipeline
from synesthesia.pipelines.vocoder import AUDIO_CONFIG_NAME, write_vocoder_extras  # noqa: F401
from synesthesia.training.config import DEFAULTS
from synesthesia.training.data import check_data_int, fixed_loader, stream_loader
from synesthesia.training.fit import FitResult
from synesthesia.training.system import ModelSystem
from synesthesia.training.task import Task, train

__all__ = [
    "VOCODER_DEFAULTS",
    "VOCODER_TASK",
    "VocoderSystem",
    "VocoderDataModule",
    "CropSampler",
    "load_utterances",
    "train_vocoder",
]

log = logging.getLogger(__name__)

#: defaults of ``synesthesia vocoder train`` (configs/vocoder/tiny.yaml spells them out)
VOCODER_DEFAULTS: dict[str, Any] = copy.deepcopy(DEFAULTS)
VOCODER_DEFAULTS["out_dir"] = "runs/vocoder"
VOCODER_DEFAULTS["model"].update(name="wavenet_tiny", kwargs={})
VOCODER_DEFAULTS["data"] = {
    "root": None,
    "train_split": "train",
    "val_split": "val",
    "val_fraction": 0.1,
    "segment_length": 4096,
    "val_segment_length": 8192,
    "batch_size": 4,
    "max_utterances": None,
    "max_val_utterances": 16,
    "num_workers": 0,
}
VOCODER_DEFAULTS["optim"].update(lr=1.0e-3, warmup_steps=50, weight_decay=0.0)
VOCODER_DEFAULTS["trainer"].update(val_check_interval=100, limit_val_batches=None)


def _split_ids(root: Path, split: str | None) -> set[str] | None:
    """Ids of ``split`` from ``root/split.json``; None when there is no split file."""
    path = root / "split.json"
    if split is None or not path.is_file():
        return None
    splits = json.loads(path.read_text(encoding="utf-8"))
    if split not in splits:
        raise ParameterError(f"split={split!r} is not in {path} (it has {sorted(splits)})")
    return set(splits[split]["ids"])


def load_utterances(
    root: str | Path,
    *,
    sample_rate: int,
    split: str | None = None,
    max_utterances: int | None = None,
) -> list[Tensor]:
    """Waveforms (T,) float32 of a speech folder, resampled to ``sample_rate``.

    An LJSpeech-layout folder (``metadata.csv``) is read with
    :class:`~synesthesia.data.LJSpeechDataset`, restricted to ``split`` when the folder has
    ``split.json``; any other folder with :class:`~synesthesia.data.AudioFolderDataset`.
    """
    from synesthesia.data.speech import AudioFolderDataset, LJSpeechDataset

    root = Path(root)
    if not root.is_dir():
        raise ParameterError(f"data.root={str(root)!r} is not a folder")
    if (root / "metadata.csv").is_file():
        has_split = split is not None and (root / "split.json").is_file()
        dataset: Any = LJSpeechDataset(
            root, sample_rate=sample_rate, split=split if has_split else None
        )
    else:
        dataset = AudioFolderDataset(root, sample_rate=sample_rate)
    count = len(dataset) if max_utterances is None else min(len(dataset), max_utterances)
    return [dataset[i]["waveform"].to(torch.float32) for i in range(count)]


class CropSampler:
    """Random hop-aligned crops: ``generator → {"waveform", "waveform_lengths", "mel", ...}``.

    Each of ``batch_size`` rows picks an utterance uniformly, then a crop start uniformly
    among the multiples of ``hop_length`` that fit, exactly as
    :class:`~synesthesia.data.VocoderDataset` does but from the given generator (so batches
    are reproducible) and from log-mels computed once per utterance.

    Args:
        utterances: list of ``(waveform (T,), mel (M, 1 + T // hop_length))`` pairs.
        hop_length: samples per frame.
        segment_length: samples per crop (a multiple of ``hop_length``).
        batch_size: rows per batch.
    """

    def __init__(
        self,
        utterances: Sequence[tuple[Tensor, Tensor]],
        *,
        hop_length: int,
        segment_length: int,
        batch_size: int,
    ) -> None:
        self.utterances = utterances
        self.hop_length = hop_length
        self.segment_length = segment_length
        self.batch_size = batch_size

    def crop(self, index: int, first: int | None, generator: torch.Generator | None = None):
        """Crop utterance ``index`` from frame ``first`` (None: random with ``generator``)."""
        waveform, mel = self.utterances[index]
        hop = self.hop_length
        usable = (waveform.numel() // hop) * hop
        length = min(self.segment_length, usable)
        num_starts = (usable - length) // hop + 1
        if first is None:
            first = int(torch.randint(num_starts, (), generator=generator)) if num_starts > 1 else 0
        first = min(first, num_starts - 1)
        start = first * hop
        return waveform[start : start + length], mel[:, first : first + 1 + length // hop]

    def __call__(self, generator: torch.Generator) -> dict[str, Tensor]:
        rows = torch.randint(len(self.utterances), (self.batch_size,), generator=generator)
        return collate_vocoder([self.crop(int(i), None, generator) for i in rows])


def _with_mels(waveforms: list[Tensor], audio_config: AudioConfig) -> list[tuple[Tensor, Tensor]]:
    from synesthesia.transforms import LogMelSpectrogram

    log_mel = LogMelSpectrogram.from_config(audio_config)
    hop = audio_config.hop_length
    pairs = []
    for waveform in waveforms:
        if waveform.numel() < hop:
            continue  # shorter than one frame: nothing to learn from
        padded = waveform
        if waveform.numel() < audio_config.n_fft // 2 + 1:  # reflection padding needs more
            padded = torch.nn.functional.pad(waveform, (0, audio_config.n_fft // 2 + 1))
        with torch.no_grad():
            pairs.append((waveform, log_mel(padded)))
    return pairs


class VocoderDataModule(L.LightningDataModule):
    """A speech folder as (waveform crop, log-mel) batches for a vocoder.

    Loads every utterance at construction (so a bad folder fails before Lightning starts).
    Training and validation utterances come from ``split.json`` (``train_split`` /
    ``val_split``, whole voices held out) when the folder has one and its validation split is
    not empty; otherwise (no ``split.json``, or a corpus of too few voices to hold one out) the
    last ``val_fraction`` of the (training) files is held out.

    Args:
        root: LJSpeech-layout folder or a folder of audio files.
        audio_config: the model's mel analysis (its sample rate is used to load audio).
        train_split, val_split: names in ``split.json``.
        val_fraction: share of files held out when there is no ``split.json``.
        segment_length: samples per training crop (multiple of ``hop_length``).
        val_segment_length: samples per validation crop (one fixed crop per utterance).
        batch_size: crops per batch.
        max_utterances: cap on training utterances (None: all).
        max_val_utterances: cap on validation utterances.
        num_workers: DataLoader workers for the training stream.
        seed: seed of the random crops.
    """

    def __init__(
        self,
        root: str | Path,
        *,
        audio_config: AudioConfig,
        train_split: str = "train",
        val_split: str = "val",
        val_fraction: float = 0.1,
        segment_length: int = 4096,
        val_segment_length: int = 8192,
        batch_size: int = 4,
        max_utterances: int | None = None,
        max_val_utterances: int | None = 16,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        hop = audio_config.hop_length
        for name, value in (
            ("segment_length", segment_length),
            ("val_segment_length", val_segment_length),
        ):
            if check_data_int(name, value, 1) % hop:
                raise ParameterError(f"data.{name}={value} must be a multiple of hop_length={hop}")
        self.batch_size = check_data_int("batch_size", batch_size, 1)
        self.num_workers = check_data_int("num_workers", num_workers, 0)
        check_data_int("max_utterances", max_utterances, 1, optional=True)
        check_data_int("max_val_utterances", max_val_utterances, 1, optional=True)
        if isinstance(val_fraction, bool) or not 0 < val_fraction < 1:
            raise ParameterError(f"data.val_fraction={val_fraction!r} must be in (0, 1)")
        self.audio_config = audio_config
        self.segment_length = segment_length
        self.val_segment_length = val_segment_length
        self.seed = seed
        self.root = Path(root)
        rate = audio_config.sample_rate
        has_splits = _split_ids(self.root, train_split) is not None
        if has_splits and _split_ids(self.root, val_split):
            train = load_utterances(
                self.root, sample_rate=rate, split=train_split, max_utterances=max_utterances
            )
            val = load_utterances(
                self.root, sample_rate=rate, split=val_split, max_utterances=max_val_utterances
            )
        else:  # no split.json, or an empty validation split (a corpus of one or two voices)
            every = load_utterances(
                self.root, sample_rate=rate, split=train_split if has_splits else None
            )
            num_val = max(1, int(round(len(every) * val_fraction)))
            if len(every) < 2:
                raise ParameterError(
                    f"data.root={str(self.root)!r} holds {len(every)} utterance(s); a vocoder "
                    "needs at least 2 (one to validate on)"
                )
            train, val = every[:-num_val], every[-num_val:]
            train = train[:max_utterances] if max_utterances else train
            val = val[:max_val_utterances] if max_val_utterances else val
        self.train_pairs = _with_mels(train, audio_config)
        self.val_pairs = _with_mels(val, audio_config)
        if not self.train_pairs or not self.val_pairs:
            raise ParameterError(
                f"data.root={str(self.root)!r} gave {len(self.train_pairs)} training and "
                f"{len(self.val_pairs)} validation utterances (each needs >= hop_length={hop} "
                "samples); both must be non-empty"
            )

    @property
    def num_train_samples(self) -> int:
        """Samples in all training utterances."""
        return sum(w.numel() for w, _ in self.train_pairs)

    def train_dataloader(self) -> DataLoader:
        sampler = CropSampler(
            self.train_pairs,
            hop_length=self.audio_config.hop_length,
            segment_length=self.segment_length,
            batch_size=self.batch_size,
        )
        return stream_loader(
            sampler, seed=self.seed, trainer=self.trainer, num_workers=self.num_workers
        )

    def val_batches(self) -> list[dict[str, Tensor]]:
        """Fixed validation crops (the middle of each utterance), batched."""
        sampler = CropSampler(
            self.val_pairs,
            hop_length=self.audio_config.hop_length,
            segment_length=self.val_segment_length,
            batch_size=self.batch_size,
        )
        crops = []
        for index, (waveform, _) in enumerate(self.val_pairs):
            frames = waveform.numel() // self.audio_config.hop_length
            middle = max(0, (frames - self.val_segment_length // self.audio_config.hop_length) // 2)
            crops.append(sampler.crop(index, middle))
        size = self.batch_size
        return [collate_vocoder(crops[i : i + size]) for i in range(0, len(crops), size)]

    def val_dataloader(self) -> DataLoader:
        return fixed_loader(self.val_batches())

    def export(self, directory: str | Path) -> Path:
        """Write ``audio_config.json`` beside the exported model."""
        return write_vocoder_extras(directory, audio_config=self.audio_config)


class VocoderSystem(ModelSystem):
    """Negative log-likelihood per sample of a WaveNet on (waveform, log-mel) crops.

    ``model_kwargs["audio_config"]`` may be a plain mapping of AudioConfig fields; it stays a
    mapping in the checkpoint's hyper-parameters (checkpoints load with ``weights_only``).
    """

    def build_model(self, model_name: str, model_kwargs: dict[str, Any]) -> Any:
        return create_model(model_name, **_converted(model_kwargs))

    def compute_loss(self, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        output = self.model(batch["waveform"], batch["mel"], mel_lengths=batch["mel_lengths"])
        loss = self.model.loss(
            output, batch["waveform"], waveform_lengths=batch["waveform_lengths"]
        )
        return loss, {"bits_per_sample": loss.detach() / math.log(2)}

    def batch_size_of(self, batch: dict[str, Tensor]) -> int:
        return int(batch["waveform"].shape[0])


def _converted(kwargs: dict[str, Any]) -> dict[str, Any]:
    """``model.kwargs`` with an ``audio_config`` mapping turned into an AudioConfig.

    ``cond_channels`` follows ``audio_config.n_mels`` unless given.
    """
    kwargs = dict(kwargs)
    audio = kwargs.get("audio_config")
    if isinstance(audio, dict):
        kwargs["audio_config"] = AudioConfig.from_dict(audio)
        kwargs.setdefault("cond_channels", kwargs["audio_config"].n_mels)
    elif audio is not None and not isinstance(audio, AudioConfig):
        raise ParameterError(f"model.kwargs.audio_config={audio!r} must be a mapping of fields")
    return kwargs


def _data_module(config: dict[str, Any], data: dict[str, Any]) -> VocoderDataModule:
    """The speech folder analysed with the AudioConfig of the model preset."""
    if data["root"] is None:
        raise ParameterError("data.root=None: give the speech folder (--data DIR)")
    name = config["model"]["name"]
    if not name:
        raise ParameterError("model.name=None must name a registered vocoder, e.g. wavenet_tiny")
    kwargs = dict(config["model"]["kwargs"])
    try:
        probe = create_model(name, **_converted(kwargs))
    except TypeError as exc:
        raise ParameterError(f"model.name={name!r} does not build with {kwargs}: {exc}") from None
    audio_config = getattr(probe, "audio_config", None)
    if not isinstance(audio_config, AudioConfig) or not hasattr(probe, "loss"):
        raise ParameterError(f"model.name={name!r} is not a vocoder (it has no AudioConfig)")
    del probe
    return VocoderDataModule(
        data.pop("root"), audio_config=audio_config, seed=config["seed"], **data
    )


def _model_kwargs(
    config: dict[str, Any], data: dict[str, Any], datamodule: VocoderDataModule
) -> dict[str, Any]:
    return dict(config["model"]["kwargs"])


def _announce(system: VocoderSystem, datamodule: VocoderDataModule, config: dict[str, Any]) -> None:
    audio_config = datamodule.audio_config
    log.info(
        "training %s (%d parameters, receptive field %d samples) on %d utterances "
        "(%.1f min at %d Hz), validating on %d",
        config["model"]["name"],
        system.model.num_parameters,
        system.model.receptive_field,
        len(datamodule.train_pairs),
        datamodule.num_train_samples / audio_config.sample_rate / 60,
        audio_config.sample_rate,
        len(datamodule.val_pairs),
    )


#: the vocoder task (``synesthesia vocoder train``; pipeline: :mod:`synesthesia.pipelines.vocoder`)
VOCODER_TASK = Task(
    name="vocoder",
    defaults=VOCODER_DEFAULTS,
    data_module=_data_module,
    model_kwargs=_model_kwargs,
    system=VocoderSystem,
    pipeline=vocoder_pipeline,
    endless=(
        "vocoders train on an endless stream of random crops",
        " of a vocoder",
    ),
    announce=_announce,
)


def train_vocoder(config: dict[str, Any], *, callbacks: Sequence[Any] = ()) -> FitResult:
    """Train a vocoder as ``config`` (see :data:`VOCODER_DEFAULTS`) says; export it
    (:data:`VOCODER_TASK` through :func:`~synesthesia.training.task.train`)."""
    return train(VOCODER_TASK, config, callbacks=callbacks)
