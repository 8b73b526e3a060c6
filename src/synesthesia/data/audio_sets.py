"""Real audio data-set formats: ESC-50, class-per-folder audio, (frame image, audio) pairs.

Each is a ``torch.utils.data.Dataset`` whose items are dicts; :func:`collate_audio` pads
waveforms into a batch that carries ``waveform_lengths`` (and stacks images when present).

- :class:`ESC50`: ``root/meta/esc50.csv`` (columns ``filename,fold,target,category,esc10,
  src_file,take``) and ``root/audio/<filename>``; filter by folds (1–5) or the ESC-10 subset.
- :class:`AudioFolder`: ``root/<class name>/<clip>.wav``; classes are the sorted folder names.
- :class:`PairedAudioImageFolder`: an image folder and an audio folder whose files pair up by
  stem (``frames/0001.png`` ↔ ``audio/0001.wav``); a stem present in only one folder is an
  error that names it.

References:
    Piczak, "ESC: Dataset for Environmental Sound Classification", ACM MM 2015 (the ESC-50
    layout and its 5 folds); torchvision ``DatasetFolder`` (class-per-folder convention).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset

from synesthesia.errors import ParameterError

__all__ = [
    "AUDIO_EXTENSIONS",
    "ESC50",
    "ESC50_COLUMNS",
    "IMAGE_EXTENSIONS",
    "AudioFolder",
    "PairedAudioImageFolder",
    "collate_audio",
    "read_audio",
]

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
ESC50_COLUMNS = ("filename", "fold", "target", "category", "esc10", "src_file", "take")


def read_audio(path: str | os.PathLike, *, sample_rate: int | None = None) -> tuple[Tensor, int]:
    """Read an audio file as a mono float32 waveform (T,), resampled to ``sample_rate``.

    :func:`synesthesia.io.load_audio` with ``mono=True`` (soundfile; soxr resampling).

    Returns:
        ``(waveform, sample_rate)``.
    """
    from synesthesia.io.audio import load_audio

    return load_audio(path, sample_rate=sample_rate, mono=True)


def _read_image(path: Path, mode: str) -> Tensor:
    from synesthesia.io.image import load_image

    return load_image(path, mode=mode)


def _check_sample_rate(sample_rate: int | None) -> None:
    if sample_rate is not None and (
        isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate < 1
    ):
        raise ParameterError(f"sample_rate={sample_rate!r} must be a positive integer or None")


def _files(folder: Path, extensions: Iterable[str]) -> list[Path]:
    extensions = tuple(e.lower() for e in extensions)
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in extensions)


class ESC50(Dataset):
    """The ESC-50 environmental-sound data set (or ESC-10) read from its release layout.

    Args:
        root: folder with ``meta/esc50.csv`` and ``audio/``.
        folds: folds to keep (subset of 1–5); ``None`` keeps all.
        esc10: keep only the ESC-10 subset (rows with ``esc10 == True``).
        sample_rate: resample to this rate (``None``: the files' own, 44100 Hz).

    Items:
        ``{"waveform": (T,), "sample_rate": int, "label": int (target), "category": str,
        "fold": int, "path": str}``. :attr:`classes` maps target → category.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        *,
        folds: Sequence[int] | None = None,
        esc10: bool = False,
        sample_rate: int | None = None,
    ) -> None:
        _check_sample_rate(sample_rate)
        self.root = Path(root)
        self.sample_rate = sample_rate
        meta = self.root / "meta" / "esc50.csv"
        if not meta.is_file():
            raise ParameterError(f"root={str(self.root)!r} has no meta/esc50.csv (ESC-50 layout)")
        if folds is not None:
            folds = tuple(folds)
            if not folds or any(f not in (1, 2, 3, 4, 5) for f in folds):
                raise ParameterError(f"folds={folds!r} must be a non-empty subset of 1..5")
        with open(meta, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in ESC50_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise ParameterError(
                    f"{str(meta)!r} lacks columns {missing}; expected {list(ESC50_COLUMNS)}"
                )
            rows = list(reader)
        self.items: list[dict[str, Any]] = []
        categories: dict[int, str] = {}
        for line, row in enumerate(rows, start=2):
            try:
                fold, target = int(row["fold"]), int(row["target"])
            except ValueError:
                raise ParameterError(
                    f"{str(meta)!r} line {line}: fold={row['fold']!r} and target="
                    f"{row['target']!r} must be integers"
                ) from None
            category = row["category"]
            if categories.setdefault(target, category) != category:
                raise ParameterError(
                    f"{str(meta)!r} line {line}: target={target} is {category!r} here but "
                    f"{categories[target]!r} earlier"
                )
            if folds is not None and fold not in folds:
                continue
            if esc10 and row["esc10"].strip().lower() != "true":
                continue
            path = self.root / "audio" / row["filename"]
            self.items.append({"path": path, "label": target, "category": category, "fold": fold})
        absent = [str(item["path"]) for item in self.items if not item["path"].is_file()]
        if absent:
            raise ParameterError(
                f"{len(absent)} audio files listed in {str(meta)!r} are missing, e.g. {absent[:3]}"
            )
        self.classes = [categories[t] for t in sorted(categories)]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, Any]:
        item = self.items[index]
        waveform, rate = read_audio(item["path"], sample_rate=self.sample_rate)
        return {
            "waveform": waveform,
            "sample_rate": rate,
            "label": item["label"],
            "category": item["category"],
            "fold": item["fold"],
            "path": str(item["path"]),
        }


class AudioFolder(Dataset):
    """Audio clips in one sub-folder per class (``root/dog/1.wav``, ``root/rain/7.flac``).

    Args:
        root: the folder of class folders.
        extensions: audio suffixes to include (case-insensitive).
        sample_rate: resample to this rate (``None``: each file's own).

    Items:
        ``{"waveform": (T,), "sample_rate": int, "label": int, "category": str, "path": str}``;
        :attr:`classes` lists the class names, label = index.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        *,
        extensions: Sequence[str] = AUDIO_EXTENSIONS,
        sample_rate: int | None = None,
    ) -> None:
        _check_sample_rate(sample_rate)
        self.root = Path(root)
        self.sample_rate = sample_rate
        if not self.root.is_dir():
            raise ParameterError(f"root={str(self.root)!r} is not a folder")
        self.classes: list[str] = []
        self.items: list[tuple[Path, int]] = []
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir()):
            clips = _files(folder, extensions)
            if clips:
                self.items += [(clip, len(self.classes)) for clip in clips]
                self.classes.append(folder.name)
        if not self.items:
            raise ParameterError(
                f"root={str(self.root)!r} has no class folders with {list(extensions)} files"
            )

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, Any]:
        path, label = self.items[index]
        waveform, rate = read_audio(path, sample_rate=self.sample_rate)
        return {
            "waveform": waveform,
            "sample_rate": rate,
            "label": label,
            "category": self.classes[label],
            "path": str(path),
        }


class PairedAudioImageFolder(Dataset):
    """(Frame image, audio clip) pairs from two folders, matched by file stem.

    Args:
        image_dir: folder of images (``0001.png`` ...).
        audio_dir: folder of audio clips (``0001.wav`` ...).
        sample_rate: resample the audio to this rate (``None``: each file's own).
        image_mode: "RGB" (C = 3) or "L" (C = 1).

    Items:
        ``{"waveform": (T,), "sample_rate": int, "image": (C, H, W) in [0, 1], "stem": str}``.

    Raises:
        ParameterError: a stem with an image but no audio (or the reverse), two files with one
            stem in the same folder, or no pairs at all.
    """

    def __init__(
        self,
        image_dir: str | os.PathLike,
        audio_dir: str | os.PathLike,
        *,
        sample_rate: int | None = None,
        image_mode: str = "RGB",
    ) -> None:
        _check_sample_rate(sample_rate)
        if image_mode not in ("RGB", "L"):
            raise ParameterError(f"image_mode={image_mode!r} must be 'RGB' or 'L'")
        self.image_dir, self.audio_dir = Path(image_dir), Path(audio_dir)
        self.sample_rate, self.image_mode = sample_rate, image_mode
        stems = {}
        for name, folder, extensions in (
            ("image_dir", self.image_dir, IMAGE_EXTENSIONS),
            ("audio_dir", self.audio_dir, AUDIO_EXTENSIONS),
        ):
            if not folder.is_dir():
                raise ParameterError(f"{name}={str(folder)!r} is not a folder")
            by_stem: dict[str, Path] = {}
            for path in _files(folder, extensions):
                if path.stem in by_stem:
                    raise ParameterError(
                        f"{name}={str(folder)!r} holds two files with stem {path.stem!r}: "
                        f"{by_stem[path.stem].name} and {path.name}"
                    )
                by_stem[path.stem] = path
            stems[name] = by_stem
        images, audio = stems["image_dir"], stems["audio_dir"]
        only_images = sorted(set(images) - set(audio))
        only_audio = sorted(set(audio) - set(images))
        if only_images or only_audio:
            raise ParameterError(
                f"image_dir={str(self.image_dir)!r} and audio_dir={str(self.audio_dir)!r} do "
                f"not pair up by stem: {len(only_images)} images without audio "
                f"{only_images[:5]}, {len(only_audio)} audio clips without an image "
                f"{only_audio[:5]}"
            )
        if not images:
            raise ParameterError(
                f"image_dir={str(self.image_dir)!r} and audio_dir={str(self.audio_dir)!r} "
                "hold no (image, audio) pairs"
            )
        self.pairs = [(stem, images[stem], audio[stem]) for stem in sorted(images)]

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> dict[str, Any]:
        stem, image_path, audio_path = self.pairs[index]
        waveform, rate = read_audio(audio_path, sample_rate=self.sample_rate)
        return {
            "waveform": waveform,
            "sample_rate": rate,
            "image": _read_image(image_path, self.image_mode),
            "stem": stem,
        }


def collate_audio(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Batch items of the data sets above: pad waveforms, keep their lengths.

    Returns:
        ``{"waveform": (B, T_max), "waveform_lengths": (B,), "sample_rate": int}`` plus
        ``"label"`` (B,) when items have labels, ``"image"`` (B, C, H, W) when they have
        images (all the same size), and the other keys as lists.
    """
    if not items:
        raise ParameterError("items=[] must hold at least one item")
    rates = {item["sample_rate"] for item in items}
    if len(rates) != 1:
        raise ParameterError(
            f"items have sample rates {sorted(rates)}; pass sample_rate= to the data set"
        )
    lengths = torch.tensor([item["waveform"].shape[-1] for item in items], dtype=torch.long)
    waveform = torch.zeros(len(items), int(lengths.max()))
    for row, item in enumerate(items):
        waveform[row, : item["waveform"].shape[-1]] = item["waveform"]
    batch: dict[str, Any] = {
        "waveform": waveform,
        "waveform_lengths": lengths,
        "sample_rate": rates.pop(),
    }
    if "label" in items[0]:
        batch["label"] = torch.tensor([item["label"] for item in items], dtype=torch.long)
    if "image" in items[0]:
        shapes = {tuple(item["image"].shape) for item in items}
        if len(shapes) != 1:
            raise ParameterError(f"images of shapes {sorted(shapes)} must all be the same size")
        batch["image"] = torch.stack([item["image"] for item in items])
    for key in items[0]:
        if key not in batch:
            batch[key] = [item[key] for item in items]
    return batch
