"""``synesthesia caption``: train a captioner (Show, Attend and Tell or the Transformer), and
caption images.

``caption train`` imports Lightning (lazily, inside the command); ``caption predict`` and
``caption evaluate`` never do: they load an exported model folder (config.json +
model.safetensors + vocab.json + preprocess.json), by default the shipped digit-strips model
``synesthesia/pretrained/caption_digits``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from synesthesia.cli._checks import check_output_dir
from synesthesia.cli._train import add_train_command, shown
from synesthesia.errors import ParameterError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "caption",
        help="train an image captioner with visual attention, or caption images",
        description="Train a Show, Attend and Tell or Transformer captioner (model.name in the "
        "config: sat_* or transformer_captioner_*; built-in digit strips or a "
        "Karpathy-split data set) with Lightning, or caption image files with an exported "
        "model folder and draw each word's attention map.",
    )
    c_sub = p.add_subparsers(dest="caption_command", metavar="ACTION", required=True)

    add_train_command(
        c_sub,
        "synesthesia.training.caption:CAPTION_TASK",
        help="train a captioner and export OUT/model",
        description="Train a captioner. Writes OUT/checkpoints, OUT/logs and the exported "
        "model folder OUT/model (config.json, model.safetensors, vocab.json, preprocess.json). "
        "Resumes from OUT/checkpoints/last.ckpt when it exists (see --resume).",
        add_arguments=_add_data_arguments,
        config_help="YAML config, e.g. configs/caption/digits.yaml (the shipped SAT's recipe), "
        "configs/caption/digits_transformer.yaml (the shipped Transformer's) "
        "or configs/caption/flickr8k.yaml (default: built-in settings)",
        overrides_example="model.name=sat_resnet18 optim.lr=1e-3",
        configure=_configure,
        report=lambda result: [
            f"trained {result.global_step} steps; val/cross_entropy "
            f"{shown(result.metrics.get('val/cross_entropy'), '.4f')}",
            f"model: {result.model_dir}",
        ],
    )

    d = c_sub.add_parser(
        "predict",
        help="caption image files (default: the shipped digit-strips model)",
        description="Caption image files by beam search and print one line per image "
        "(path, tab, caption). --model defaults to the shipped digit-strips captioner "
        "(synesthesia/pretrained/caption_digits); --attention-out writes one figure per "
        "image with the attention map of every generated word.",
    )
    d.add_argument("images", nargs="+", type=Path, metavar="IMG", help="image files")
    d.add_argument(
        "--model",
        type=Path,
        default=None,
        metavar="DIR",
        help="exported model folder (default: the shipped caption_digits model)",
    )
    d.add_argument(
        "--beam-size", type=int, default=3, metavar="K", help="beam size; 1 = greedy (default 3)"
    )
    d.add_argument("--max-length", type=int, default=20, help="most words (default 20)")
    d.add_argument(
        "--attention-out",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder for one attention figure per image (DIR/IMAGE_STEM.attention.png)",
    )
    d.set_defaults(func=predict)

    e = c_sub.add_parser(
        "evaluate",
        help="score a digit-strip captioner on held-out strips",
        description="Caption held-out digit strips (scans never seen in training) with a "
        "model folder trained on digit strips (default: the shipped caption_digits model); "
        "print BLEU-1..4, ROUGE-L, CIDEr-D, the share of exact captions and the attention "
        "pointing accuracy (and each head's for a Transformer captioner).",
    )
    e.add_argument(
        "--model",
        type=Path,
        default=None,
        metavar="DIR",
        help="exported model folder (default: the shipped caption_digits model)",
    )
    e.add_argument("--num-strips", type=int, default=500, help="test strips (default 500)")
    e.add_argument("--beam-size", type=int, default=3, help="beam size (default 3)")
    e.add_argument("--seed", type=int, default=0, help="seed of the test strips (default 0)")
    e.set_defaults(func=evaluate)


def _model_dir(model: Path | None) -> Path:
    """--model, or the shipped digit-strips captioner; a missing folder is a user error."""
    if model is None:
        from synesthesia.pipelines.pretrained import pretrained_path

        return pretrained_path("caption_digits")
    if not Path(model).is_dir():
        raise ParameterError(f"--model={str(model)!r} does not exist or is not a folder")
    return Path(model)


def _add_data_arguments(t: argparse.ArgumentParser) -> None:
    t.add_argument(
        "--data",
        default="digit-strips",
        metavar="digit-strips|FILE",
        help="digit-strips (built in, default) or a Karpathy-split JSON file "
        "(dataset_flickr8k.json, dataset_coco.json ...) used with --image-root",
    )
    t.add_argument("--image-root", type=Path, default=None, help="image folder of --data FILE")


def _configure(config: dict, args: argparse.Namespace) -> None:
    if args.data != "digit-strips":
        path = Path(args.data)
        if not path.is_file():
            raise ParameterError(f"--data={args.data!r} is neither 'digit-strips' nor a file")
        if args.image_root is None:
            raise ParameterError("--data FILE needs --image-root (the image folder)")
        config["data"].update(
            source="karpathy", annotations=str(path), image_root=str(args.image_root)
        )


def evaluate(args: argparse.Namespace) -> int:
    from synesthesia.data.digit_strips import DIGIT_WORDS
    from synesthesia.demos.captioning import evaluate_on_digit_strips
    from synesthesia.pipelines.captioning import ImageCaptioner

    if args.num_strips < 1 or args.beam_size < 1:
        raise ParameterError(
            f"--num-strips={args.num_strips} and --beam-size={args.beam_size} must be positive"
        )
    directory = _model_dir(args.model)
    captioner = ImageCaptioner.from_pretrained(directory)
    if not all(word in captioner.vocab for word in DIGIT_WORDS):
        raise ParameterError(f"--model={str(directory)!r} was not trained on digit strips")
    result = evaluate_on_digit_strips(
        captioner.model,
        captioner.vocab,
        num_strips=args.num_strips,
        seed=args.seed,
        beam_size=args.beam_size,
    )
    for key in ("BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "ROUGE-L", "CIDEr-D", "exact"):
        print(f"{key}\t{result[key]:.4f}")
    print(f"pointing\t{result['pointing']:.4f}\t({result['pointed_words']} correct words)")
    if "head_pointing" in result:  # a multi-head model: each head's own maps
        heads = "\t".join(f"{p:.4f}" for p in result["head_pointing"])
        print(f"pointing per head\t{heads}")
    return 0


def predict(args: argparse.Namespace) -> int:
    from synesthesia.pipelines.captioning import ImageCaptioner
    from synesthesia.utils import atomic_path

    if args.beam_size < 1:
        raise ParameterError(f"--beam-size={args.beam_size} must be a positive integer")
    if args.max_length < 1:
        raise ParameterError(f"--max-length={args.max_length} must be a positive integer")
    for path in args.images:
        if not path.is_file():
            raise ParameterError(f"IMG={str(path)!r} does not exist or is not a file")
    if args.attention_out is not None:
        check_output_dir(args.attention_out, flag="--attention-out")
    captioner = ImageCaptioner.from_pretrained(_model_dir(args.model))
    results = captioner(args.images, beam_size=args.beam_size, max_length=args.max_length)
    if args.attention_out is not None:
        from synesthesia.viz.attention import plot_caption_attention

        args.attention_out.mkdir(parents=True, exist_ok=True)
    from synesthesia.cli._ood import warn_if_ood

    for path, result in zip(args.images, results):
        print(f"{path}\t{result.caption}")
        warn_if_ood(str(path), result.ood_score, result.is_ood, captioner.ood)
        if args.attention_out is not None:
            fig = plot_caption_attention(
                result.image, result.words, result.attention_maps, title=result.caption
            )
            with atomic_path(args.attention_out / f"{path.stem}.attention.png") as tmp:
                fig.savefig(tmp, dpi=100, bbox_inches="tight")
            import matplotlib.pyplot as plt

            plt.close(fig)
    return 0
