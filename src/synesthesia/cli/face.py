"""``synesthesia face``: Speech2Face — from a voice, the face behind it.

``face data`` writes the SYNTHETIC voice–face corpus (eSpeak voices, drawn faces, planted
correlations); ``face train`` imports Lightning (lazily, inside the command) and runs the four
stages; ``face predict`` and ``face evaluate`` load an exported folder and never import it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from synesthesia.cli._train import add_train_command
from synesthesia.errors import ParameterError

SHIPPED = "speech2face_synthetic"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "face",
        help="Speech2Face: predict a face from a voice (voice encoder → face feature → decoder)",
        description="Speech2Face (Oh et al., CVPR 2019), scaled down: a face encoder, a face "
        "decoder and a voice encoder that regresses the face feature of the speaker. The "
        "built-in data are SYNTHETIC: eSpeak NG voices paired with drawn faces whose "
        "attributes are PLANTED from the voice settings; real correlations need VoxCeleb or "
        "AVSpeech (give --data TREE or --csv LIST).",
    )
    face_sub = p.add_subparsers(dest="face_command", metavar="ACTION", required=True)

    d = face_sub.add_parser(
        "data",
        help="write the synthetic voice–face corpus (a VoxCeleb-style tree)",
        description="Write OUT/<identity>/clip*.wav + face.png (+ frame*.png) and "
        "OUT/speakers.json: eSpeak NG voices (variant × accent × pitch × rate) with faces drawn "
        "by a stated rule (synesthesia.data.synthetic_faces). The correlations are planted.",
    )
    d.add_argument("--out", type=Path, required=True, help="folder to write the tree into")
    d.add_argument("--max-identities", type=int, default=None, help="keep N of the 432 voices")
    d.add_argument("--clips-per-identity", type=int, default=5, help="phrases per voice")
    d.add_argument("--frames-per-identity", type=int, default=3, help="jittered face frames")
    d.add_argument("--sample-rate", type=int, default=16000, help="clip rate in Hz")
    d.add_argument("--image-size", type=int, default=64, help="face side in pixels")
    d.add_argument("--test-fraction", type=float, default=0.15, help="held-out speakers")
    d.add_argument("--seed", type=int, default=0, help="random seed")
    d.set_defaults(func=make_data)

    add_train_command(
        face_sub,
        "synesthesia.training.speech2face:SPEECH2FACE_TASK",
        help="face encoder → face decoder → attribute classifier → voice encoder; OUT/model",
        description="Train the four stages (OUT/face, OUT/decoder, OUT/attributes, OUT/voice) "
        "with Lightning, evaluate on held-out speakers and write OUT/model (one Speech2Face "
        "folder with metrics.json and figure.png). Without --data/--csv the synthetic corpus is "
        "generated into OUT/corpus first.",
        config_help="YAML config (default: built-in defaults, as "
        "configs/speech2face/synthetic.yaml)",
        overrides_example="data.face_steps=100 trainer.max_steps=300",
        max_steps_help="voice-encoder steps (trainer.max_steps)",
        resume_help="auto (default): each stage continues from its last.ckpt when it exists; "
        "never: start fresh",
        resume_metavar="auto|never",
        add_arguments=_data_arguments,
        configure=_configure,
        report=lambda result: [
            _summary(result.metrics),
            f"model: {result.model_dir}",
            f"figure: {result.figure}",
        ],
    )

    r = face_sub.add_parser(
        "predict",
        help="decode the face of a voice clip into a PNG",
        description="Load a Speech2Face folder (no Lightning needed), read the clip (resampled "
        "to the model's rate, mixed to mono), write the decoded face as a PNG and print the "
        "attributes the attribute classifier reads off it.",
    )
    r.add_argument("audio", type=Path, help="audio file (WAV, FLAC, OGG ...)")
    r.add_argument("--out", type=Path, required=True, help="PNG file for the face")
    r.add_argument("--model", type=Path, default=None, help=f"model folder (default: {SHIPPED})")
    r.add_argument("--scale", type=int, default=4, help="enlarge the face SCALE× (default 4)")
    r.set_defaults(func=predict)

    e = face_sub.add_parser(
        "evaluate",
        help="score a Speech2Face folder on held-out speakers (retrieval, cosine, attributes)",
        description="Read a tree (--data) or a list (--csv), take its held-out speakers (as "
        "speakers.json / the split column says, else a seeded --test-fraction) and print "
        "voice→face retrieval R@1/5/10 among their faces, the cosine of predicted and true face "
        "features and the attribute agreement of the decoded faces — for the model, the mean "
        "face, the nearest training voice, and chance.",
    )
    _data_arguments(e)
    e.add_argument("--model", type=Path, default=None, help=f"model folder (default: {SHIPPED})")
    e.add_argument("--test-fraction", type=float, default=0.15, help="held out without a split")
    e.add_argument("--seed", type=int, default=0, help="seed of the held-out draw")
    e.add_argument("--figure", type=Path, default=None, help="also write the face grid PNG")
    e.add_argument("--json", type=Path, default=None, help="also write the scores as JSON")
    e.set_defaults(func=evaluate)


def _data_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--data", type=Path, default=None, help="a VoxCeleb-style tree")
    group.add_argument("--csv", type=Path, default=None, help="an AVSpeech-style CSV list")


def _configure(config: dict, args: argparse.Namespace) -> None:
    if args.resume not in (None, "auto", "never"):
        raise ParameterError(f"--resume={args.resume!r} must be 'auto' or 'never'")
    if args.data is not None:
        if not args.data.is_dir():
            raise ParameterError(f"--data={str(args.data)!r} is not a folder")
        config["data"]["root"] = str(args.data)
    if args.csv is not None:
        if not args.csv.is_file():
            raise ParameterError(f"--csv={str(args.csv)!r} is not a file")
        config["data"]["csv"] = str(args.csv)


def _summary(metrics: dict) -> str:
    m, chance = metrics["model"], metrics["chance"]
    line = (
        f"held-out speakers: {metrics['num_speakers']} ({metrics['num_clips']} clips); "
        f"voice→face R@1 {m['R@1']:.3f} R@5 {m['R@5']:.3f} R@10 {m['R@10']:.3f} "
        f"(chance {chance['R@1']:.3f}/{chance['R@5']:.3f}/{chance['R@10']:.3f}"
    )
    if "nearest_voice" in metrics:
        b = metrics["nearest_voice"]
        line += f"; nearest training voice {b['R@1']:.3f}/{b['R@5']:.3f}/{b['R@10']:.3f}"
    line += f"), cosine {m['cosine']:.3f}"
    if "attributes" in m:
        line += (
            f", attribute agreement {m['attributes']['mean']:.3f} "
            f"(majority {chance['attributes']['mean']:.3f})"
        )
    return line


def _model_dir(args: argparse.Namespace) -> Path:
    if args.model is not None:
        return args.model
    from synesthesia.pipelines.pretrained import pretrained_path

    return pretrained_path(SHIPPED)


def make_data(args: argparse.Namespace) -> int:
    from synesthesia.cli._checks import check_output_dir
    from synesthesia.data.speech2face import make_speech2face_corpus

    check_output_dir(args.out, flag="--out")
    root = make_speech2face_corpus(
        args.out,
        clips_per_identity=args.clips_per_identity,
        frames_per_identity=args.frames_per_identity,
        sample_rate=args.sample_rate,
        image_size=args.image_size,
        max_identities=args.max_identities,
        test_fraction=args.test_fraction,
        seed=args.seed,
    )
    meta = json.loads((root / "speakers.json").read_text())["identities"]
    held_out = sum(1 for v in meta.values() if v["split"] == "test")
    print(f"wrote {len(meta)} SYNTHETIC identities ({held_out} held out) to {root}")
    return 0


def predict(args: argparse.Namespace) -> int:
    from synesthesia.cli._checks import check_output_file
    from synesthesia.pipelines.speech2face import Speech2Face

    check_output_file(args.out, flag="--out", suffixes=(".png",))
    if args.scale < 1:
        raise ParameterError(f"--scale={args.scale} must be a positive integer")
    pipeline = Speech2Face.from_pretrained(_model_dir(args), flag="--model")
    result = pipeline.predict_file(args.audio)
    path = pipeline.save_face(result.face, args.out, scale=args.scale)
    print(f"face: {path}")
    for name, value in result.attributes.items():
        print(f"{name:<8s} {value}")
    return 0


def evaluate(args: argparse.Namespace) -> int:
    from synesthesia.cli._checks import check_output_file
    from synesthesia.data.speech2face import load_face_voice_list, load_face_voice_tree
    from synesthesia.pipelines.speech2face import Speech2Face

    if args.data is None and args.csv is None:
        raise ParameterError("give --data TREE or --csv LIST (the speakers to score)")
    if args.figure is not None:
        check_output_file(args.figure, flag="--figure", suffixes=(".png",))
    if args.json is not None:
        check_output_file(args.json, flag="--json", suffixes=(".json",))
    pipeline = Speech2Face.from_pretrained(_model_dir(args), flag="--model")
    common = {"sample_rate": pipeline.sample_rate, "image_size": pipeline.model.image_size}
    if args.data is not None:
        data = load_face_voice_tree(args.data, **common)
    else:
        data = load_face_voice_list(args.csv, **common)
    train = data.split("train", test_fraction=args.test_fraction, seed=args.seed)
    test = data.split("test", test_fraction=args.test_fraction, seed=args.seed)
    metrics = pipeline.evaluate(test, train)
    rows = [
        ("model", metrics["model"]),
        ("nearest training voice", metrics["nearest_voice"]),
        ("mean face", metrics["mean_face"]),
    ]
    print(f"held-out speakers: {metrics['num_speakers']} ({metrics['num_clips']} clips)")
    header = ["method", "R@1", "R@5", "R@10", "cosine", "centred", "attributes"]
    print(f"{header[0]:<24s} " + " ".join(f"{h:>10s}" for h in header[1:]))
    for name, m in rows:
        attributes = f"{m['attributes']['mean']:.3f}" if "attributes" in m else "n/a"
        values = [m["R@1"], m["R@5"], m["R@10"], m["cosine"], m["cosine_centred"]]
        print(f"{name:<24s} " + " ".join(f"{v:10.3f}" for v in values) + f" {attributes:>10s}")
    c = metrics["chance"]
    attributes = f"{c['attributes']['mean']:.3f}" if "attributes" in c else "n/a"
    values = " ".join(f"{c[k]:10.3f}" for k in ("R@1", "R@5", "R@10"))
    print(f"{'chance':<24s} {values} {'':>10s} {'':>10s} {attributes:>10s}")
    if args.json is not None:
        from synesthesia.utils import atomic_write_json

        atomic_write_json(args.json, metrics)
    if args.figure is not None:
        figure = pipeline.figure(test)
        figure.savefig(args.figure, dpi=100)
        print(f"figure: {args.figure}")
    return 0
