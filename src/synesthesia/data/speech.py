"""Speech data sets: the LJSpeech layout and any folder of audio files.

Items are dicts ``{"id", "text", "waveform" (T,), "sample_rate", ...}``; batch them with
:func:`synesthesia.data.collate_audio` (pads ``waveform``, adds ``waveform_lengths``).
Text-to-speech pairs ``(tokens (L,), mel (M, N))`` batch with :func:`collate_tts`.

References:
    The LJ Speech Dataset (Ito & Johnson, 2017): ``wavs/<id>.wav`` and ``metadata.csv`` with
    three pipe-separated fields ``id|transcription|normalized transcription`` per line, no
    header, UTF-8, quotes not escaped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

from synesthesia.errors import ParameterError

__all__ = [
    "LJSpeechDataset",
    "AudioFolderDataset",
    "read_ljspeech_metadata",
    "read_speakers",
    "load_waveform",
    "SPEECH_EXTENSIONS",
    "collate_tts",
]

#: audio suffixes :class:`AudioFolderDataset` picks up (case-insensitive)
SPEECH_EXTENSIONS = (".wav", ".flac", ".ogg", ".aiff", ".aif")


def load_waveform(
    path: str | os.PathLike, *, sample_rate: int | None = None
) -> tuple[torch.Tensor, int]:
    """Mono float32 waveform (T,) and its rate; ``synesthesia.io.load_audio``."""
    from synesthesia.io import load_audio

    return load_audio(path, sample_rate=sample_rate, mono=True)


def read_ljspeech_metadata(path: str | os.PathLike) -> list[tuple[str, str, str]]:
    """Parse an LJSpeech ``metadata.csv``: one ``id|text|normalized text`` per line.

    Blank lines are skipped. Every other line must have exactly three fields and a unique,
    non-empty id; otherwise :class:`ParameterError` names the file and line.

    Returns:
        ``[(id, text, normalized_text), ...]`` in file order.
    """
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"metadata={str(path)!r} does not exist or is not a file")
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise ParameterError(f"{path}: not UTF-8 text ({exc})") from None
    rows, seen = [], {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) != 3:
            raise ParameterError(
                f"{path}:{number}: expected 3 fields 'id|text|normalized text', got "
                f"{len(fields)} in {line[:80]!r}"
            )
        utterance_id = fields[0].strip()
        if not utterance_id:
            raise ParameterError(f"{path}:{number}: empty id in {line[:80]!r}")
        if utterance_id in seen:
            raise ParameterError(
                f"{path}:{number}: id {utterance_id!r} already used on line {seen[utterance_id]}"
            )
        seen[utterance_id] = number
        rows.append((utterance_id, fields[1], fields[2]))
    if not rows:
        raise ParameterError(f"metadata={str(path)!r} has no lines")
    return rows


def read_speakers(path: Path) -> dict[str, str]:
    """id → voice from an optional ``speakers.csv`` (``id|voice|rate|pitch`` with header)."""
    if not path.is_file():
        return {}
    voices = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if number == 1 or not line.strip():
            continue
        fields = line.split("|")
        if len(fields) < 2:
            raise ParameterError(f"{path}:{number}: expected 'id|voice|...', got {line[:80]!r}")
        voices[fields[0]] = fields[1]
    return voices


def _check_sample_rate(sample_rate: int | None) -> None:
    if sample_rate is not None and (
        isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0
    ):
        raise ParameterError(f"sample_rate={sample_rate!r} must be a positive integer or None")


class LJSpeechDataset(Dataset):
    """A folder in the LJSpeech layout: ``root/metadata.csv`` and ``root/wavs/<id>.wav``.

    Reads the real LJSpeech-1.1 and the corpora written by ``synesthesia data espeak``
    (whose ``speakers.csv`` adds a ``speaker`` key and whose ``split.json`` enables
    ``split=``).

    Args:
        root: the folder holding ``metadata.csv`` and ``wavs/``.
        sample_rate: resample every clip to this rate (None: the file's own rate).
        split: "train", "val" or "test" to keep only that split's ids from
            ``root/split.json``; None keeps every line.

    Items:
        ``{"id": str, "text": str, "normalized_text": str, "waveform": (T,) float32,
        "sample_rate": int}`` plus ``"speaker": str`` when ``speakers.csv`` exists.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        *,
        sample_rate: int | None = None,
        split: str | None = None,
    ) -> None:
        _check_sample_rate(sample_rate)
        self.root = Path(root)
        self.sample_rate = sample_rate
        if not self.root.is_dir():
            raise ParameterError(f"root={str(self.root)!r} is not a folder")
        metadata = self.root / "metadata.csv"
        rows = read_ljspeech_metadata(metadata)
        if split is not None:
            split_path = self.root / "split.json"
            if not split_path.is_file():
                raise ParameterError(f"split={split!r} needs {split_path}, which does not exist")
            splits = json.loads(split_path.read_text(encoding="utf-8"))
            if split not in ("train", "val", "test") or split not in splits:
                raise ParameterError(f"split={split!r} must be one of train, val, test")
            keep = set(splits[split]["ids"])
            rows = [row for row in rows if row[0] in keep]
        missing = [row[0] for row in rows if not (self.root / "wavs" / f"{row[0]}.wav").is_file()]
        if missing:
            raise ParameterError(
                f"{metadata}: {len(missing)} ids have no wavs/<id>.wav, e.g. {missing[:3]}"
            )
        self.rows = rows
        self.speakers = read_speakers(self.root / "speakers.csv")

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> dict[str, Any]:
        utterance_id, text, normalized = self.rows[index]
        waveform, rate = load_waveform(
            self.root / "wavs" / f"{utterance_id}.wav", sample_rate=self.sample_rate
        )
        item: dict[str, Any] = {
            "id": utterance_id,
            "text": text,
            "normalized_text": normalized,
            "waveform": waveform,
            "sample_rate": rate,
        }
        if self.speakers:
            item["speaker"] = self.speakers.get(utterance_id, "")
        return item


class AudioFolderDataset(Dataset):
    """Every audio file under ``root`` (recursive, sorted), with optional transcripts.

    A transcript is read from a sibling text file with the same stem (``clip.txt`` or
    ``clip.lab``) when one exists; otherwise ``text`` is "".

    Args:
        root: the folder to search.
        sample_rate: resample every clip to this rate (None: the file's own rate).
        extensions: audio suffixes to include (case-insensitive).

    Items:
        ``{"id": relative path without suffix (posix), "text": str, "waveform": (T,)
        float32, "sample_rate": int, "path": str}``.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        *,
        sample_rate: int | None = None,
        extensions: Sequence[str] = SPEECH_EXTENSIONS,
    ) -> None:
        _check_sample_rate(sample_rate)
        self.root = Path(root)
        self.sample_rate = sample_rate
        if not self.root.is_dir():
            raise ParameterError(f"root={str(self.root)!r} is not a folder")
        suffixes = {e.lower() for e in extensions}
        self.paths = sorted(
            p for p in self.root.rglob("*") if p.is_file() and p.suffix.lower() in suffixes
        )
        if not self.paths:
            raise ParameterError(
                f"root={str(self.root)!r} holds no audio files with suffixes {sorted(suffixes)}"
            )

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> dict[str, Any]:
        path = self.paths[index]
        waveform, rate = load_waveform(path, sample_rate=self.sample_rate)
        text = ""
        for suffix in (".txt", ".lab"):
            sidecar = path.with_suffix(suffix)
            if sidecar.is_file():
                text = sidecar.read_text(encoding="utf-8").strip()
                break
        return {
            "id": path.relative_to(self.root).with_suffix("").as_posix(),
            "text": text,
            "waveform": waveform,
            "sample_rate": rate,
            "path": str(path),
        }


def collate_tts(items: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """``[(tokens (L_i,), mel (M, N_i)), ...]`` → padded batch.

    Returns:
        ``{"tokens": (B, L) long (pad 0), "token_lengths": (B,), "mel": (B, M, N) (pad 0),
        "mel_lengths": (B,)}``.
    """
    if not items:
        raise ParameterError("collate_tts needs at least one item")
    tokens = torch.nn.utils.rnn.pad_sequence([t for t, _ in items], batch_first=True)
    token_lengths = torch.tensor([t.numel() for t, _ in items], dtype=torch.long)
    mel_lengths = torch.tensor([m.shape[-1] for _, m in items], dtype=torch.long)
    mel = items[0][1].new_zeros(len(items), items[0][1].shape[0], int(mel_lengths.max()))
    for row, (_, m) in enumerate(items):
        mel[row, :, : m.shape[-1]] = m
    return {"tokens": tokens, "token_lengths": token_lengths, "mel": mel,
            "mel_lengths": mel_lengths}  # fmt: skip
