"""Captioning training: Show, Attend and Tell on digit strips or a Karpathy-split data set.

Data sources (``data.source``):

- ``digit_strips`` (built in, offline): every training batch is a fresh set of strips drawn
  from the training scans (resumable: batch ``j`` depends only on ``(seed, j)``); validation
  uses a fixed set of strips made of the held-out test scans. The vocabulary is the 10 digit
  words plus the special tokens (``sat_tiny``'s ``vocab_size=14``).
- ``karpathy``: a Karpathy-split JSON file (``data.annotations``) and its image folder
  (``data.image_root``); "train" + "restval" train, "val" validates. The vocabulary is built
  from the training captions (``data.min_count``); images are resized and centre-cropped to
  ``data.image_size`` and normalised with ImageNet statistics.

The exported model folder holds ``vocab.json`` beside the model, so
``synesthesia caption predict IMG --model DIR`` needs nothing else.

References:
    Xu et al., "Show, Attend and Tell", ICML 2015 (training objective: cross-entropy plus the
    doubly stochastic attention regulariser).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader

from synesthesia.data.captions import CaptionDataset, collate_captions, load_karpathy_split
from synesthesia.data.digit_strips import DIGIT_WORDS, make_digit_strips
from synesthesia.errors import ParameterError
from synesthesia.pipelines.captioning import ImageCaptioner
from synesthesia.text.vocab import SPECIAL_TOKENS, Vocabulary
from synesthesia.training.config import DEFAULTS
from synesthesia.training.data import (
    EpochShuffleSampler,
    fixed_loader,
    samples_consumed,
    stream_loader,
)
from synesthesia.training.fit import FitResult
from synesthesia.training.system import ModelSystem
from synesthesia.training.task import Task, train

__all__ = [
    "CAPTION_DEFAULTS",
    "CAPTION_TASK",
    "CaptionSystem",
    "DigitStripsDataModule",
    "KarpathyDataModule",
    "encode_captions",
    "train_captioner",
]

log = logging.getLogger(__name__)

#: defaults of ``synesthesia caption train``
CAPTION_DEFAULTS: dict[str, Any] = copy.deepcopy(DEFAULTS)
CAPTION_DEFAULTS["out_dir"] = "runs/caption"
CAPTION_DEFAULTS["model"].update(name="sat_tiny", kwargs={})
CAPTION_DEFAULTS["data"] = {
    "source": "digit_strips",
    "batch_size": 32,
    "num_val": 256,
    "annotations": None,
    "image_root": None,
    "image_size": 224,
    "min_count": 5,
    "max_words": 50,
    "num_workers": 0,
}
CAPTION_DEFAULTS["optim"].update(lr=3.0e-3, warmup_steps=20, weight_decay=0.0)
CAPTION_DEFAULTS["trainer"].update(max_steps=300, val_check_interval=100, limit_val_batches=8)
_SOURCES = ("digit_strips", "karpathy")


def encode_captions(vocab: Vocabulary, captions: Sequence[str]) -> tuple[Tensor, Tensor]:
    """Encode and pad captions: (B, L) ids (``<start>`` … ``<end>``, then ``<pad>``), lengths."""
    encoded = [vocab.encode(c) for c in captions]
    lengths = torch.tensor([len(e) for e in encoded], dtype=torch.long)
    ids = torch.full((len(encoded), int(lengths.max())), vocab.pad_id, dtype=torch.long)
    for i, e in enumerate(encoded):
        ids[i, : len(e)] = torch.tensor(e, dtype=torch.long)
    return ids, lengths


def digit_vocabulary() -> Vocabulary:
    """The digit-strip vocabulary: special tokens + "zero" … "nine" (14 words)."""
    return Vocabulary([*SPECIAL_TOKENS, *DIGIT_WORDS])


class _StripBatches:
    """Picklable ``generator → batch`` of fresh training strips."""

    def __init__(self, batch_size: int) -> None:
        self.batch_size = batch_size
        self.vocab = digit_vocabulary()

    def __call__(self, generator: torch.Generator) -> dict[str, Tensor]:
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
        strips = make_digit_strips(self.batch_size, split="train", seed=seed)
        captions, lengths = encode_captions(self.vocab, strips.captions)
        return {"images": strips.images, "captions": captions, "caption_lengths": lengths}


def _positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ParameterError(f"data.{name}={value!r} must be a positive integer")
    return value


class DigitStripsDataModule(L.LightningDataModule):
    """Digit strips: endless fresh training batches, fixed held-out validation strips."""

    def __init__(self, *, batch_size: int = 32, num_val: int = 256, seed: int = 0, **_: Any):
        super().__init__()
        self.batch_size = _positive("batch_size", batch_size)
        self.num_val = _positive("num_val", num_val)
        self.seed = seed
        self.vocab = digit_vocabulary()

    def train_dataloader(self) -> DataLoader:
        return stream_loader(_StripBatches(self.batch_size), seed=self.seed, trainer=self.trainer)

    def val_dataloader(self) -> DataLoader:
        strips = make_digit_strips(self.num_val, split="test", seed=0)
        captions, lengths = encode_captions(self.vocab, strips.captions)
        batches = [
            {
                "images": strips.images[i : i + self.batch_size],
                "captions": captions[i : i + self.batch_size],
                "caption_lengths": lengths[i : i + self.batch_size],
            }
            for i in range(0, self.num_val, self.batch_size)
        ]
        return fixed_loader(batches)

    #: how ``caption predict`` prepares an image file for this model (see ``preprocess.json``)
    preprocess: dict[str, Any] = {"resize": [32, 128], "center_crop": None, "normalize": False}

    def export(self, directory: str | Path) -> Path:
        """Write ``vocab.json`` and ``preprocess.json`` into the exported model folder."""
        return ImageCaptioner.write_extras(directory, vocab=self.vocab, preprocess=self.preprocess)


class KarpathyDataModule(DigitStripsDataModule):
    """A Karpathy-split JSON file and its images (train + restval train, val validates)."""

    def __init__(
        self,
        *,
        annotations: str | None = None,
        image_root: str | None = None,
        batch_size: int = 32,
        image_size: int = 224,
        min_count: int = 5,
        max_words: int = 50,
        num_workers: int = 0,
        seed: int = 0,
        **_: Any,
    ) -> None:
        L.LightningDataModule.__init__(self)
        if annotations is None or image_root is None:
            raise ParameterError(
                "data.source='karpathy' needs data.annotations (the JSON file) and "
                "data.image_root (the image folder)"
            )
        from torch import nn

        from synesthesia.transforms.image import CenterCrop, Normalize, Resize

        self.batch_size = _positive("batch_size", batch_size)
        self.num_workers = num_workers
        self.seed = seed
        train = load_karpathy_split(annotations, image_root=image_root)
        self.val_records = load_karpathy_split(annotations, image_root=image_root, splits=["val"])
        self.vocab = Vocabulary.build([c for r in train for c in r.captions], min_count=min_count)
        size = _positive("image_size", image_size)
        self.preprocess = {"resize": size, "center_crop": size, "normalize": True}
        transform = nn.Sequential(Resize(size), CenterCrop(size), Normalize())
        self.train_set = CaptionDataset(train, self.vocab, transform=transform, max_words=max_words)
        self.val_set = CaptionDataset(
            self.val_records, self.vocab, transform=transform, max_words=max_words
        )

    def _loader(self, dataset: CaptionDataset, shuffle: bool) -> DataLoader:
        sampler = None
        if shuffle:  # a new order per epoch from (seed, epoch); resumes mid-epoch exactly
            start = samples_consumed(self.trainer, size=len(dataset), batch_size=self.batch_size)
            sampler = EpochShuffleSampler(len(dataset), seed=self.seed, start=start)
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            sampler=sampler,
            num_workers=self.num_workers,
            collate_fn=partial(collate_captions, pad_id=self.vocab.pad_id),
            generator=torch.Generator().manual_seed(self.seed),
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_set, False)


class CaptionSystem(ModelSystem):
    """Cross-entropy + λ · doubly stochastic attention regulariser of a captioner."""

    def compute_loss(self, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        logits, alphas = self.model(
            batch["images"], batch["captions"], batch["caption_lengths"]
        )  # (B, L - 1, V), (B, L - 1, P)
        parts = self.model.loss(logits, alphas, batch["captions"], batch["caption_lengths"])
        return parts["loss"], {
            "cross_entropy": parts["cross_entropy"].detach(),
            "attention_regularization": parts["attention_regularization"].detach(),
        }


def _data_module(config: dict[str, Any], data: dict[str, Any]) -> DigitStripsDataModule:
    source = data.pop("source")
    if source not in _SOURCES:
        raise ParameterError(f"data.source={source!r} must be one of {_SOURCES}")
    module_class = DigitStripsDataModule if source == "digit_strips" else KarpathyDataModule
    return module_class(seed=config["seed"], **data)


def _model_kwargs(
    config: dict[str, Any], data: dict[str, Any], datamodule: DigitStripsDataModule
) -> dict[str, Any]:
    """``vocab_size`` and the special-token ids from the data's vocabulary."""
    vocab = datamodule.vocab
    kwargs = dict(config["model"]["kwargs"])
    if kwargs.setdefault("vocab_size", len(vocab)) != len(vocab):
        raise ParameterError(
            f"model.kwargs.vocab_size={kwargs['vocab_size']!r} must equal the vocabulary size "
            f"{len(vocab)} (leave it unset)"
        )
    kwargs.update(pad_id=vocab.pad_id, start_id=vocab.start_id, end_id=vocab.end_id)
    return kwargs


def _announce(
    system: CaptionSystem, datamodule: DigitStripsDataModule, config: dict[str, Any]
) -> None:
    log.info(
        "training %s (%d parameters) on %s, vocabulary of %d words",
        config["model"]["name"],
        system.model.num_parameters,
        config["data"].get("source", CAPTION_DEFAULTS["data"]["source"]),
        len(datamodule.vocab),
    )


#: the captioning task (``synesthesia caption train``; pipeline: :class:`ImageCaptioner`)
CAPTION_TASK = Task(
    name="caption",
    defaults=CAPTION_DEFAULTS,
    data_module=_data_module,
    model_kwargs=_model_kwargs,
    system=CaptionSystem,
    pipeline=ImageCaptioner,
    role="a captioner",
    announce=_announce,
)


def train_captioner(config: dict[str, Any], *, callbacks: Sequence[Any] = ()) -> FitResult:
    """Train a captioner as ``config`` says (see :data:`CAPTION_DEFAULTS`); export it.

    ``model.kwargs.vocab_size`` and the special-token ids come from the data's vocabulary
    (:data:`CAPTION_TASK` through :func:`~synesthesia.training.task.train`).
    """
    return train(CAPTION_TASK, config, callbacks=callbacks)
