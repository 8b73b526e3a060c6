"""Demo section "Image captioning with visual attention": sat_tiny learns to read digit strips
(real handwritten digits) in a few seconds; captions, metrics and attention maps on held-out
strips made of scans never seen in training."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import torch

from synesthesia.viz.report import Report

log = logging.getLogger(__name__)

TRAIN_STEPS = 300
BATCH_SIZE = 32
NUM_TEST = 200


def train_digit_captioner(*, steps: int, batch_size: int = BATCH_SIZE, seed: int = 0):
    """Train ``sat_tiny`` on fresh digit-strip batches with Adam; returns (model, vocab, losses)."""
    from tqdm.auto import tqdm

    from synesthesia.data.digit_strips import DIGIT_WORDS, make_digit_strips
    from synesthesia.models import create_model
    from synesthesia.text.vocab import SPECIAL_TOKENS, Vocabulary

    torch.manual_seed(seed)
    vocab = Vocabulary([*SPECIAL_TOKENS, *DIGIT_WORDS])
    model = create_model("sat_tiny")
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for step in tqdm(range(steps), desc="sat_tiny", disable=None, leave=False):
        strips = make_digit_strips(batch_size, split="train", seed=seed * 100_003 + step)
        encoded = [vocab.encode(c) for c in strips.captions]
        lengths = torch.tensor([len(e) for e in encoded])
        captions = torch.zeros(len(encoded), int(lengths.max()), dtype=torch.long)
        for i, e in enumerate(encoded):
            captions[i, : len(e)] = torch.tensor(e)
        logits, alphas = model(strips.images, captions, lengths)
        parts = model.loss(logits, alphas, captions, lengths)
        optimizer.zero_grad()
        parts["loss"].backward()
        optimizer.step()
        losses.append(float(parts["cross_entropy"].detach()))
    return model.eval(), vocab, losses


def evaluate_on_digit_strips(
    model, vocab, *, num_strips: int = 500, seed: int = 0, beam_size: int = 3
) -> dict:
    """Caption held-out digit strips and score them.

    Returns:
        A dict with BLEU-1..4, ROUGE-L, CIDEr-D, ``exact`` (share of captions equal to the
        reference), ``pointing`` and ``pointed_words`` (attention pointing accuracy and the
        number of correct words it counts), plus ``strips``, ``words``, ``hypotheses`` and
        ``maps`` (B, L, rows, columns) for figures.
    """
    import warnings

    from synesthesia.data.digit_strips import make_digit_strips
    from synesthesia.metrics.caption import attention_pointing_accuracy, caption_metrics

    strips = make_digit_strips(num_strips, split="test", seed=seed)
    out = model.eval().generate(strips.images, beam_size=beam_size, max_length=6)
    words = [vocab.decode(tokens).split() for tokens in out.tokens]  # up to <end>
    hypotheses = [" ".join(w) for w in words]
    result: dict = caption_metrics(hypotheses, [[c] for c in strips.captions])
    result["exact"] = sum(h == c for h, c in zip(hypotheses, strips.captions)) / num_strips
    maps = model.attention_maps(out.alphas)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NaN (no correct word) is reported as such
        pointing, counted = attention_pointing_accuracy(
            words,
            list(maps),
            strips.words,
            strips.boxes,
            image_size=tuple(strips.images.shape[-2:]),
        )
    result.update(pointing=pointing, pointed_words=counted)
    result.update(strips=strips, words=words, hypotheses=hypotheses, maps=maps)
    return result


def run(report: Report, *, workdir: Path, seed: int) -> None:
    from synesthesia.viz.attention import plot_caption_attention

    start = time.perf_counter()
    model, vocab, losses = train_digit_captioner(
        steps=TRAIN_STEPS, batch_size=BATCH_SIZE, seed=seed
    )
    seconds = time.perf_counter() - start
    result = evaluate_on_digit_strips(model, vocab, num_strips=NUM_TEST, seed=seed)
    test, words, hypotheses, maps = (
        result.pop(k) for k in ("strips", "words", "hypotheses", "maps")
    )
    exact, pointing, counted = (result.pop(k) for k in ("exact", "pointing", "pointed_words"))
    scores = result
    report.text(
        f"Show, Attend and Tell (sat_tiny, {model.num_parameters:,} parameters) trained for "
        f"{len(losses)} steps of {BATCH_SIZE} digit strips in {seconds:.0f} s (cross-entropy "
        f"{losses[0]:.2f} → {losses[-1]:.2f}). Test strips use handwritten digit scans never "
        "seen in training; captions by beam search (beam 3)."
    )
    report.table(
        [
            ["exact caption", f"{exact:.1%}"],
            *[[k, f"{v:.3f}"] for k, v in scores.items()],
            ["attention pointing", f"{pointing:.1%} of {counted} correct words"],
        ],
        header=["metric", f"{NUM_TEST} test strips"],
    )
    report.text(
        "Attention pointing: for every correctly generated digit word, whether the peak of its "
        "attention map (upsampled to the image) falls inside that digit's box.",
        note=True,
    )
    for i in range(2):
        report.figure(
            plot_caption_attention(test.images[i], words[i], maps[i], title=hypotheses[i]),
            caption=f"Reference: “{test.captions[i]}”. Each panel: the attention map of one "
            "generated word.",
        )
