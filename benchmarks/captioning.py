"""Captioning decode throughput: batched beam search vs a per-image beam-search loop.

Run:  python benchmarks/captioning.py                   (256 images, 3 repeats)
      python benchmarks/captioning.py --quick           (64 images, 1 repeat)
      python benchmarks/captioning.py --model shipped   (the shipped caption_digits model)

``sat_tiny``, first trained briefly on digit strips (``--train-steps``, so that captions end
with ``<end>`` at realistic lengths as in real use), captions held-out digit strips
(3 × 32 × 128, eval mode, float32) with beam size 5 and at most 12 words:

1. the search alone, from precomputed annotations: one batched search over all images × 5
   beams (``beam_search_annotations``) vs the same function called on one image at a time;
2. end to end (encoder + search, ``beam_search``), batched vs per image. The CNN encoder's
   cost is the same either way (it is compute-bound), so this ratio is bounded by the
   encoder's share of the batched time.

``--model shipped`` (or an exported model folder) skips the training and uses that model
instead: the shipped ``caption_digits`` reads a 4 × 16 grid (P = 64 regions) rather than the
preset's 2 × 8, so its search costs more per step while the encoder costs the same.

Both paths produce the same captions (checked). Target: batched ≥ 5× the images/s of the
per-image loop (the search, 1). Timing: median wall time over repeats after one warm-up call.
"""

from __future__ import annotations

import argparse

import torch
from _timing import median_time

from synesthesia.data.digit_strips import DIGIT_WORDS, make_digit_strips
from synesthesia.models import create_model
from synesthesia.models.caption_search import beam_search, beam_search_annotations
from synesthesia.text.vocab import SPECIAL_TOKENS, Vocabulary


def _train(model, steps: int) -> None:
    vocab = Vocabulary([*SPECIAL_TOKENS, *DIGIT_WORDS])
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for step in range(steps):
        strips = make_digit_strips(32, split="train", seed=1000 + step)
        encoded = [vocab.encode(c) for c in strips.captions]
        lengths = torch.tensor([len(e) for e in encoded])
        captions = torch.zeros(len(encoded), int(lengths.max()), dtype=torch.long)
        for i, e in enumerate(encoded):
            captions[i, : len(e)] = torch.tensor(e)
        logits, alphas = model(strips.images, captions, lengths)
        loss = model.loss(logits, alphas, captions, lengths)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="64 images, one repeat")
    parser.add_argument("--images", type=int, default=256, help="number of images (default 256)")
    parser.add_argument("--beam-size", type=int, default=5, help="beam size (default 5)")
    parser.add_argument("--max-length", type=int, default=12, help="most words (default 12)")
    parser.add_argument(
        "--train-steps", type=int, default=150, help="training steps first (default 150)"
    )
    parser.add_argument(
        "--model",
        default=None,
        help="'shipped' (pretrained/caption_digits) or an exported model folder; default: "
        "sat_tiny trained --train-steps steps",
    )
    args = parser.parse_args()
    num_images = 64 if args.quick else args.images
    repeats = 1 if args.quick else 3

    torch.manual_seed(0)
    if args.model is None:
        model = create_model("sat_tiny")
        _train(model, args.train_steps)
    else:
        from synesthesia.models import load_pretrained
        from synesthesia.pipelines import pretrained_path

        folder = pretrained_path("caption_digits") if args.model == "shipped" else args.model
        model = load_pretrained(folder).eval()
    images = make_digit_strips(num_images, split="test", seed=0).images
    kwargs = dict(beam_size=args.beam_size, max_length=args.max_length)

    batched = beam_search(model, images, **kwargs)
    for i in range(num_images):
        single = beam_search(model, images[i : i + 1], **kwargs)
        n = int(single.lengths[0])
        assert batched.tokens[i, :n].tolist() == single.tokens[0, :n].tolist(), i
        assert abs(float(batched.scores[i]) - float(single.scores[0])) < 1e-4, i

    with torch.no_grad():
        annotations = model.encode(images)

    def search_batched():
        beam_search_annotations(model, annotations, **kwargs)

    def search_loop():
        for i in range(num_images):
            beam_search_annotations(model, annotations[i : i + 1], **kwargs)

    def end_to_end_batched():
        beam_search(model, images, **kwargs)

    def end_to_end_loop():
        for i in range(num_images):
            beam_search(model, images[i : i + 1], **kwargs)

    print(
        f"model {args.model or 'sat_tiny'} (grid {tuple(model.grid_size)}), "
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, {num_images} images, "
        f"beam {args.beam_size}, max_length {args.max_length}, mean caption length "
        f"{batched.lengths.float().mean():.1f} tokens (<end> included)"
    )
    print(f"{'':<34}{'median s':>10}{'images/s':>12}")
    for label, fn_batched, fn_loop in (
        ("search", search_batched, search_loop),
        ("encoder + search", end_to_end_batched, end_to_end_loop),
    ):
        t_batched = median_time(fn_batched, repeats)
        t_loop = median_time(fn_loop, repeats)
        print(f"{label + ', batched':<34}{t_batched:>10.3f}{num_images / t_batched:>12.1f}")
        print(f"{label + ', per-image loop':<34}{t_loop:>10.3f}{num_images / t_loop:>12.1f}")
        print(f"{label}: batched / loop throughput {t_loop / t_batched:.1f}x")
    print("target: search batched >= 5x the per-image loop")


if __name__ == "__main__":
    main()
