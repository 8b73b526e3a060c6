"""``synesthesia scene``: scene recognition by sound (SoundNet-style teacher → student → probe).

``scene train`` imports Lightning (lazily, inside the command); ``scene predict`` never does: it
loads the exported student folder (config.json + model.safetensors, probe included).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from synesthesia.cli._train import add_train_command
from synesthesia.errors import ParameterError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "scene",
        help="recognise scenes by sound: a visual teacher trains an audio student (SoundNet)",
        description="Train on the built-in SYNTHETIC scenes (procedural pictures and ambient "
        "sounds of rain, wind, birds, traffic, water, crowd): an image classifier (teacher) "
        "labels unlabeled image–sound pairs, a SoundNet-style waveform CNN (student) learns "
        "from the teacher's posteriors alone, and a linear probe on the student's features is "
        "fitted with a few labelled clips per class. Or predict the scene of a clip.",
    )
    scene_sub = p.add_subparsers(dest="scene_command", metavar="ACTION", required=True)

    add_train_command(
        scene_sub,
        "synesthesia.training.scene:SCENE_TASK",
        help="teacher → student → probe on synthetic scenes; export OUT/model",
        description="Train the teacher (OUT/teacher) and the student (OUT/student) with "
        "Lightning, fit the probe, and write OUT/model (the student with its probe) and "
        "OUT/metrics.json (teacher accuracy, student probe accuracy, random-init probe "
        "accuracy on held-out clips).",
        config_help="YAML config (default: built-in defaults, as configs/scene/synthetic.yaml)",
        overrides_example="data.teacher_steps=100 trainer.max_steps=200",
        max_steps_help="student steps (trainer.max_steps)",
        resume_help="auto (default): each stage continues from its last.ckpt when it exists; "
        "never: start fresh",
        resume_metavar="auto|never",
        configure=_check_resume_flag,
        report=lambda result: [
            f"teacher accuracy on held-out images: {result.teacher_accuracy:.3f}",
            "linear probe on held-out clips: distilled student "
            f"{result.student_probe_accuracy:.3f}, random-init network "
            f"{result.random_probe_accuracy:.3f}",
            f"model: {result.model_dir}",
        ],
    )

    r = scene_sub.add_parser(
        "predict",
        help="print the scene-class probabilities of an audio clip",
        description="Load an exported student folder (no Lightning needed), read the clip "
        "(resampled to the model's rate, mixed to mono) and print each class's probability, "
        "most likely first. When the folder has an OOD detector (ood.json) and the clip "
        "scores above its threshold, one warning line on stderr says the clip looks unlike "
        "the training data (the exit code stays 0).",
    )
    r.add_argument("audio", type=Path, help="audio file (WAV, FLAC, OGG ...)")
    r.add_argument(
        "--model",
        type=Path,
        default=None,
        help="exported student folder (OUT/model; default: the shipped scene_synthetic model)",
    )
    r.add_argument("--top", type=int, default=None, help="print only the TOP most likely classes")
    r.set_defaults(func=predict)


def _check_resume_flag(config: dict, args: argparse.Namespace) -> None:
    if args.resume not in (None, "auto", "never"):
        raise ParameterError(f"--resume={args.resume!r} must be 'auto' or 'never'")


def predict(args: argparse.Namespace) -> int:
    from synesthesia.cli._ood import warn_if_ood
    from synesthesia.pipelines.scene import SceneClassifier

    if args.top is not None and args.top < 1:
        raise ParameterError(f"--top={args.top} must be a positive integer")
    if args.model is None:
        from synesthesia.pipelines.pretrained import pretrained_path

        args.model = pretrained_path("scene_synthetic")
    classifier = SceneClassifier.from_pretrained(args.model)
    result = classifier.predict_file(args.audio)
    for name, probability in result.top(args.top):
        print(f"{name:<12s} {probability:.3f}")
    warn_if_ood(str(args.audio), result.ood_score, result.is_ood, classifier.ood)
    return 0
