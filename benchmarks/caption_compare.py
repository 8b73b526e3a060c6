"""Show, Attend and Tell vs the Transformer captioner on held-out digit strips, side by side.

Run:  OMP_NUM_THREADS=1 python benchmarks/caption_compare.py
      python benchmarks/caption_compare.py --sat DIR --transformer DIR --quick

Both exported folders (default: the shipped ``caption_digits`` and
``caption_digits_transformer``) are scored exactly as ``synesthesia caption evaluate`` scores
one (``demos.captioning.evaluate_on_digit_strips``: 500 test strips of scans never seen in
training, seed 0, beam 3): exact captions, BLEU-4, CIDEr-D, attention pointing of the maps the
pipeline draws (head-averaged for the Transformer) and of the best single head. Decode
throughput: images/s of ``model.generate`` (encoder + batched beam search, beam 3, at most 20
words) over batches of 64 strips, median of ``--repeats`` after one warm-up, in the threads
the environment gives (run with ``OMP_NUM_THREADS=1`` for the documented numbers).

Training wall time is not measured here (it is the ``caption train`` run's own, recorded in
each model's README.md); the script prints the parameter counts instead.
"""

from __future__ import annotations

import argparse
import math

import torch
from _timing import markdown_table, median_time

from synesthesia.data.digit_strips import make_digit_strips
from synesthesia.demos.captioning import evaluate_on_digit_strips
from synesthesia.pipelines import ImageCaptioner, pretrained_path


def _throughput(model, *, batch_size: int, num_images: int, repeats: int) -> float:
    strips = make_digit_strips(num_images, split="test", seed=1)
    batches = strips.images.split(batch_size)

    def run() -> None:
        for batch in batches:
            model.generate(batch, beam_size=3, max_length=20)

    return num_images / median_time(run, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sat", default=None, help="SAT folder (default: caption_digits)")
    parser.add_argument(
        "--transformer",
        default=None,
        help="Transformer folder (default: caption_digits_transformer)",
    )
    parser.add_argument("--num-strips", type=int, default=500, help="test strips (default 500)")
    parser.add_argument("--repeats", type=int, default=5, help="timing repeats (default 5)")
    parser.add_argument("--quick", action="store_true", help="100 strips, 1 repeat")
    args = parser.parse_args()
    num_strips, repeats = (100, 1) if args.quick else (args.num_strips, args.repeats)
    folders = {
        "Show, Attend and Tell": args.sat or pretrained_path("caption_digits"),
        "Transformer": args.transformer or pretrained_path("caption_digits_transformer"),
    }
    rows = []
    for name, folder in folders.items():
        captioner = ImageCaptioner.from_pretrained(folder)
        model, vocab = captioner.model, captioner.vocab
        result = evaluate_on_digit_strips(model, vocab, num_strips=num_strips, beam_size=3)
        heads = result.get("head_pointing")
        best = max((p for p in heads if not math.isnan(p)), default=float("nan")) if heads else None
        speed = _throughput(model, batch_size=64, num_images=256, repeats=repeats)
        rows.append(
            [
                name,
                f"{model.num_parameters / 1e6:.2f} M",
                f"{result['exact']:.3f}",
                f"{result['BLEU-4']:.3f}",
                f"{result['CIDEr-D']:.3f}",
                f"{result['pointing']:.3f} ({result['pointed_words']} words)",
                "—"
                if best is None
                else f"{best:.3f} (" + ", ".join(f"{p:.2f}" for p in heads) + ")",
                f"{speed:,.0f}",
            ]
        )
    header = [
        "decoder",
        "parameters",
        "exact",
        "BLEU-4",
        "CIDEr-D",
        "pointing (maps drawn)",
        "pointing, best head (all heads)",
        "images/s (beam 3, batch 64)",
    ]
    print(f"{num_strips} held-out strips, beam 3; torch threads {torch.get_num_threads()}")
    print(markdown_table(header, rows))


if __name__ == "__main__":
    main()
