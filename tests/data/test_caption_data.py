"""Caption file loaders (Karpathy split, COCO annotations), dataset and collate, bad files."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

from synesthesia.data.captions import (
    CaptionDataset,
    collate_captions,
    load_coco_captions,
    load_karpathy_split,
)
from synesthesia.errors import ParameterError
from synesthesia.text.vocab import Vocabulary


def _karpathy(tmp_path):
    (tmp_path / "val2014").mkdir()
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        Image.new("RGB", (8, 6), (200, 10, 10)).save(tmp_path / "val2014" / name)
    payload = {
        "dataset": "coco",
        "images": [
            {
                "filepath": "val2014",
                "filename": "a.jpg",
                "imgid": 0,
                "cocoid": 11,
                "split": "train",
                "sentences": [
                    {"raw": "A red square.", "tokens": ["a", "red", "square"]},
                    {"tokens": ["a", "red", "box"]},
                ],
            },
            {
                "filepath": "val2014",
                "filename": "b.jpg",
                "imgid": 1,
                "cocoid": 12,
                "split": "restval",
                "sentences": [{"raw": "Red!"}],
            },
            {
                "filepath": "val2014",
                "filename": "c.jpg",
                "imgid": 2,
                "cocoid": 13,
                "split": "test",
                "sentences": [{"raw": "a square"}],
            },
        ],
    }
    path = tmp_path / "dataset_coco.json"
    path.write_text(json.dumps(payload))
    return path


def test_karpathy_split_records_dataset_and_collate(tmp_path):
    path = _karpathy(tmp_path)
    train = load_karpathy_split(path, image_root=tmp_path)
    assert [r.image_id for r in train] == [11, 12]
    assert train[0].captions == ["A red square.", "a red box"]
    assert train[0].image_path == tmp_path / "val2014" / "a.jpg"
    test = load_karpathy_split(path, image_root=tmp_path, splits=["test"])
    assert [r.image_id for r in test] == [13]
    vocab = Vocabulary.build([c for r in train for c in r.captions])
    dataset = CaptionDataset(train, vocab)
    assert len(dataset) == 3
    batch = collate_captions([dataset[0], dataset[2]])
    assert batch["images"].shape == (2, 3, 6, 8)
    assert batch["caption_lengths"].tolist() == [5, 3]
    assert batch["captions"][1].tolist() == [1, vocab.index["red"], 2, 0, 0]


def test_coco_annotations(tmp_path):
    payload = {
        "images": [
            {"id": 5, "file_name": "x.jpg"},
            {"id": 3, "file_name": "y.jpg"},
            {"id": 9, "file_name": "no_caption.jpg"},
        ],
        "annotations": [
            {"image_id": 5, "id": 1, "caption": "A cat."},
            {"image_id": 3, "id": 2, "caption": "A dog"},
            {"image_id": 5, "id": 3, "caption": "Cat on a mat"},
        ],
    }
    (tmp_path / "captions_train2014.json").write_text(json.dumps(payload))
    records = load_coco_captions(tmp_path / "captions_train2014.json", image_root=tmp_path)
    assert [(r.image_id, r.captions) for r in records] == [
        (3, ["A dog"]),
        (5, ["A cat.", "Cat on a mat"]),
    ]


def test_empty_and_malformed_files(tmp_path):
    (tmp_path / "empty.json").write_text("")
    with pytest.raises(ParameterError, match="empty"):
        load_karpathy_split(tmp_path / "empty.json", image_root=tmp_path)
    (tmp_path / "broken.json").write_text('{"images": [')
    with pytest.raises(ParameterError, match="not valid JSON"):
        load_coco_captions(tmp_path / "broken.json", image_root=tmp_path)
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(ParameterError, match="not a Karpathy split"):
        load_karpathy_split(tmp_path / "list.json", image_root=tmp_path)
    with pytest.raises(ParameterError, match="not a COCO caption file"):
        load_coco_captions(tmp_path / "list.json", image_root=tmp_path)
    (tmp_path / "noimages.json").write_text('{"images": [{"filename": "a.jpg"}]}')
    with pytest.raises(ParameterError, match="images\\[0\\]"):
        load_karpathy_split(tmp_path / "noimages.json", image_root=tmp_path)
    dangling = {"images": [], "annotations": [{"image_id": 1, "caption": "x"}]}
    (tmp_path / "dangling.json").write_text(json.dumps(dangling))
    with pytest.raises(ParameterError, match="image_id=1"):
        load_coco_captions(tmp_path / "dangling.json", image_root=tmp_path)
    path = _karpathy(tmp_path)
    with pytest.raises(ParameterError, match="splits"):
        load_karpathy_split(path, image_root=tmp_path, splits=["validation"])
    with pytest.raises(ParameterError, match="no captioned image"):
        load_karpathy_split(path, image_root=tmp_path, splits=["val"])


def test_empty_captions_dropped_and_unknown_words_kept(tmp_path):
    payload = {
        "images": [{"id": 1, "file_name": "x.jpg"}],
        "annotations": [{"image_id": 1, "caption": "?!"}, {"image_id": 1, "caption": "Zebra"}],
    }
    (tmp_path / "c.json").write_text(json.dumps(payload))
    with pytest.warns(UserWarning, match="no words"):
        records = load_coco_captions(tmp_path / "c.json", image_root=tmp_path)
    assert records[0].captions == ["Zebra"]
    Image.new("L", (4, 4)).save(tmp_path / "x.jpg")
    vocab = Vocabulary.build(["a dog"])
    image, ids = CaptionDataset(records, vocab)[0]
    assert image.shape == (3, 4, 4)
    assert ids.tolist() == [vocab.start_id, vocab.unk_id, vocab.end_id]
    only_empty = {
        "images": [{"id": 1, "file_name": "x.jpg"}],
        "annotations": [{"image_id": 1, "caption": "..."}],
    }
    (tmp_path / "e.json").write_text(json.dumps(only_empty))
    with pytest.warns(UserWarning), pytest.raises(ParameterError, match="holds no captions"):
        load_coco_captions(tmp_path / "e.json", image_root=tmp_path)
    with pytest.raises(ParameterError, match="batch"):
        collate_captions([])
    assert torch.is_tensor(image)
