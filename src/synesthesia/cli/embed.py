"""``synesthesia embed``: train a joint audio–image embedding and evaluate retrieval.

``embed train`` imports Lightning (lazily, inside the command); ``embed evaluate`` never does:
it loads the exported model folder (config.json + model.safetensors + audio_config.json +
standardization.json).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from synesthesia.cli._checks import check_output_file
from synesthesia.cli._train import add_train_command, shown

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "embed",
        help="train an audio–image dual encoder (spoken ↔ handwritten digits), evaluate it",
        description="Train a DualEncoder that maps spoken digits (eSpeak NG voices) and "
        "handwritten digit images into one embedding space with a metric-learning loss, or "
        "evaluate an exported model's retrieval (Recall@K, median rank, mAP) on held-out "
        "voices and images.",
    )
    embed_sub = p.add_subparsers(dest="embed_command", metavar="ACTION", required=True)

    add_train_command(
        embed_sub,
        "synesthesia.training.embed:EMBED_TASK",
        help="train on spoken ↔ handwritten digits and export OUT/model",
        description="Train with Lightning. Writes OUT/checkpoints, OUT/logs (csv, "
        "tensorboard) and the exported model folder OUT/model (config.json, "
        "model.safetensors, audio_config.json, standardization.json). Resumes from "
        "OUT/checkpoints/last.ckpt when it exists (see --resume).",
        config_help="YAML config (default: built-in defaults, as configs/embed/spoken_digits.yaml)",
        overrides_example="data.margin=0.3 optim.lr=1e-3",
        report=lambda result: [
            f"trained {result.global_step} steps; held-out mean R@1 "
            f"{shown(result.metrics.get('val/R@1'), '.3f')}",
            f"model: {result.model_dir}",
        ],
    )

    e = embed_sub.add_parser(
        "evaluate",
        help="retrieval metrics of an exported model on the held-out voices and images",
        description="Load an exported model folder (no Lightning needed), embed the held-out "
        "spoken digits and digit images, and print Recall@1/5/10, median rank and mAP for "
        "audio→image and image→audio retrieval (same digit = relevant).",
    )
    e.add_argument("--model", required=True, type=Path, help="exported model folder")
    e.add_argument("--cache-dir", type=Path, default=None, help="cache of the synthesised clips")
    e.add_argument(
        "--voices",
        nargs="+",
        default=None,
        metavar="SPEAKER",
        help="speakers to evaluate on: eSpeak voices or engine:voice names such as piper:joe, "
        "flite:slt, festival:kal_diphone (default: the 6 held-out eSpeak voices)",
    )
    e.add_argument("--variations", type=int, default=3, help="renderings per (speaker, digit) (3)")
    e.add_argument("--seed", type=int, default=0, help="seed of the renderings' prosody (0)")
    e.add_argument(
        "--channel",
        choices=("clean", "telephone"),
        default="clean",
        help="pass the clips through a telephone channel (300-3400 Hz, 8 kHz, 8-bit mu-law)",
    )
    e.add_argument("--json", action="store_true", help="print the metrics as JSON")
    e.set_defaults(func=evaluate)

    r = embed_sub.add_parser(
        "retrieve",
        help="rank a folder of images for an audio clip (or audio clips for an image)",
        description="Load an exported model folder (no Lightning needed) and rank a gallery by "
        "cosine similarity to the query: --audio CLIP --images DIR ranks the images for the "
        "sound, --image IMG --audios DIR ranks the sounds for the picture. Prints the ranking "
        "and writes a grid figure (query spectrogram or image, then the top K with scores). "
        "Files in the gallery folder that are not images (or not audio) by their suffix, and "
        "images that cannot be read, are skipped with a warning; an empty gallery is an error.",
    )
    query = r.add_mutually_exclusive_group(required=True)
    query.add_argument("--audio", type=Path, default=None, help="audio query (WAV, FLAC ...)")
    query.add_argument("--image", type=Path, default=None, help="image query (PNG, JPEG ...)")
    r.add_argument("--images", type=Path, default=None, help="gallery folder of images")
    r.add_argument("--audios", type=Path, default=None, help="gallery folder of audio clips")
    r.add_argument(
        "--model",
        type=Path,
        default=None,
        help="exported model folder (default: the shipped spoken↔handwritten digits model, "
        "src/synesthesia/pretrained/embed_digits)",
    )
    r.add_argument("-k", "--top", dest="k", type=int, default=5, help="results to show (5)")
    r.add_argument(
        "-o", "--output", type=Path, default=None, help="grid figure to write (PNG); none if unset"
    )
    r.set_defaults(func=retrieve)


def evaluate(args: argparse.Namespace) -> int:
    import torch

    from synesthesia.data.spoken_digits import TEST_VOICES, make_spoken_digits
    from synesthesia.errors import ParameterError
    from synesthesia.metrics.retrieval import cross_modal_retrieval
    from synesthesia.pipelines.retrieval import AudioImageRetriever

    if args.variations < 1:
        raise ParameterError(f"--variations={args.variations} must be a positive integer")
    if args.cache_dir is not None:
        from synesthesia.cli._checks import check_output_dir

        check_output_dir(args.cache_dir, flag="--cache-dir")
    retriever = AudioImageRetriever.from_pretrained(args.model)
    voices = TEST_VOICES if args.voices is None else tuple(args.voices)
    data = make_spoken_digits(
        "test",
        voices=voices,
        variations=args.variations,
        seed=args.seed,
        sample_rate=retriever.sample_rate,
        cache_dir=args.cache_dir,
    )
    waveform = data.waveform
    if args.channel == "telephone":
        from synesthesia.functional.attention import lengths_to_mask
        from synesthesia.functional.telephone import telephone_channel

        inside = lengths_to_mask(data.waveform_lengths, max_length=waveform.shape[-1])
        waveform = telephone_channel(waveform, sample_rate=data.sample_rate) * inside
    with torch.no_grad():
        audio = retriever.embed_waveforms(
            waveform, data.waveform_lengths, sample_rate=data.sample_rate
        )
        image = retriever.model.encode_image(
            torch.cat([retriever.prepare_image(im) for im in data.images])
        )
    result = cross_modal_retrieval(
        audio, image, first_labels=data.audio_labels, second_labels=data.image_labels
    )
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
        return 0
    channel = "" if args.channel == "clean" else f", {args.channel} channel"
    print(
        f"held-out: {len(audio)} clips ({len(set(data.voices))} voices{channel}), "
        f"{len(image)} images"
    )
    for direction, values in result.items():
        shown = ", ".join(
            f"{k} {values[k]:.3f}" for k in ("R@1", "R@5", "R@10", "median_rank", "mAP")
        )
        print(f"{direction}: {shown}")
    return 0


def retrieve(args: argparse.Namespace) -> int:
    import warnings

    from synesthesia.errors import ParameterError
    from synesthesia.io.audio import load_audio
    from synesthesia.io.image import load_image
    from synesthesia.pipelines.retrieval import AudioImageRetriever, list_media

    if args.audio is not None and (args.images is None or args.audios is not None):
        raise ParameterError("--audio needs a gallery of images: --images DIR (not --audios)")
    if args.image is not None and (args.audios is None or args.images is not None):
        raise ParameterError("--image needs a gallery of audio clips: --audios DIR (not --images)")
    if args.k < 1:
        raise ParameterError(f"-k={args.k} must be a positive integer")
    if args.output is not None:
        check_output_file(args.output, flag="--output", suffixes=(".png",))
    if args.model is None:
        from synesthesia.pipelines.pretrained import pretrained_path

        args.model = pretrained_path("embed_digits")
    retriever = AudioImageRetriever.from_pretrained(args.model)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if args.audio is not None:
            gallery = list_media(args.images, "image")
            embeddings, used, items = retriever.embed_image_files(gallery)
            query = retriever.embed_audio_files([args.audio])[0]
            waveform, rate = load_audio(args.audio)
            shown_query = retriever.prepare_audio(waveform, rate)[0][0]
            if retriever.model.audio_input == "waveform":
                shown_query = retriever.log_mel(shown_query[None], _lengths_of(shown_query))[0][0]
        else:
            gallery = list_media(args.audios, "audio")
            embeddings = retriever.embed_audio_files(gallery)
            used = gallery
            mode = "L" if retriever.model.image_in_channels == 1 else "RGB"
            shown_query = load_image(args.image, mode=mode)
            query = retriever.model.encode_image(retriever.prepare_image(shown_query)).detach()[0]
            items = []
            for path in used:
                waveform, rate = load_audio(path)
                audio, _ = retriever.prepare_audio(waveform, rate)
                if retriever.model.audio_input == "waveform":
                    audio = retriever.log_mel(audio, _lengths_of(audio[0]))[0]
                items.append(audio[0])
    for warning in caught:
        log.warning("%s", warning.message)
    if args.k > len(used):
        log.warning("-k=%d is more than the %d gallery items; showing all", args.k, len(used))
    ranking = AudioImageRetriever.rank(query, embeddings, [p.name for p in used], k=args.k)
    query_path = args.audio if args.audio is not None else args.image
    print(f"query: {query_path} ({len(used)} gallery items)")
    for rank, (name, score) in enumerate(zip(ranking.names, ranking.scores), start=1):
        print(f"{rank:>3d}  {score:.3f}  {name}")
    if args.audio is not None and retriever.ood is not None:
        from synesthesia.cli._ood import warn_if_ood

        ood_scores, flags = retriever.audio_ood(*retriever.prepare_audio(*load_audio(args.audio)))
        warn_if_ood(str(args.audio), float(ood_scores[0]), bool(flags[0]), retriever.ood)
    if args.output is not None:
        import matplotlib.pyplot as plt

        from synesthesia.utils import atomic_path
        from synesthesia.viz.retrieval import plot_retrieval_grid

        fig = plot_retrieval_grid(
            shown_query,
            [items[i] for i in ranking.indices],
            scores=ranking.scores,
            names=ranking.names,
            query_kind="audio" if args.audio is not None else "image",
            query_name=query_path.name,
        )
        with atomic_path(args.output) as tmp:
            fig.savefig(tmp, dpi=100, format="png")
        plt.close(fig)
        print(f"grid: {args.output}")
    return 0


def _lengths_of(waveform: Any) -> Any:
    """LongTensor([T]) of a clip (T,)."""
    import torch

    return torch.tensor([waveform.shape[-1]])
