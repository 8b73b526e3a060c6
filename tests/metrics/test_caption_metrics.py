"""Caption metrics against pycocoevalcap's Bleu, Rouge and Cider scorers (within 1e-9)."""

from __future__ import annotations

import math
import random

import pytest
import torch

from synesthesia.errors import ParameterError
from synesthesia.metrics.caption import (
    attention_pointing_accuracy,
    caption_metrics,
    cider_d,
    corpus_bleu,
    rouge_l,
)
from synesthesia.text.ptb import ptb_tokenize

pytest.importorskip("pycocoevalcap")
from pycocoevalcap.bleu.bleu import Bleu  # noqa: E402
from pycocoevalcap.cider.cider import Cider  # noqa: E402
from pycocoevalcap.rouge.rouge import Rouge  # noqa: E402

WORDS = "a the dog cat man woman runs sits on in grass red ball with street two".split()


def _corpus(seed: int, num_images: int = 12):
    rng = random.Random(seed)

    def sentence(lo=3, hi=11):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi)))
        return text.capitalize() + rng.choice([".", "!", "", " ,"])

    candidates = [sentence(1, 10) for _ in range(num_images)]
    references = [[sentence() for _ in range(rng.randint(1, 5))] for _ in range(num_images)]
    # a candidate equal to a reference, and one sharing nothing
    candidates[0] = references[0][0]
    candidates[1] = "zebra giraffe"
    return candidates, references


def _coco_inputs(candidates, references):
    # tokenize=True means coco-caption's PTB tokens (tests/metrics/test_caption_ptb.py checks
    # them against the Java tokenizer); this file checks the scorers on top of them.
    tok = lambda s: " ".join(ptb_tokenize(s))  # noqa: E731
    res = {i: [tok(c)] for i, c in enumerate(candidates)}
    gts = {i: [tok(r) for r in refs] for i, refs in enumerate(references)}
    return gts, res


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bleu_matches_pycocoevalcap(seed):
    candidates, references = _corpus(seed)
    gts, res = _coco_inputs(candidates, references)
    expected, expected_per = Bleu(4).compute_score(gts, res, verbose=0)
    ours, ours_per = corpus_bleu(
        candidates, references, max_order=4, tokenize=True, per_caption=True
    )
    assert ours == pytest.approx(expected, abs=1e-9, rel=0)
    for k in range(4):
        assert ours_per[k] == pytest.approx(expected_per[k], abs=1e-9, rel=0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rouge_matches_pycocoevalcap(seed):
    candidates, references = _corpus(seed)
    gts, res = _coco_inputs(candidates, references)
    expected, expected_per = Rouge().compute_score(gts, res)
    ours, ours_per = rouge_l(candidates, references, beta=1.2, tokenize=True, per_caption=True)
    assert ours == pytest.approx(float(expected), abs=1e-9, rel=0)
    assert ours_per == pytest.approx(list(expected_per), abs=1e-9, rel=0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cider_matches_pycocoevalcap(seed):
    candidates, references = _corpus(seed)
    gts, res = _coco_inputs(candidates, references)
    expected, expected_per = Cider(n=4, sigma=6.0).compute_score(gts, res)
    ours, ours_per = cider_d(
        candidates, references, max_order=4, sigma=6.0, tokenize=True, per_caption=True
    )
    assert ours == pytest.approx(float(expected), abs=1e-9, rel=0)
    assert ours_per == pytest.approx(list(expected_per), abs=1e-9, rel=0)


def test_perfect_candidates_score_high_and_tokenisation_applies():
    refs = [["A dog runs on the grass."], ["Two cats sit in the street!"]]
    cands = ["a dog runs on the grass", "TWO cats, sit in the street"]
    scores = caption_metrics(cands, refs)
    assert scores["BLEU-4"] == pytest.approx(1.0, abs=1e-6)
    assert scores["ROUGE-L"] == pytest.approx(1.0, abs=1e-12)
    assert math.isfinite(scores["CIDEr-D"])


def test_metric_errors_name_the_argument():
    with pytest.raises(ParameterError, match="len\\(candidates\\)"):
        corpus_bleu(["a"], [["a"], ["b"]])
    with pytest.raises(ParameterError, match="references\\[0\\]"):
        rouge_l(["a"], [[]])
    with pytest.raises(ParameterError, match="candidates"):
        cider_d([], [])
    with pytest.raises(ParameterError, match="max_order"):
        corpus_bleu(["a"], [["a"]], max_order=0)


def test_attention_pointing_accuracy_counts_correct_words_only():
    # image 8 x 16; two digits: boxes left half and right half
    boxes = [torch.tensor([[0, 0, 8, 8], [8, 0, 16, 8]])]
    maps = torch.zeros(3, 2, 4)
    maps[0, :, 0] = 1.0  # word 0 looks left: inside box 0
    maps[1, :, 0] = 1.0  # word 1 looks left: outside box 1
    accuracy, count = attention_pointing_accuracy(
        [["three", "one"]], [maps], [["three", "one"]], boxes, image_size=(8, 16)
    )
    assert (accuracy, count) == (0.5, 2)
    accuracy, count = attention_pointing_accuracy(
        [["three", "two"]], [maps], [["three", "one"]], boxes, image_size=(8, 16)
    )
    assert (accuracy, count) == (1.0, 1)
    with pytest.warns(UserWarning, match="NaN"):
        accuracy, count = attention_pointing_accuracy(
            [["five"]], [maps], [["three", "one"]], boxes, image_size=(8, 16)
        )
    assert math.isnan(accuracy) and count == 0
