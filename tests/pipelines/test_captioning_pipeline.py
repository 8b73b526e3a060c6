"""ImageCaptioner: folder loading, preprocessing, same captions as the model, clear errors —
for both captioners (Show, Attend and Tell and the Transformer)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from synesthesia.data.digit_strips import DIGIT_WORDS, make_digit_strips
from synesthesia.errors import CheckpointError, ParameterError
from synesthesia.models import create_model
from synesthesia.pipelines.captioning import ImageCaptioner
from synesthesia.text.vocab import SPECIAL_TOKENS, Vocabulary
from synesthesia.utils import atomic_write_json


@pytest.fixture(params=["sat_tiny", "transformer_captioner_tiny"])
def folder(tmp_path, request):
    torch.manual_seed(0)
    model = create_model(request.param).eval()
    model.save_pretrained(tmp_path / "model")
    Vocabulary([*SPECIAL_TOKENS, *DIGIT_WORDS]).save(tmp_path / "model" / "vocab.json")
    preprocess = {"resize": [32, 128], "center_crop": None, "normalize": False}
    atomic_write_json(tmp_path / "model" / "preprocess.json", preprocess)
    return tmp_path / "model", model


def test_captions_files_and_tensors_like_the_model(folder, tmp_path):
    directory, model = folder
    strips = make_digit_strips(2, split="test", seed=0)
    # a file at twice the size: the pipeline resizes it back to 32 x 128
    big = strips.images[0].repeat_interleave(2, 1).repeat_interleave(2, 2)
    array = (big.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    Image.fromarray(array).save(tmp_path / "strip.png")
    captioner = ImageCaptioner.from_pretrained(directory)
    results = captioner([tmp_path / "strip.png", strips.images[1]], beam_size=2, max_length=5)
    assert results[0].image.shape == results[1].image.shape == (3, 32, 128)
    expected = model.generate(
        torch.stack([results[0].image, strips.images[1]]), beam_size=2, max_length=5
    )
    vocab = captioner.vocab
    for i, result in enumerate(results):
        n = int(expected.lengths[i])
        assert result.words == [vocab.words[t] for t in expected.tokens[i, :n].tolist()]
        assert result.caption == vocab.decode(expected.tokens[i])
        assert result.attention_maps.shape == (n, 2, 8)
        assert result.score == pytest.approx(float(expected.scores[i]))
        if expected.head_alphas is None:  # one attention (SAT)
            assert result.head_attention_maps is None
        else:  # per head, and the drawn map is their mean
            heads = expected.head_alphas.shape[2]
            assert result.head_attention_maps.shape == (n, heads, 2, 8)
            torch.testing.assert_close(
                result.head_attention_maps.mean(dim=1), result.attention_maps
            )


def test_errors(folder, tmp_path):
    directory, _ = folder
    captioner = ImageCaptioner.from_pretrained(directory)
    with pytest.raises(ParameterError, match="one image"):
        captioner(torch.rand(3, 32, 128))
    with pytest.raises(ParameterError, match="at least one"):
        captioner([])
    (directory / "preprocess.json").unlink()
    with pytest.raises(CheckpointError, match="preprocess.json"):
        ImageCaptioner.from_pretrained(directory)
    Vocabulary.build(["a dog"]).save(directory / "vocab.json")
    atomic_write_json(directory / "preprocess.json", {"resize": None})
    with pytest.raises(CheckpointError, match="vocab_size"):
        ImageCaptioner.from_pretrained(directory)


def test_refuses_a_folder_that_holds_no_captioner(tmp_path):
    create_model("gpt_tiny").save_pretrained(tmp_path / "lm")
    with pytest.raises(CheckpointError, match="holds a 'gpt' model, not a captioner"):
        ImageCaptioner.from_pretrained(tmp_path / "lm")
