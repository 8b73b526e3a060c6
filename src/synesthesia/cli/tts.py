"""``synesthesia tts train``: train a Tacotron 2 text-to-speech acoustic model.

Lightning is imported lazily inside the command; ``synesthesia speak`` (cli/speak.py) never
imports it.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from synesthesia.cli._train import add_train_arguments, apply_train_arguments
from synesthesia.errors import ParameterError

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "tts",
        help="train a text-to-speech acoustic model (Tacotron 2)",
        description="Text-to-speech training. 'synesthesia speak' uses the result.",
    )
    tsub = p.add_subparsers(dest="tts_command", metavar="ACTION", required=True)
    t = tsub.add_parser(
        "train",
        help="train a Tacotron 2 on an LJSpeech-layout folder and export OUT/model",
        description="Train a Tacotron 2 (text → log-mel, location-sensitive attention, "
        "guided-attention loss) on DIR, an LJSpeech-layout folder (metadata.csv + wavs/) such "
        "as 'synesthesia data espeak' writes. Writes OUT/checkpoints, OUT/logs, alignment "
        "figures OUT/alignments/step=N.png and the model folder OUT/model (config.json with "
        "the AudioConfig, model.safetensors, text_processor.json). Resumes from "
        "OUT/checkpoints/last.ckpt when present.",
    )
    t.add_argument("--data", type=Path, default=None, help="speech folder (sets data.root)")
    add_train_arguments(
        t,
        config_help="YAML config (configs/tts/)",
        overrides_example="trainer.max_steps=500 data.batch_size=8",
    )
    t.set_defaults(func=train)


def train(args: argparse.Namespace) -> int:
    from synesthesia.training.config import load_config, validate_config
    from synesthesia.training.logs import route_lightning_logs
    from synesthesia.training.tts import TTS_DEFAULTS, train_tts

    route_lightning_logs()
    config = load_config(args.config, args.overrides, defaults=TTS_DEFAULTS)
    if args.data is not None:
        if not args.data.is_dir():
            raise ParameterError(f"--data={str(args.data)!r} is not a folder")
        config["data"]["root"] = str(args.data)
    validate_config(apply_train_arguments(config, args))
    result = train_tts(config)
    if result.is_global_zero:
        loss = result.metrics.get("val/loss")
        diagonal = result.metrics.get("val/diagonality")
        shown = "n/a" if loss is None else f"{loss:.4f}"
        diag = "n/a" if diagonal is None else f"{diagonal:.3f}"
        print(f"trained {result.global_step} steps; val/loss {shown}; val/diagonality {diag}")
        print(f"model: {result.model_dir}")
        print(f"checkpoints: {result.last_checkpoint.parent}")
    return 0
