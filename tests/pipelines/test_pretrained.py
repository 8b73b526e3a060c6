"""The shipped digit-strips captioner and example image: found, loaded, and correct."""

from __future__ import annotations

import json

import pytest
import torch

from synesthesia.errors import ParameterError
from synesthesia.pipelines import ImageCaptioner
from synesthesia.pipelines.pretrained import asset_path, list_pretrained, pretrained_path

#: the true caption of assets/digit_strip_example.png: make_digit_strips(8, split="test",
#: seed=2026)[3], scans 1331, 939 and 316 (held out from training)
EXAMPLE_CAPTION = "seven six three"
EXAMPLE_BOXES = [[13, 6, 37, 30], [47, 4, 71, 28], [85, 4, 109, 28]]


def test_the_shipped_model_folder_is_complete_and_small():
    directory = pretrained_path("caption_digits")
    assert "caption_digits" in list_pretrained()
    for name in ("config.json", "model.safetensors", "vocab.json", "preprocess.json", "README.md"):
        assert (directory / name).is_file(), name
    assert sum(p.stat().st_size for p in directory.iterdir()) < 5_000_000
    assert "synesthesia caption train --config configs/caption/digits.yaml" in (
        directory / "README.md"
    ).read_text(encoding="utf-8")
    config = json.loads((directory / "config.json").read_text())
    assert config["architecture"] == "show_attend_tell"


def test_the_shipped_model_captions_the_example_and_points_at_each_digit():
    captioner = ImageCaptioner.from_pretrained(pretrained_path("caption_digits"))
    result = captioner([asset_path("digit_strip_example.png")], beam_size=3)[0]
    assert result.caption == EXAMPLE_CAPTION
    assert result.words[-1] == "<end>"
    height, width = result.image.shape[-2:]
    maps = result.attention_maps[: len(EXAMPLE_BOXES)]  # (3, rows, columns)
    upsampled = torch.nn.functional.interpolate(
        maps[:, None], size=(height, width), mode="bilinear", align_corners=False
    )[:, 0]
    for word_map, (x0, y0, x1, y1) in zip(upsampled, EXAMPLE_BOXES):
        y, x = divmod(int(word_map.argmax()), width)
        assert x0 <= x < x1 and y0 <= y < y1, (x, y)


def test_unknown_names_are_parameter_errors():
    with pytest.raises(ParameterError, match="name='nope' is not a shipped model"):
        pretrained_path("nope")
    with pytest.raises(ParameterError, match="name='nope.png' is not a shipped asset"):
        asset_path("nope.png")


def test_the_shipped_transformer_captions_the_example_with_per_head_maps():
    directory = pretrained_path("caption_digits_transformer")
    assert "caption_digits_transformer" in list_pretrained()
    assert sum(p.stat().st_size for p in directory.iterdir()) < 5_000_000
    assert "synesthesia caption train --config configs/caption/digits_transformer.yaml" in (
        directory / "README.md"
    ).read_text(encoding="utf-8")
    captioner = ImageCaptioner.from_pretrained(directory)
    assert captioner.ood is not None
    result = captioner([asset_path("digit_strip_example.png")], beam_size=3)[0]
    assert result.caption == EXAMPLE_CAPTION and result.words[-1] == "<end>"
    heads = captioner.model.num_heads
    assert result.head_attention_maps.shape == (4, heads, 4, 16)
    torch.testing.assert_close(result.head_attention_maps.mean(dim=1), result.attention_maps)
    assert result.is_ood is False
