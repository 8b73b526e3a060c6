"""Voice–face pairs for Speech2Face: real-data loaders and a synthetic test bed.

Two on-disk formats are read into one :class:`FaceVoiceSet`:

- **tree** (VoxCeleb / VGGFace2 style), :func:`load_face_voice_tree`::

      root/<identity>/<clip>.wav     several speech clips per identity (any libsndfile format)
      root/<identity>/<face>.jpg     one or more face frames (jpg/png); ``face.*`` comes first
      root/speakers.json             optional: {"identities": {id: {"split": "train"|"test",
                                     "attributes": {...}}}, "attributes": {name: [values]}}

- **list** (AVSpeech style), :func:`load_face_voice_list`: a CSV with a header holding
  ``clip`` and ``face`` columns (paths relative to the CSV's folder) and optionally
  ``identity`` and ``split``; without ``identity`` every row is its own identity (AVSpeech
  has one speaker per video segment).

Faces are centre-cropped to a square and resized to ``image_size`` by the loader; clips are
resampled to ``sample_rate`` and cut to ``max_seconds``. The first face of an identity is its
*canonical* face (the decoder's target).

:func:`make_speech2face_corpus` writes a **synthetic** tree: speakers are eSpeak NG voices
(variant × pitch × rate × accent), faces are drawn by :mod:`synesthesia.data.synthetic_faces`
with attributes tied to the voice by a stated, planted rule. It tests that the machinery
learns a voice → face mapping when one exists; it says nothing about real people.

References:
    Oh et al., "Speech2Face: Learning the Face Behind a Voice", CVPR 2019 (AVSpeech pairs of a
    speech segment and a face frame of the same video); Nagrani, Chung & Zisserman,
    "VoxCeleb", Interspeech 2017; Cao et al., "VGGFace2", FG 2018.
"""

from __future__ import annotations

import csv
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from synesthesia.errors import ParameterError
from synesthesia.utils import atomic_write_json

__all__ = [
    "AUDIO_SUFFIXES",
    "IMAGE_SUFFIXES",
    "FaceVoiceSet",
    "collate_clips",
    "load_face_image",
    "load_face_voice_list",
    "load_face_voice_tree",
    "make_speech2face_corpus",
    "synthetic_voices",
]

log = logging.getLogger(__name__)

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


@dataclass
class FaceVoiceSet:
    """Clips and faces of a set of identities.

    Attributes:
        identities: the I identity names.
        clips: one (T_i,) float32 waveform per clip.
        clip_identity: (num_clips,) identity index of each clip.
        faces: (num_faces, 3, S, S) float32 face frames in [0, 1].
        face_identity: (num_faces,) identity index of each frame.
        canonical: (I,) index into ``faces`` of each identity's canonical face.
        sample_rate: the clips' rate.
        splits: identity name → "train" / "test" (empty when the data did not say).
        attributes: identity name → {attribute: value} (empty when unknown).
        attribute_values: attribute → its possible values (empty when unknown).
    """

    identities: list[str]
    clips: list[Tensor]
    clip_identity: Tensor
    faces: Tensor
    face_identity: Tensor
    canonical: Tensor
    sample_rate: int
    splits: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)
    attribute_values: dict[str, list[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.clips)

    def subset(self, names: list[str]) -> FaceVoiceSet:
        """The clips and faces of the identities ``names`` (re-indexed in that order)."""
        position = {name: i for i, name in enumerate(self.identities)}
        old = torch.tensor([position[n] for n in names], dtype=torch.long)
        remap = torch.full((len(self.identities),), -1, dtype=torch.long)
        remap[old] = torch.arange(len(names))
        clip_keep = torch.nonzero(remap[self.clip_identity] >= 0).flatten()
        face_keep = torch.nonzero(remap[self.face_identity] >= 0).flatten()
        face_new = torch.full((len(self.faces),), -1, dtype=torch.long)
        face_new[face_keep] = torch.arange(len(face_keep))
        return FaceVoiceSet(
            identities=list(names),
            clips=[self.clips[i] for i in clip_keep.tolist()],
            clip_identity=remap[self.clip_identity[clip_keep]],
            faces=self.faces[face_keep],
            face_identity=remap[self.face_identity[face_keep]],
            canonical=face_new[self.canonical[old]],
            sample_rate=self.sample_rate,
            splits={n: self.splits[n] for n in names if n in self.splits},
            attributes={n: self.attributes[n] for n in names if n in self.attributes},
            attribute_values=dict(self.attribute_values),
        )

    def split(self, name: str, *, test_fraction: float = 0.15, seed: int = 0) -> FaceVoiceSet:
        """The "train" or "test" identities: as the data says, else a seeded random
        ``test_fraction`` of the identities is held out (speakers, not clips)."""
        if name not in ("train", "test"):
            raise ParameterError(f"split={name!r} must be 'train' or 'test'")
        if self.splits:
            names = [n for n in self.identities if self.splits.get(n, "train") == name]
        else:
            if not 0.0 < test_fraction < 1.0:
                raise ParameterError(f"test_fraction={test_fraction!r} must lie in (0, 1)")
            order = np.random.default_rng(seed).permutation(len(self.identities))
            num_test = max(1, int(round(test_fraction * len(self.identities))))
            chosen = (
                sorted(order[:num_test].tolist())
                if name == "test"
                else sorted(order[num_test:].tolist())
            )
            names = [self.identities[i] for i in chosen]
        if not names:
            raise ParameterError(f"the data hold no {name!r} identities")
        return self.subset(names)

    def attribute_labels(self, order: dict[str, list[str]] | None = None) -> Tensor | None:
        """(I, A) value index of each attribute per identity (-1: unknown), or None when the
        data have no attributes; ``order`` (attribute → values, e.g. a model's) fixes the
        columns and the value indices (default: :attr:`attribute_values`)."""
        order = self.attribute_values if order is None else order
        if not order or not self.attributes:
            return None
        rows = []
        for name in self.identities:
            known = self.attributes.get(name, {})
            rows.append(
                [
                    list(values).index(known[attribute]) if known.get(attribute) in values else -1
                    for attribute, values in order.items()
                ]
            )
        return torch.tensor(rows, dtype=torch.long)


def collate_clips(clips: list[Tensor]) -> tuple[Tensor, Tensor]:
    """Zero-pad clips to (B, T_max) float32 with their (B,) lengths."""
    if not clips:
        raise ParameterError("clips must hold at least one waveform")
    lengths = torch.tensor([c.shape[-1] for c in clips], dtype=torch.long)
    out = torch.zeros(len(clips), int(lengths.max()), dtype=torch.float32)
    for i, clip in enumerate(clips):
        out[i, : clip.shape[-1]] = clip.to(torch.float32)
    return out, lengths


def load_face_image(path: str | os.PathLike, *, image_size: int = 64) -> Tensor:
    """A face crop (3, S, S) in [0, 1]: centre-cropped to a square, resized to ``image_size``."""
    from PIL import Image

    from synesthesia.io.image import image_to_tensor

    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 8:
        raise ParameterError(f"image_size={image_size!r} must be an integer >= 8")
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"face={str(path)!r} does not exist or is not a file")
    try:
        with Image.open(path) as image:
            image.load()
            width, height = image.size
            side = min(width, height)
            left, top = (width - side) // 2, (height - side) // 2
            image = image.crop((left, top, left + side, top + side))
            image = image.resize((image_size, image_size), Image.BILINEAR)
            return image_to_tensor(image)
    except OSError as exc:
        raise ParameterError(f"face={str(path)!r} is not a readable image: {exc}") from None


def _load_clip(path: Path, sample_rate: int, max_seconds: float) -> Tensor:
    from synesthesia.io.audio import load_audio

    waveform, _ = load_audio(path, sample_rate=sample_rate)
    return waveform[: int(round(max_seconds * sample_rate))].to(torch.float16)


def _check_common(sample_rate: int, image_size: int, max_seconds: float) -> None:
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate < 1:
        raise ParameterError(f"sample_rate={sample_rate!r} must be a positive integer")
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 8:
        raise ParameterError(f"image_size={image_size!r} must be an integer >= 8")
    if not (isinstance(max_seconds, (int, float)) and max_seconds > 0):
        raise ParameterError(f"max_seconds={max_seconds!r} must be a positive number")


def _assemble(
    identities: list[str],
    clip_paths: list[tuple[int, Path]],
    face_paths: list[tuple[int, Path]],
    *,
    sample_rate: int,
    image_size: int,
    max_seconds: float,
) -> FaceVoiceSet:
    clips = [_load_clip(path, sample_rate, max_seconds) for _, path in clip_paths]
    face_list = [load_face_image(path, image_size=image_size) for _, path in face_paths]
    face_identity = torch.tensor([i for i, _ in face_paths], dtype=torch.long)
    canonical = torch.tensor(
        [int(torch.nonzero(face_identity == i)[0]) for i in range(len(identities))],
        dtype=torch.long,
    )
    return FaceVoiceSet(
        identities=identities,
        clips=clips,
        clip_identity=torch.tensor([i for i, _ in clip_paths], dtype=torch.long),
        faces=torch.stack(face_list),
        face_identity=face_identity,
        canonical=canonical,
        sample_rate=sample_rate,
    )


def load_face_voice_tree(
    root: str | os.PathLike,
    *,
    sample_rate: int = 16000,
    image_size: int = 64,
    max_seconds: float = 6.0,
) -> FaceVoiceSet:
    """Read a VoxCeleb/VGGFace2-style tree (see the module docstring).

    Raises:
        ParameterError: no such folder, an identity without clips or without a face, or a
            file that cannot be read.
    """
    _check_common(sample_rate, image_size, max_seconds)
    root = Path(root)
    if not root.is_dir():
        raise ParameterError(f"root={str(root)!r} is not a folder")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise ParameterError(f"root={str(root)!r} holds no identity folders")
    clip_paths: list[tuple[int, Path]] = []
    face_paths: list[tuple[int, Path]] = []
    for index, folder in enumerate(folders):
        files = sorted(p for p in folder.iterdir() if p.is_file())
        clips = [p for p in files if p.suffix.lower() in AUDIO_SUFFIXES]
        faces = sorted(
            (p for p in files if p.suffix.lower() in IMAGE_SUFFIXES),
            key=lambda p: (p.stem != "face", p.name),
        )
        if not clips:
            raise ParameterError(f"identity folder {str(folder)!r} holds no audio clip")
        if not faces:
            raise ParameterError(f"identity folder {str(folder)!r} holds no face image")
        clip_paths += [(index, p) for p in clips]
        face_paths += [(index, p) for p in faces]
    names = [f.name for f in folders]
    data = _assemble(
        names,
        clip_paths,
        face_paths,
        sample_rate=sample_rate,
        image_size=image_size,
        max_seconds=max_seconds,
    )
    meta_path = root / "speakers.json"
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        info = meta.get("identities", {})
        data.splits = {n: info[n]["split"] for n in names if "split" in info.get(n, {})}
        data.attributes = {
            n: info[n]["attributes"] for n in names if "attributes" in info.get(n, {})
        }
        data.attribute_values = {k: list(v) for k, v in meta.get("attributes", {}).items()}
    return data


def load_face_voice_list(
    csv_path: str | os.PathLike,
    *,
    sample_rate: int = 16000,
    image_size: int = 64,
    max_seconds: float = 6.0,
) -> FaceVoiceSet:
    """Read an AVSpeech-style CSV of (clip, face[, identity, split]) rows.

    Raises:
        ParameterError: a missing file, no ``clip``/``face`` column, no rows, or a file that
            cannot be read.
    """
    _check_common(sample_rate, image_size, max_seconds)
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise ParameterError(f"csv={str(csv_path)!r} does not exist or is not a file")
    with open(csv_path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or not {"clip", "face"} <= set(rows[0]):
        raise ParameterError(
            f"csv={str(csv_path)!r} must have a header with 'clip' and 'face' columns and at "
            "least one row"
        )
    base = csv_path.parent
    identities: list[str] = []
    index: dict[str, int] = {}
    clip_paths: list[tuple[int, Path]] = []
    face_paths: list[tuple[int, Path]] = []
    seen_faces: set[tuple[int, Path]] = set()
    splits: dict[str, str] = {}
    for number, row in enumerate(rows):
        name = (row.get("identity") or "").strip() or f"row{number:06d}"
        if name not in index:
            index[name] = len(identities)
            identities.append(name)
        i = index[name]
        clip_paths.append((i, base / row["clip"].strip()))
        face = (i, base / row["face"].strip())
        if face not in seen_faces:
            seen_faces.add(face)
            face_paths.append(face)
        if (row.get("split") or "").strip():
            splits[name] = row["split"].strip()
    data = _assemble(
        identities,
        clip_paths,
        face_paths,
        sample_rate=sample_rate,
        image_size=image_size,
        max_seconds=max_seconds,
    )
    data.splits = splits
    return data


def _phrases(count: int, rng: np.random.Generator) -> list[str]:
    """Short phrases (the first 3–5 words of the built-in everyday sentences)."""
    from synesthesia.data.sentences import everyday_pool

    words = [[w.strip(",.!?;:\"'") for w in line.split()] for line in everyday_pool()]
    picks = rng.choice(len(words), size=count, replace=len(words) < count)
    out = []
    for pick in picks:
        n = int(rng.integers(3, 6))
        out.append(" ".join(w for w in words[int(pick)][:n] if w))
    return out


def _draw_voices(
    rng: np.random.Generator, test_fraction: float, max_identities: int | None
) -> tuple[list[tuple[str, str, float, float]], set[int]]:
    """The corpus's (variant, accent, pitch, rate) voices in identity order and the indices
    of the held-out ones — the first draws of the corpus's generator."""
    from synesthesia.data.synthetic_faces import ACCENTS, PITCHES, RATES, VARIANTS

    if not 0.0 < test_fraction < 1.0:
        raise ParameterError(f"test_fraction={test_fraction!r} must lie in (0, 1)")
    voices = [(v, a, p, r) for a in ACCENTS for v in VARIANTS for p in PITCHES for r in RATES]
    if max_identities is not None:
        if (
            isinstance(max_identities, bool)
            or not isinstance(max_identities, int)
            or max_identities < 2
        ):
            raise ParameterError(f"max_identities={max_identities!r} must be an integer >= 2")
        keep = sorted(rng.choice(len(voices), size=min(max_identities, len(voices)), replace=False))
        voices = [voices[i] for i in keep]
    order = rng.permutation(len(voices))
    num_test = max(1, int(round(test_fraction * len(voices))))
    return voices, set(order[:num_test].tolist())


def synthetic_voices(
    split: str,
    *,
    seed: int = 0,
    test_fraction: float = 0.15,
    max_identities: int | None = None,
) -> list[dict]:
    """The voices of one split of :func:`make_speech2face_corpus` with these settings, without
    writing anything: ``[{"identity", "variant", "accent", "pitch", "rate"}, ...]``."""
    if split not in ("train", "test"):
        raise ParameterError(f"split={split!r} must be 'train' or 'test'")
    voices, test = _draw_voices(np.random.default_rng(seed), test_fraction, max_identities)
    return [
        {"identity": f"id{i:04d}", "variant": v, "accent": a, "pitch": p, "rate": r}
        for i, (v, a, p, r) in enumerate(voices)
        if (i in test) == (split == "test")
    ]


def make_speech2face_corpus(
    root: str | os.PathLike,
    *,
    clips_per_identity: int = 5,
    frames_per_identity: int = 3,
    sample_rate: int = 16000,
    image_size: int = 64,
    test_fraction: float = 0.15,
    max_identities: int | None = None,
    seed: int = 0,
) -> Path:
    """Write the SYNTHETIC Speech2Face tree (eSpeak voices paired with drawn faces).

    Identities are every combination of :data:`~synesthesia.data.synthetic_faces.VARIANTS`
    × ``ACCENTS`` × ``PITCHES`` × ``RATES`` (432; ``max_identities`` keeps a seeded random
    subset). Each gets ``clips_per_identity`` short eSpeak NG phrases (16-bit WAV at
    ``sample_rate``) and a face drawn by the planted rule: ``face.png`` (canonical) plus
    ``frames_per_identity`` jittered frames. ``speakers.json`` records each identity's voice,
    attributes and split (a seeded ``test_fraction`` of the identities is held out).

    Returns:
        ``root``.
    """
    from PIL import Image

    from synesthesia.data.engines import get_engine
    from synesthesia.data.synthetic_faces import (
        ATTRIBUTES,
        face_attributes_for_voice,
        random_face_params,
        render_face,
    )
    from synesthesia.io.audio import resample, save_audio

    for name, value in (
        ("clips_per_identity", clips_per_identity),
        ("frames_per_identity", frames_per_identity),
    ):
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < (1 if name[0] == "c" else 0)
        ):
            raise ParameterError(f"{name}={value!r} must be a positive integer")
    if not 0.0 < test_fraction < 1.0:
        raise ParameterError(f"test_fraction={test_fraction!r} must lie in (0, 1)")
    rng = np.random.default_rng(seed)
    voices, test = _draw_voices(rng, test_fraction, max_identities)
    engine = get_engine("espeak")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    info = {}
    phrases = _phrases(len(voices) * clips_per_identity, rng)
    for index, (variant, accent, pitch, rate) in enumerate(voices):
        name = f"id{index:04d}"
        folder = root / name
        folder.mkdir(exist_ok=True)
        attributes = face_attributes_for_voice(
            variant=variant, pitch=pitch, rate=rate, accent=accent
        )
        params = random_face_params(attributes, rng)
        frames = [render_face(params, size=image_size)] + [
            render_face(params, size=image_size, jitter=rng) for _ in range(frames_per_identity)
        ]
        for k, frame in enumerate(frames):
            file = folder / ("face.png" if k == 0 else f"frame{k}.png")
            Image.fromarray((frame * 255 + 0.5).astype(np.uint8)).save(file)
        for k in range(clips_per_identity):
            text = phrases[index * clips_per_identity + k]
            waveform, rate_hz = engine.synthesize(
                text, voice=f"{accent}+{variant}", speed=rate, pitch=pitch
            )
            audio = torch.from_numpy(waveform)
            if rate_hz != sample_rate:
                audio = resample(audio, orig_sample_rate=rate_hz, target_sample_rate=sample_rate)
            save_audio(folder / f"clip{k}.wav", audio.clamp(-1, 1), sample_rate)
        info[name] = {
            "split": "test" if index in test else "train",
            "voice": {"speaker": f"espeak:{accent}+{variant}", "pitch": pitch, "rate": rate},
            "attributes": {a: attributes[a] for a in ATTRIBUTES},
            "planted": {**attributes},
            "face": params.to_dict(),
        }
    atomic_write_json(
        root / "speakers.json",
        {
            "synthetic": True,
            "note": "faces are drawn with attributes PLANTED from the voice settings "
            "(synesthesia.data.synthetic_faces); not real voice-face correlations",
            "attributes": {k: list(v) for k, v in ATTRIBUTES.items()},
            "identities": info,
        },
    )
    log.info("wrote %d synthetic identities to %s", len(voices), root)
    return root
