"""Caption metrics as the COCO caption evaluation computes them: BLEU-1..4, ROUGE-L, CIDEr-D.

Every function takes ``candidates`` (one generated caption per image) and ``references`` (a
list of reference captions per image). With ``tokenize=True`` (default) both are tokenised by
:func:`synesthesia.text.ptb.ptb_tokenize`, a pure-Python reimplementation of coco-caption's
``PTBTokenizer`` (Stanford PTBTokenizer ``-preserveLines -lowerCase``, then its punctuation
removal), so scores are comparable with published COCO numbers without Java. Measured
against the jar pycocoevalcap ships: identical tokens for 2,012 of 2,012 test captions
(tests/text/test_ptb.py) and BLEU-1..4, ROUGE-L and CIDEr-D equal to pycocoevalcap's
(PTBTokenizer + scorers) within 1e-12 on 162 images (tests/metrics/test_caption_ptb.py);
see :mod:`synesthesia.text.ptb` for the rules and the known differences. As in coco-caption,
BLEU and CIDEr-D split the tokens on all white space (a fraction "3 1/2" is one PTB token
joined by a no-break space, hence two words there) while ROUGE-L splits on " " only. Pass
``tokenize=False`` for captions that are already space-separated tokens (they are then split
on white space).

METEOR and SPICE are not provided: their reference implementations are Java programs with
jars and models that cannot be obtained offline here.

References:
    Papineni et al., "BLEU", ACL 2002; Lin, "ROUGE", 2004; Vedantam et al., "CIDEr:
    Consensus-based Image Description Evaluation", CVPR 2015; behaviour matched to
    coco-caption / pycocoevalcap 1.2 (``Bleu`` with option "closest", ``Rouge``, ``Cider``,
    which is CIDEr-D: clipped counts, Gaussian length penalty σ = 6, × 10, document
    frequencies from the evaluated references).
"""

from __future__ import annotations

import functools
import math
import warnings
from collections import Counter
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from synesthesia.errors import ParameterError
from synesthesia.text.ptb import ptb_tokenize

__all__ = ["corpus_bleu", "rouge_l", "cider_d", "caption_metrics", "attention_pointing_accuracy"]


@functools.lru_cache(maxsize=1 << 16)
def _ptb_words(text: str, split_no_break_space: bool) -> tuple[str, ...]:
    tokens = ptb_tokenize(text)
    return tuple(" ".join(tokens).split()) if split_no_break_space else tuple(tokens)


def _prepare(
    candidates: Sequence[str],
    references: Sequence[Sequence[str]],
    tokenize: bool,
    *,
    split_no_break_space: bool = True,
) -> tuple[list[list[str]], list[list[list[str]]]]:
    if isinstance(candidates, str) or isinstance(references, str):
        raise ParameterError("candidates and references must be sequences, not one string")
    if len(candidates) != len(references):
        raise ParameterError(
            f"len(candidates)={len(candidates)} must equal len(references)={len(references)}"
        )
    if len(candidates) == 0:
        raise ParameterError("candidates=[] must hold at least one caption")

    def split(text: str) -> list[str]:
        if not isinstance(text, str):
            raise ParameterError(f"caption={text!r} must be a string")
        if not tokenize:
            return text.split()
        return list(_ptb_words(text, split_no_break_space))

    cands = [split(c) for c in candidates]
    refs = []
    for i, group in enumerate(references):
        if isinstance(group, str) or len(group) == 0:
            raise ParameterError(
                f"references[{i}]={group!r} must be a non-empty list of reference captions"
            )
        refs.append([split(r) for r in group])
    return cands, refs


def _ngrams(words: list[str], max_order: int) -> Counter[tuple[str, ...]]:
    counts: Counter[tuple[str, ...]] = Counter()
    for k in range(1, max_order + 1):
        for i in range(len(words) - k + 1):
            counts[tuple(words[i : i + k])] += 1
    return counts


def corpus_bleu(
    candidates: Sequence[str],
    references: Sequence[Sequence[str]],
    *,
    max_order: int = 4,
    tokenize: bool = True,
    per_caption: bool = False,
) -> list[float] | tuple[list[float], list[list[float]]]:
    """Corpus BLEU-1 .. BLEU-``max_order`` with the closest reference length.

    Clipped n-gram matches and candidate n-gram counts are summed over the corpus; the brevity
    penalty uses, per candidate, the reference length closest to it (ties: the shorter). The
    smoothing constants of coco-caption (1e-15 added to matches, 1e-9 to counts) are kept so
    that scores agree with it, including for empty candidates.

    Args:
        candidates: one caption per image.
        references: reference captions per image.
        max_order: the longest n-gram.
        tokenize: tokenise first as coco-caption does (:func:`~synesthesia.text.ptb.ptb_tokenize`).
        per_caption: also return per-caption BLEU-n lists (``[n][image]``).

    Returns:
        ``[BLEU-1, ..., BLEU-max_order]`` (and the per-caption scores).
    """
    if isinstance(max_order, bool) or not isinstance(max_order, int) or max_order < 1:
        raise ParameterError(f"max_order={max_order!r} must be a positive integer")
    cands, refs = _prepare(candidates, references, tokenize)
    tiny, small = 1e-15, 1e-9
    total_correct = [0] * max_order
    total_guess = [0] * max_order
    total_test = total_ref = 0
    per: list[list[float]] = [[] for _ in range(max_order)]
    for cand, group in zip(cands, refs):
        max_ref: dict[tuple[str, ...], int] = {}
        for ref in group:
            for gram, count in _ngrams(ref, max_order).items():
                max_ref[gram] = max(max_ref.get(gram, 0), count)
        test_len = len(cand)
        ref_len = min((abs(len(r) - test_len), len(r)) for r in group)[1]
        correct = [0] * max_order
        for gram, count in _ngrams(cand, max_order).items():
            correct[len(gram) - 1] += min(max_ref.get(gram, 0), count)
        guess = [max(0, test_len - k) for k in range(max_order)]
        total_test += test_len
        total_ref += ref_len
        score = 1.0
        ratio = (test_len + tiny) / (ref_len + small)
        for k in range(max_order):
            total_correct[k] += correct[k]
            total_guess[k] += guess[k]
            score *= (correct[k] + tiny) / (guess[k] + small)
            value = score ** (1.0 / (k + 1))
            per[k].append(value * math.exp(1 - 1 / ratio) if ratio < 1 else value)
    scores = []
    score = 1.0
    ratio = (total_test + tiny) / (total_ref + small)
    for k in range(max_order):
        score *= (total_correct[k] + tiny) / (total_guess[k] + small)
        value = score ** (1.0 / (k + 1))
        scores.append(value * math.exp(1 - 1 / ratio) if ratio < 1 else value)
    return (scores, per) if per_caption else scores


def _lcs(a: list[str], b: list[str]) -> int:
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge_l(
    candidates: Sequence[str],
    references: Sequence[Sequence[str]],
    *,
    beta: float = 1.2,
    tokenize: bool = True,
    per_caption: bool = False,
) -> float | tuple[float, list[float]]:
    """ROUGE-L: F-measure of the longest common subsequence, averaged over images.

    Per image, precision and recall are each maximised over the references, then combined as
    ``(1 + β²) P R / (R + β² P)`` (0 when either is 0).

    Args:
        candidates: one caption per image.
        references: reference captions per image.
        beta: weight of recall relative to precision (1.2 in coco-caption).
        tokenize: tokenise first as coco-caption does (:func:`~synesthesia.text.ptb.ptb_tokenize`).
        per_caption: also return the per-image scores.
    """
    if not beta > 0:
        raise ParameterError(f"beta={beta!r} must be positive")
    cands, refs = _prepare(candidates, references, tokenize, split_no_break_space=False)
    per = []
    for cand, group in zip(cands, refs):
        if not cand or any(not r for r in group):
            # coco-caption splits on " " so an empty string is one empty token; keep that.
            cand = cand or [""]
            group = [r or [""] for r in group]
        lcs = [_lcs(r, cand) for r in group]
        precision = max(m / len(cand) for m in lcs)
        recall = max(m / len(r) for m, r in zip(lcs, group))
        if precision != 0 and recall != 0:
            per.append((1 + beta**2) * precision * recall / (recall + beta**2 * precision))
        else:
            per.append(0.0)
    mean = math.fsum(per) / len(per)
    return (mean, per) if per_caption else mean


def cider_d(
    candidates: Sequence[str],
    references: Sequence[Sequence[str]],
    *,
    max_order: int = 4,
    sigma: float = 6.0,
    tokenize: bool = True,
    per_caption: bool = False,
) -> float | tuple[float, list[float]]:
    """CIDEr-D as computed by coco-caption's ``Cider`` scorer.

    TF-IDF n-gram vectors (document frequencies from the references of the evaluated set,
    ``idf = log(num_images) - log(max(1, df))``), candidate counts clipped by each reference's,
    cosine similarity per order, a Gaussian penalty ``exp(-δ² / (2σ²))`` on the length
    difference δ (coco-caption measures length as the number of bigrams), averaged over orders
    and references and multiplied by 10.

    Args:
        candidates: one caption per image.
        references: reference captions per image.
        max_order: the longest n-gram.
        sigma: width of the length penalty.
        tokenize: tokenise first as coco-caption does (:func:`~synesthesia.text.ptb.ptb_tokenize`).
        per_caption: also return the per-image scores.
    """
    if isinstance(max_order, bool) or not isinstance(max_order, int) or max_order < 1:
        raise ParameterError(f"max_order={max_order!r} must be a positive integer")
    if not sigma > 0:
        raise ParameterError(f"sigma={sigma!r} must be positive")
    cands, refs = _prepare(candidates, references, tokenize)
    ref_counts = [[_ngrams(r, max_order) for r in group] for group in refs]
    document_frequency: Counter[tuple[str, ...]] = Counter()
    for group in ref_counts:
        document_frequency.update({gram for counts in group for gram in counts})
    log_num_images = math.log(float(len(refs)))

    def vectorise(counts: Counter[tuple[str, ...]]):
        vec: list[dict[tuple[str, ...], float]] = [{} for _ in range(max_order)]
        norm = [0.0] * max_order
        length = 0
        for gram, tf in counts.items():
            n = len(gram) - 1
            df = math.log(max(1.0, float(document_frequency.get(gram, 0))))
            vec[n][gram] = float(tf) * (log_num_images - df)
            norm[n] += vec[n][gram] ** 2
            if n == 1:
                length += tf
        return vec, [math.sqrt(v) for v in norm], length

    per = []
    for cand, group in zip(cands, ref_counts):
        vec, norm, length = vectorise(_ngrams(cand, max_order))
        total = [0.0] * max_order
        for ref in group:
            vec_ref, norm_ref, length_ref = vectorise(ref)
            penalty = math.exp(-(float(length - length_ref) ** 2) / (2 * sigma**2))
            for n in range(max_order):
                value = 0.0
                for gram, weight in vec[n].items():
                    ref_weight = vec_ref[n].get(gram, 0.0)
                    value += min(weight, ref_weight) * ref_weight
                if norm[n] != 0 and norm_ref[n] != 0:
                    value /= norm[n] * norm_ref[n]
                total[n] += value * penalty
        per.append(sum(total) / max_order / len(group) * 10.0)
    mean = sum(per) / len(per)
    return (mean, per) if per_caption else mean


def caption_metrics(
    candidates: Sequence[str], references: Sequence[Sequence[str]], *, tokenize: bool = True
) -> dict[str, float]:
    """BLEU-1..4, ROUGE-L and CIDEr-D in one dict (keys "BLEU-1" ... "ROUGE-L", "CIDEr-D").

    With ``tokenize=True`` the captions are tokenised like coco-caption's PTBTokenizer
    (:func:`~synesthesia.text.ptb.ptb_tokenize`, identical tokens on 2,012 of 2,012 test
    captions), so the values are those of the COCO caption evaluation.
    """
    bleu = corpus_bleu(candidates, references, tokenize=tokenize)
    out = {f"BLEU-{k + 1}": float(v) for k, v in enumerate(bleu)}
    out["ROUGE-L"] = float(rouge_l(candidates, references, tokenize=tokenize))
    out["CIDEr-D"] = float(cider_d(candidates, references, tokenize=tokenize))
    return out


def attention_pointing_accuracy(
    captions: Sequence[Sequence[str]],
    attention_maps: Sequence[torch.Tensor],
    reference_words: Sequence[Sequence[str]],
    boxes: Sequence[torch.Tensor],
    *,
    image_size: tuple[int, int],
) -> tuple[float, int]:
    """Share of correctly generated words whose attention peak lies inside the word's box.

    For image ``i`` and position ``t``, the generated word ``captions[i][t]`` counts when it
    equals ``reference_words[i][t]``; its attention map (upsampled bilinearly to the image
    size) then points correctly when the arg-max pixel lies inside ``boxes[i][t]``.

    Args:
        captions: generated words per image.
        attention_maps: per image a tensor (L, h, w) of attention weights, one map per
            generated word (L ≥ number of words).
        reference_words: the true word per object, left to right, per image.
        boxes: per image a tensor (K, 4) of ``(x0, y0, x1, y1)`` pixel boxes (x1, y1
            exclusive), one per reference word.
        image_size: ``(height, width)`` of the images.

    Returns:
        ``(accuracy, num_words)``; accuracy is NaN (with a warning) when no word was correct.
    """
    if not (len(captions) == len(attention_maps) == len(reference_words) == len(boxes)):
        raise ParameterError(
            "captions, attention_maps, reference_words and boxes must have the same length, "
            f"got {len(captions)}, {len(attention_maps)}, {len(reference_words)}, {len(boxes)}"
        )
    height, width = image_size
    hits = total = 0
    for words, maps, truth, box in zip(captions, attention_maps, reference_words, boxes):
        if maps.dim() != 3 or maps.shape[0] < len(words):
            raise ParameterError(
                f"attention map of shape {tuple(maps.shape)} must be (L, h, w) with "
                f"L >= {len(words)} words"
            )
        correct = [t for t, w in enumerate(words) if t < len(truth) and w == truth[t]]
        if not correct:
            continue
        up = F.interpolate(
            maps[correct].unsqueeze(1).float(),
            size=(height, width),
            mode="bilinear",
            align_corners=False,
        ).flatten(1)
        peak = up.argmax(dim=1)
        ys, xs = peak // width, peak % width
        for j, t in enumerate(correct):
            x0, y0, x1, y1 = (float(v) for v in box[t])
            hits += int(x0 <= xs[j] < x1 and y0 <= ys[j] < y1)
            total += 1
    if total == 0:
        warnings.warn("no correctly generated word: pointing accuracy is NaN", stacklevel=2)
        return float("nan"), 0
    return hits / total, total
