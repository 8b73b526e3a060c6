"""Caption data sets: Karpathy-split JSON (Flickr8k/30k, COCO) and COCO caption annotations.

Both loaders return a list of :class:`CaptionRecord` (image path + its reference captions);
:class:`CaptionDataset` turns records into (image, token ids) pairs and
:func:`collate_captions` pads a batch (``captions`` with ``caption_lengths``).

Karpathy split files (``dataset_flickr8k.json``, ``dataset_flickr30k.json``,
``dataset_coco.json``) look like ``{"dataset": "coco", "images": [{"filepath": "val2014",
"filename": "...jpg", "split": "train" | "restval" | "val" | "test", "sentences":
[{"raw": "...", "tokens": [...]}, ...]}, ...]}`` (Flickr files have no ``filepath``).
COCO annotation files (``captions_train2014.json``) look like ``{"images": [{"id": 1,
"file_name": "...jpg"}], "annotations": [{"image_id": 1, "caption": "..."}]}``.

Behaviour on bad input: a missing, empty or malformed file, or one without any caption for
the requested split, raises ParameterError naming the file. Images without captions are
skipped (and counted in a log message). A caption made only of words outside the vocabulary
encodes to ``<start> <unk> ... <unk> <end>`` and is kept (see ``Vocabulary.encode``); an empty
caption (no words after tokenisation) is dropped with a warning.

References:
    Karpathy & Fei-Fei, CVPR 2015 (the "Karpathy split" files of neuraltalk2); Chen et al.,
    "Microsoft COCO Captions", 2015 (annotation format).
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor

from synesthesia.errors import ParameterError
from synesthesia.io.image import load_image
from synesthesia.text.vocab import Vocabulary, tokenize_caption
from synesthesia.utils import read_json

__all__ = [
    "CaptionRecord",
    "load_karpathy_split",
    "load_coco_captions",
    "CaptionDataset",
    "collate_captions",
]

log = logging.getLogger(__name__)
_SPLITS = ("train", "restval", "val", "test")


@dataclass
class CaptionRecord:
    """One image and its reference captions."""

    image_path: Path
    captions: list[str]
    image_id: int | str
    split: str = ""
    extra: dict = field(default_factory=dict)


def _read(path: str | os.PathLike) -> object:
    path = Path(path)
    if path.is_file() and path.stat().st_size == 0:
        raise ParameterError(f"path={str(path)!r} is empty")
    return read_json(path)


def _clean(captions: list[str], where: str) -> list[str]:
    kept = []
    for caption in captions:
        if not isinstance(caption, str):
            raise ParameterError(f"{where}: caption={caption!r} must be a string")
        if tokenize_caption(caption):
            kept.append(caption)
        else:
            warnings.warn(f"{where}: dropping caption {caption!r} with no words", stacklevel=3)
    return kept


def load_karpathy_split(
    path: str | os.PathLike,
    *,
    image_root: str | os.PathLike,
    splits: Sequence[str] = ("train", "restval"),
) -> list[CaptionRecord]:
    """Read a Karpathy-split JSON file.

    Args:
        path: ``dataset_flickr8k.json`` / ``dataset_flickr30k.json`` / ``dataset_coco.json``.
        image_root: folder the ``filepath``/``filename`` of each image is relative to.
        splits: which splits to keep ("train", "restval", "val", "test"); the usual training
            set is ("train", "restval").

    Returns:
        Records of the kept splits, in file order. Captions are the ``raw`` sentences (or the
        joined ``tokens`` when ``raw`` is absent).
    """
    bad = [s for s in splits if s not in _SPLITS]
    if bad or isinstance(splits, str) or not splits:
        raise ParameterError(f"splits={splits!r} must be a non-empty list from {_SPLITS}")
    payload = _read(path)
    if not isinstance(payload, dict) or not isinstance(payload.get("images"), list):
        raise ParameterError(
            f"path={str(path)!r} is not a Karpathy split file (no 'images' list at the top)"
        )
    root = Path(image_root)
    records, skipped = [], 0
    for i, item in enumerate(payload["images"]):
        where = f"{path}: images[{i}]"
        if not isinstance(item, dict) or "filename" not in item or "sentences" not in item:
            raise ParameterError(f"{where} must be an object with 'filename' and 'sentences'")
        split = item.get("split", "train")
        if split not in splits:
            continue
        sentences = item["sentences"]
        if not isinstance(sentences, list):
            raise ParameterError(f"{where}: 'sentences' must be a list")
        raw = []
        for s in sentences:
            if not isinstance(s, dict) or not ("raw" in s or "tokens" in s):
                raise ParameterError(f"{where}: each sentence needs 'raw' or 'tokens'")
            raw.append(s["raw"] if "raw" in s else " ".join(s["tokens"]))
        captions = _clean(raw, where)
        if not captions:
            skipped += 1
            continue
        image_path = root / item.get("filepath", "") / item["filename"]
        image_id = item.get("cocoid", item.get("imgid", i))
        records.append(CaptionRecord(image_path, captions, image_id, split))
    if skipped:
        log.info("%s: skipped %d images without captions", path, skipped)
    if not records:
        raise ParameterError(f"path={str(path)!r} has no captioned image in splits={list(splits)}")
    return records


def load_coco_captions(
    path: str | os.PathLike, *, image_root: str | os.PathLike
) -> list[CaptionRecord]:
    """Read a COCO caption annotation file (``captions_train2014.json`` layout).

    Args:
        path: the annotation JSON.
        image_root: folder holding the images named by ``file_name``.

    Returns:
        One record per image that has at least one caption, ordered by image id.
    """
    payload = _read(path)
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("images"), list)
        or not isinstance(payload.get("annotations"), list)
    ):
        raise ParameterError(
            f"path={str(path)!r} is not a COCO caption file (needs 'images' and 'annotations' "
            "lists)"
        )
    files: dict[object, str] = {}
    for i, image in enumerate(payload["images"]):
        if not isinstance(image, dict) or "id" not in image or "file_name" not in image:
            raise ParameterError(f"{path}: images[{i}] must have 'id' and 'file_name'")
        files[image["id"]] = image["file_name"]
    captions: dict[object, list[str]] = {}
    for i, ann in enumerate(payload["annotations"]):
        if not isinstance(ann, dict) or "image_id" not in ann or "caption" not in ann:
            raise ParameterError(f"{path}: annotations[{i}] must have 'image_id' and 'caption'")
        if ann["image_id"] not in files:
            raise ParameterError(
                f"{path}: annotations[{i}] refers to image_id={ann['image_id']!r} which is "
                "not in 'images'"
            )
        captions.setdefault(ann["image_id"], []).append(ann["caption"])
    root = Path(image_root)
    records = []
    for image_id in sorted(captions, key=str):
        kept = _clean(captions[image_id], f"{path}: image_id={image_id!r}")
        if kept:
            records.append(CaptionRecord(root / files[image_id], kept, image_id))
    if not records:
        raise ParameterError(f"path={str(path)!r} holds no captions")
    return records


class CaptionDataset(torch.utils.data.Dataset):
    """(image, caption ids) pairs: one item per (image, caption) of the records.

    Args:
        records: from :func:`load_karpathy_split` or :func:`load_coco_captions`.
        vocab: encodes the captions (``<start>`` ... ``<end>``).
        transform: applied to each loaded image tensor (C, H, W), e.g. resize + normalise.
        max_words: captions longer than this many words are truncated (``<end>`` kept).
    """

    def __init__(
        self,
        records: Sequence[CaptionRecord],
        vocab: Vocabulary,
        *,
        transform: Callable[[Tensor], Tensor] | None = None,
        max_words: int = 50,
    ) -> None:
        if isinstance(max_words, bool) or not isinstance(max_words, int) or max_words < 1:
            raise ParameterError(f"max_words={max_words!r} must be a positive integer")
        self.records, self.vocab, self.transform = list(records), vocab, transform
        self.items = [(r, c) for r in range(len(self.records)) for c in self.records[r].captions]
        self.max_words = max_words

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        record_index, caption = self.items[index]
        image = load_image(self.records[record_index].image_path)
        if self.transform is not None:
            image = self.transform(image)
        ids = self.vocab.encode(caption)
        if len(ids) > self.max_words + 2:
            ids = [*ids[: self.max_words + 1], self.vocab.end_id]
        return image, torch.tensor(ids, dtype=torch.long)


def collate_captions(
    batch: Sequence[tuple[Tensor, Tensor]], *, pad_id: int = 0
) -> dict[str, Tensor]:
    """Stack images and pad captions.

    Returns:
        ``{"images": (B, C, H, W), "captions": (B, L) padded with pad_id,
        "caption_lengths": (B,)}``.
    """
    if not batch:
        raise ParameterError("batch=[] must hold at least one item")
    images = torch.stack([image for image, _ in batch])
    lengths = torch.tensor([len(ids) for _, ids in batch], dtype=torch.long)
    captions = torch.full((len(batch), int(lengths.max())), pad_id, dtype=torch.long)
    for i, (_, ids) in enumerate(batch):
        captions[i, : len(ids)] = ids
    return {"images": images, "captions": captions, "caption_lengths": lengths}
