"""Demo section "Image captioning with visual attention": the shipped digit-strips captioners
(``synesthesia/pretrained/caption_digits``, Show, Attend and Tell, and
``caption_digits_transformer``, a Transformer decoder) read held-out strips of real handwritten
digits; captions, scores and per-word attention maps of both, the same strips side by side.
Nothing is trained here."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from synesthesia.viz.report import Report

log = logging.getLogger(__name__)

NUM_TEST = 100
NUM_PANELS = 2
#: the shipped Transformer captioner shown beside Show, Attend and Tell
TRANSFORMER = "caption_digits_transformer"


def evaluate_on_digit_strips(
    model, vocab, *, num_strips: int = 500, seed: int = 0, beam_size: int = 3
) -> dict:
    """Caption held-out digit strips and score them.

    Returns:
        A dict with BLEU-1..4, ROUGE-L, CIDEr-D, ``exact`` (share of captions equal to the
        reference), ``pointing`` and ``pointed_words`` (attention pointing accuracy and the
        number of correct words it counts), plus ``strips``, ``words``, ``hypotheses`` and
        ``maps`` (B, L, rows, columns) for figures. A multi-head model (a
        TransformerCaptioner) adds ``head_pointing``: the pointing accuracy of each head's
        own maps (``pointing`` is that of the head-averaged maps).
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
        head_pointing = None
        if out.head_alphas is not None:
            head_maps = model.attention_maps(out.head_alphas)  # (B, L, H, rows, columns)
            head_pointing = [
                attention_pointing_accuracy(
                    words,
                    list(head_maps[:, :, h]),
                    strips.words,
                    strips.boxes,
                    image_size=tuple(strips.images.shape[-2:]),
                )[0]
                for h in range(head_maps.shape[2])
            ]
    result.update(pointing=pointing, pointed_words=counted)
    if head_pointing is not None:
        result["head_pointing"] = head_pointing
    result.update(strips=strips, words=words, hypotheses=hypotheses, maps=maps)
    return result


def run(report: Report, *, workdir: Path, seed: int) -> None:
    from synesthesia.pipelines import ImageCaptioner, asset_path, pretrained_path
    from synesthesia.viz.attention import plot_caption_attention

    start = time.perf_counter()
    directory = pretrained_path("caption_digits")
    captioner = ImageCaptioner.from_pretrained(directory)
    model, vocab = captioner.model, captioner.vocab
    result = evaluate_on_digit_strips(model, vocab, num_strips=NUM_TEST, seed=seed)
    transformer_dir = pretrained_path(TRANSFORMER)
    transformer = ImageCaptioner.from_pretrained(transformer_dir)
    other = evaluate_on_digit_strips(
        transformer.model, transformer.vocab, num_strips=NUM_TEST, seed=seed
    )
    seconds = time.perf_counter() - start
    test, words, hypotheses, maps = (
        result.pop(k) for k in ("strips", "words", "hypotheses", "maps")
    )
    other_words, other_hypotheses, other_maps = (
        other.pop(k) for k in ("words", "hypotheses", "maps")
    )
    exact, pointing, counted = (result.pop(k) for k in ("exact", "pointing", "pointed_words"))
    rows, columns = model.grid_size
    tm = transformer.model
    report.text(
        f"The shipped captioners read {NUM_TEST} test strips made of handwritten digit scans "
        f"never seen in training (beam 3; {seconds:.1f} s here for both, nothing trained): "
        f"{directory.name} (Show, Attend and Tell, sat_tiny with a {rows} × {columns} "
        f"annotation grid, {model.num_parameters:,} parameters, trained by `synesthesia caption "
        "train --config configs/caption/digits.yaml`) and "
        f"{transformer_dir.name} (a Transformer decoder, {tm.num_layers} layers × "
        f"{tm.num_heads} heads cross-attending to the same CNN grid, "
        f"{tm.num_parameters:,} parameters, trained by `synesthesia caption train --config "
        "configs/caption/digits_transformer.yaml`)."
    )
    best_head = max(other.get("head_pointing", [float("nan")]))
    report.table(
        [
            ["exact caption", f"{exact:.1%}", f"{other.pop('exact'):.1%}"],
            *[[k, f"{v:.3f}", f"{other[k]:.3f}"] for k, v in result.items()],
            [
                "attention pointing",
                f"{pointing:.1%} of {counted} correct words",
                f"{other['pointing']:.1%} of {other['pointed_words']} correct words "
                f"(heads averaged; best head {best_head:.1%})",
            ],
        ],
        header=["metric", f"SAT, {NUM_TEST} test strips", f"Transformer, {NUM_TEST} test strips"],
    )
    report.text(
        "Attention pointing: for every correctly generated digit word, whether the peak of its "
        "attention map (upsampled to the image) falls inside that digit's box. The "
        "Transformer's map of a word is its last layer's cross-attention averaged over heads.",
        note=True,
    )
    for i in range(NUM_PANELS):
        report.figure(
            plot_caption_attention(test.images[i], words[i], maps[i], title=hypotheses[i]),
            caption=f"Reference: “{test.captions[i]}”. Show, Attend and Tell; each panel: the "
            "attention map of one generated word.",
        )
        report.figure(
            plot_caption_attention(
                test.images[i], other_words[i], other_maps[i], title=other_hypotheses[i]
            ),
            caption="The same strip captioned by the Transformer; each panel: one word's "
            "cross-attention (last layer, heads averaged).",
        )
    example = captioner([asset_path("digit_strip_example.png")])[0]
    report.figure(
        plot_caption_attention(
            example.image, example.words, example.attention_maps, title=example.caption
        ),
        caption=f"The packaged example image (synesthesia/assets/digit_strip_example.png): "
        f"“{example.caption}”, as `synesthesia caption predict` captions it by default.",
    )
