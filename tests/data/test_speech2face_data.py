"""Voice–face loaders on tiny generated trees and lists; the synthetic corpus and its rule."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import torch
from PIL import Image

from synesthesia.data.speech2face import (
    collate_clips,
    load_face_voice_list,
    load_face_voice_tree,
    make_speech2face_corpus,
    synthetic_voices,
)
from synesthesia.data.synthetic_faces import (
    face_attributes_for_voice,
    random_face_params,
    render_face,
)
from synesthesia.errors import ParameterError


def _wav(path, seconds, rate=16000, seed=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    sf.write(path, (rng.normal(0, 0.1, int(seconds * rate))).astype(np.float32), rate)


def _jpg(path, width, height, colour):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (width, height), colour).save(path)


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "vox"
    for i, name in enumerate(["id1", "id2", "id3"]):
        for k in range(2):
            _wav(root / name / f"clip{k}.wav", 0.5 + 0.25 * k, rate=22050, seed=i * 10 + k)
        _jpg(root / name / "face.jpg", 80, 60, (40 * i, 100, 200))
        _jpg(root / name / "another.jpg", 50, 50, (0, 0, 0))
    return root


def test_tree_loader_reads_clips_and_faces(tree):
    data = load_face_voice_tree(tree, sample_rate=16000, image_size=32, max_seconds=0.6)
    assert data.identities == ["id1", "id2", "id3"]
    assert len(data) == 6 and data.clip_identity.tolist() == [0, 0, 1, 1, 2, 2]
    assert [c.shape[0] for c in data.clips[:2]] == [8000, 9600]  # resampled, cut at 0.6 s
    assert data.faces.shape == (6, 3, 32, 32)  # centre-cropped and resized
    # face.* is each identity's canonical (first) face
    assert data.canonical.tolist() == [0, 2, 4]
    assert data.faces[data.canonical[2], 0].mean().item() == pytest.approx(80 / 255, abs=0.01)
    test = data.split("test", test_fraction=0.34, seed=0)
    train = data.split("train", test_fraction=0.34, seed=0)
    assert sorted(test.identities + train.identities) == data.identities
    assert not set(test.identities) & set(train.identities)
    assert len(test) == 2 * len(test.identities)


def test_tree_loader_reads_splits_and_attributes(tree):
    meta = {
        "attributes": {"gender": ["female", "male"]},
        "identities": {
            "id1": {"split": "train", "attributes": {"gender": "male"}},
            "id2": {"split": "test", "attributes": {"gender": "female"}},
            "id3": {"split": "train", "attributes": {"gender": "female"}},
        },
    }
    (tree / "speakers.json").write_text(json.dumps(meta))
    data = load_face_voice_tree(tree, image_size=16)
    assert data.split("test").identities == ["id2"]
    assert data.attribute_labels().tolist() == [[1], [0], [0]]
    assert data.split("train").attribute_labels().tolist() == [[1], [0]]


def test_list_loader(tmp_path):
    for k in range(3):
        _wav(tmp_path / "clips" / f"c{k}.wav", 0.5, seed=k)
        _jpg(tmp_path / "frames" / f"f{k}.jpg", 40, 40, (10 * k, 0, 0))
    rows = "clip,face,identity\nclips/c0.wav,frames/f0.jpg,a\nclips/c1.wav,frames/f0.jpg,a\n"
    rows += "clips/c2.wav,frames/f2.jpg,b\n"
    (tmp_path / "list.csv").write_text(rows)
    data = load_face_voice_list(tmp_path / "list.csv", image_size=16)
    assert data.identities == ["a", "b"]
    assert data.clip_identity.tolist() == [0, 0, 1] and len(data.faces) == 2
    (tmp_path / "anon.csv").write_text(
        "clip,face\nclips/c0.wav,frames/f0.jpg\nclips/c1.wav,frames/f1.jpg\n"
    )
    anonymous = load_face_voice_list(tmp_path / "anon.csv", image_size=16)
    assert len(anonymous.identities) == 2  # AVSpeech: one identity per row


def test_loaders_bad_input(tmp_path, tree):
    with pytest.raises(ParameterError, match="is not a folder"):
        load_face_voice_tree(tmp_path / "missing")
    (tree / "id4").mkdir()
    _jpg(tree / "id4" / "face.jpg", 10, 10, (0, 0, 0))
    with pytest.raises(ParameterError, match="holds no audio clip"):
        load_face_voice_tree(tree)
    (tmp_path / "bad.csv").write_text("audio,image\nx.wav,y.jpg\n")
    with pytest.raises(ParameterError, match="'clip' and 'face' columns"):
        load_face_voice_list(tmp_path / "bad.csv")
    (tmp_path / "broken.jpg").write_bytes(b"not an image")
    _wav(tmp_path / "ok.wav", 0.3)
    (tmp_path / "b.csv").write_text("clip,face\nok.wav,broken.jpg\n")
    with pytest.raises(ParameterError, match="broken.jpg"):
        load_face_voice_list(tmp_path / "b.csv")
    with pytest.raises(ParameterError, match="image_size=4"):
        load_face_voice_tree(tree, image_size=4)


def test_collate_clips_pads_with_lengths():
    waveform, lengths = collate_clips([torch.ones(3), torch.ones(5, dtype=torch.float16)])
    assert waveform.shape == (2, 5) and lengths.tolist() == [3, 5]
    assert waveform[0, 3:].abs().sum() == 0 and waveform.dtype == torch.float32


def test_planted_rule_and_faces_differ():
    a = face_attributes_for_voice(variant="f2", pitch=1.25, rate=0.8, accent="en-029")
    assert (a["gender"], a["age"], a["skin"], a["mouth"]) == ("female", "young", "dark", 0)
    with pytest.raises(ParameterError, match="variant='x9'"):
        face_attributes_for_voice(variant="x9", pitch=1.0, rate=1.0, accent="en-us")
    rng = np.random.default_rng(0)
    first, second = (render_face(random_face_params(a, rng)) for _ in range(2))
    assert first.shape == (64, 64, 3) and first.dtype == np.float32
    assert np.abs(first - second).mean() > 0.01  # the same rule, two different faces


def test_planted_age_cues_are_drawn_where_the_rule_says():
    import dataclasses

    a = face_attributes_for_voice(variant="m2", pitch=1.0, rate=1.0, accent="en-us")
    adult = random_face_params(a, np.random.default_rng(3))
    faces = {
        age: render_face(dataclasses.replace(adult, age=age)) for age in ("older", "adult", "young")
    }
    cheeks = (slice(36, 42), slice(20, 26))  # left cheek (rows, columns) at 64 px
    rosy = faces["young"][cheeks][..., 0] - faces["young"][cheeks][..., 1]
    plain = faces["adult"][cheeks][..., 0] - faces["adult"][cheeks][..., 1]
    assert rosy.mean() > plain.mean() + 0.1  # young: rosy cheeks (red over green)
    changed = np.abs(faces["older"] - faces["adult"]).max(axis=-1) > 0.05
    assert changed[:20].sum() > 60  # older: greyed hair and forehead lines, in the top rows
    assert changed[40:52, 18:46].sum() > 4  # and smile lines beside the mouth


def test_synthetic_corpus_is_a_readable_tree(tmp_path):
    root = make_speech2face_corpus(
        tmp_path / "corpus",
        max_identities=4,
        clips_per_identity=2,
        frames_per_identity=1,
        sample_rate=8000,
        image_size=16,
        test_fraction=0.25,
        seed=3,
    )
    meta = json.loads((root / "speakers.json").read_text())
    assert meta["synthetic"] is True and len(meta["identities"]) == 4
    data = load_face_voice_tree(root, sample_rate=8000, image_size=16)
    assert len(data) == 8 and data.faces.shape == (8, 3, 16, 16)
    assert len(data.split("test").identities) == 1
    held_out = synthetic_voices("test", max_identities=4, test_fraction=0.25, seed=3)
    assert [v["identity"] for v in held_out] == data.split("test").identities
    speaker = meta["identities"][held_out[0]["identity"]]["voice"]["speaker"]
    assert speaker == f"espeak:{held_out[0]['accent']}+{held_out[0]['variant']}"
    assert data.attribute_labels().shape == (4, 3)
