"""caption_metrics(tokenize=True) against the real COCO pipeline: pycocoevalcap's PTBTokenizer
(Java) followed by its Bleu, Rouge and Cider scorers, on generated and tricky captions.

One Java call tokenises every caption; the test skips, with the reason, without Java.
Tolerance: 1e-12 absolute (the implementations sum in the same order; observed error 0 to
~1e-16).
"""

from __future__ import annotations

import importlib.util
import random
import shutil
from pathlib import Path

import pytest

from synesthesia.metrics.caption import caption_metrics, cider_d, corpus_bleu, rouge_l

pytest.importorskip("pycocoevalcap")
from pycocoevalcap.bleu.bleu import Bleu  # noqa: E402
from pycocoevalcap.cider.cider import Cider  # noqa: E402
from pycocoevalcap.rouge.rouge import Rouge  # noqa: E402

_path = Path(__file__).parents[1] / "text" / "_captions.py"
_spec = importlib.util.spec_from_file_location("_captions", _path)
_captions = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_captions)

TOL = 1e-12
NUM_IMAGES = 150


def _corpus():
    """Candidates and references: issue #19's tricky captions with a close paraphrase as a
    reference, then generated images whose references share words with the candidate."""
    rng = random.Random(19)
    candidates, references = [], []
    for text in _captions.TRICKY:
        candidates.append(text)
        words = text.split(" ")
        references.append([" ".join(words[:-1]), " ".join(words[1:]) + " too."])
    pool = _captions.varied_captions(NUM_IMAGES * 4, seed=7)
    for i in range(NUM_IMAGES):
        candidate = pool[4 * i]
        words = candidate.split(" ")
        close = " ".join(w for w in words if rng.random() > 0.2) or candidate
        refs = [close] + pool[4 * i + 1 : 4 * i + 1 + rng.randint(0, 3)]
        candidates.append(candidate)
        references.append(refs)
    return candidates, references


@pytest.fixture(scope="module")
def coco():
    """(candidates, references, gts, res): the corpus and its pycocoevalcap tokenisation.

    Every caption is followed by the separator caption "X" in the one Java batch so that no
    caption's tokens depend on the next one (see tests/text/test_ptb.py).
    """
    if shutil.which("java") is None:
        pytest.skip("java is not installed: cannot run pycocoevalcap's PTBTokenizer")
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    candidates, references = _corpus()
    keys = [("res", i, 0) for i in range(len(candidates))]
    keys += [("gts", i, j) for i, refs in enumerate(references) for j in range(len(refs))]
    texts = {("res", i, 0): c for i, c in enumerate(candidates)}
    texts.update(
        {("gts", i, j): r for i, refs in enumerate(references) for j, r in enumerate(refs)}
    )
    batch = {}
    for n, key in enumerate(keys):
        batch[key] = [{"caption": texts[key]}]
        batch[("sep", n)] = [{"caption": "X"}]
    out = PTBTokenizer().tokenize(batch)
    res = {i: out[("res", i, 0)] for i in range(len(candidates))}
    gts = {
        i: [out[("gts", i, j)][0] for j in range(len(refs))] for i, refs in enumerate(references)
    }
    return candidates, references, gts, res


def test_bleu_equals_coco_pipeline(coco):
    candidates, references, gts, res = coco
    expected, expected_per = Bleu(4).compute_score(gts, res, verbose=0)
    ours, ours_per = corpus_bleu(candidates, references, tokenize=True, per_caption=True)
    assert ours == pytest.approx(expected, abs=TOL, rel=0)
    for k in range(4):
        assert ours_per[k] == pytest.approx(expected_per[k], abs=TOL, rel=0)


def test_rouge_equals_coco_pipeline(coco):
    candidates, references, gts, res = coco
    expected, expected_per = Rouge().compute_score(gts, res)
    ours, ours_per = rouge_l(candidates, references, tokenize=True, per_caption=True)
    assert ours == pytest.approx(float(expected), abs=TOL, rel=0)
    assert ours_per == pytest.approx(list(expected_per), abs=TOL, rel=0)


def test_cider_equals_coco_pipeline(coco):
    candidates, references, gts, res = coco
    expected, expected_per = Cider().compute_score(gts, res)
    ours, ours_per = cider_d(candidates, references, tokenize=True, per_caption=True)
    assert ours == pytest.approx(float(expected), abs=TOL, rel=0)
    assert ours_per == pytest.approx(list(expected_per), abs=TOL, rel=0)


def test_caption_metrics_equal_coco_pipeline_on_tricky_cases(coco):
    candidates, references, gts, res = coco
    n = len(_captions.TRICKY)
    sub_gts = {i: gts[i] for i in range(n)}
    sub_res = {i: res[i] for i in range(n)}
    bleu, _ = Bleu(4).compute_score(sub_gts, sub_res, verbose=0)
    expected = {f"BLEU-{k + 1}": bleu[k] for k in range(4)}
    expected["ROUGE-L"] = Rouge().compute_score(sub_gts, sub_res)[0]
    expected["CIDEr-D"] = Cider().compute_score(sub_gts, sub_res)[0]
    ours = caption_metrics(candidates[:n], references[:n], tokenize=True)
    for key, value in expected.items():
        assert ours[key] == pytest.approx(float(value), abs=TOL, rel=0), key


def test_tokenize_true_equals_pretokenised_ptb_tokens():
    # Without Java: tokens pinned from the jar's output for two tricky captions.
    cands = ["A man's dog isn't here.", "a well-known 3.5 inch ... !?"]
    refs = [["A man's dog is not here."], ["A well known 3.5-inch dog!?"]]
    cands_tok = ["a man 's dog is n't here", "a well-known 3.5 inch !?"]
    refs_tok = [["a man 's dog is not here"], ["a well known 3.5-inch dog !?"]]
    assert caption_metrics(cands, refs, tokenize=True) == caption_metrics(
        cands_tok, refs_tok, tokenize=False
    )
