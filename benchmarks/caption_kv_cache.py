"""Transformer captioner: beam search with the KV cache vs rerunning the whole prefix.

Run:  OMP_NUM_THREADS=1 python benchmarks/caption_kv_cache.py
      python benchmarks/caption_kv_cache.py --quick        (1 repeat)

Both searches are ``caption_search.beam_search_annotations`` on the same precomputed
annotations (the CNN encoder costs the same either way and is left out): ``use_cache=True``
feeds one new word per step through the decoder, reading past keys/values from the cache and
the regions' projected keys/values computed once; ``use_cache=False`` reruns the decoder over
the whole prefix at every step. Every caption is exactly 20 tokens long: ``<end>`` is made
unreachable (its output bias set to -1e4) so both searches run the full 20 steps.

Models: the shipped ``caption_digits_transformer`` (2 layers, D = 64, P = 64 regions) on 64
held-out digit strips, and ``transformer_captioner_small`` (3 layers, D = 256, 8 heads,
P = 49 ResNet-18 regions; random weights, the cost does not depend on them) on 16 random
224 × 224 images. Beam 3. The script asserts identical captions and scores equal to 1e-4
(float32; the test suite checks 1e-12 in float64) before timing; median wall time of the
repeats after one warm-up. Target: cached ≥ 3× faster on 20-token captions.
"""

from __future__ import annotations

import argparse

import torch
from _timing import markdown_table, median_time

from synesthesia.data.digit_strips import make_digit_strips
from synesthesia.models import create_model
from synesthesia.models.caption_search import beam_search_annotations
from synesthesia.pipelines import ImageCaptioner, pretrained_path

LENGTH = 20


def _compare(name: str, model, images: torch.Tensor, *, beam_size: int, repeats: int) -> list:
    model.eval()
    with torch.no_grad():
        model.output_bias[model.end_id] = -1e4  # no <end>: every caption is LENGTH tokens
        annotations = model.encode(images)

    def search(use_cache: bool):
        return beam_search_annotations(
            model, annotations, beam_size=beam_size, max_length=LENGTH, use_cache=use_cache
        )

    cached, full = search(True), search(False)
    if not torch.equal(cached.tokens, full.tokens):
        raise AssertionError(f"{name}: cached and uncached captions differ")
    difference = float((cached.scores - full.scores).abs().max())
    if difference > 1e-4:
        raise AssertionError(f"{name}: scores differ by {difference:.2e}")
    if not bool((cached.lengths == LENGTH).all()):
        raise AssertionError(f"{name}: captions are not {LENGTH} tokens long")
    seconds_cached = median_time(lambda: search(True), repeats)
    seconds_full = median_time(lambda: search(False), repeats)
    return [
        name,
        f"{images.shape[0]} × beam {beam_size}",
        f"{seconds_cached:.3f}",
        f"{seconds_full:.3f}",
        f"**{seconds_full / seconds_cached:.1f}×**",
        f"{difference:.1e}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat")
    parser.add_argument("--repeats", type=int, default=5, help="timing repeats (default 5)")
    parser.add_argument("--beam-size", type=int, default=3, help="beam size (default 3)")
    parser.add_argument(
        "--model", default=None, help="digit-strips Transformer folder (default: the shipped one)"
    )
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    rows = []
    folder = args.model or pretrained_path("caption_digits_transformer")
    shipped = ImageCaptioner.from_pretrained(folder).model
    strips = make_digit_strips(64, split="test", seed=0).images
    rows.append(
        _compare(
            "caption_digits_transformer", shipped, strips, beam_size=args.beam_size, repeats=repeats
        )
    )
    torch.manual_seed(0)
    small = create_model("transformer_captioner_small")
    images = torch.rand(16, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    rows.append(
        _compare(
            "transformer_captioner_small", small, images, beam_size=args.beam_size, repeats=repeats
        )
    )
    header = ["model", "batch", "cached (s)", "uncached (s)", "speed-up", "max |Δ score|"]
    print(f"beam search, {LENGTH}-token captions, torch threads {torch.get_num_threads()}")
    print(markdown_table(header, rows))


if __name__ == "__main__":
    main()
