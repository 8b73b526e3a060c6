"""``synesthesia tts train``: train a Tacotron 2 text-to-speech acoustic model.

Lightning is imported lazily inside the command; ``synesthesia speak`` (cli/speak.py) never
imports it.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from synesthesia.cli._train import add_train_command, shown
from synesthesia.errors import ParameterError

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "tts",
        help="train a text-to-speech acoustic model (Tacotron 2)",
        description="Text-to-speech training. 'synesthesia speak' uses the result.",
    )
    tsub = p.add_subparsers(dest="tts_command", metavar="ACTION", required=True)
    add_train_command(
        tsub,
        "synesthesia.training.tts:TTS_TASK",
        help="train a Tacotron 2 on an LJSpeech-layout folder and export OUT/model",
        description="Train a Tacotron 2 (text → log-mel, location-sensitive attention, "
        "guided-attention loss) on DIR, an LJSpeech-layout folder (metadata.csv + wavs/) such "
        "as 'synesthesia data espeak' writes. Writes OUT/checkpoints, OUT/logs, alignment "
        "figures OUT/alignments/step=N.png and the model folder OUT/model (config.json with "
        "the AudioConfig, model.safetensors, text_processor.json). Resumes from "
        "OUT/checkpoints/last.ckpt when present.",
        add_arguments=lambda t: t.add_argument(
            "--data", type=Path, default=None, help="speech folder (sets data.root)"
        ),
        config_help="YAML config (configs/tts/)",
        overrides_example="trainer.max_steps=500 data.batch_size=8",
        configure=_configure_data_root,
        report=lambda result: [
            f"trained {result.global_step} steps; val/loss "
            f"{shown(result.metrics.get('val/loss'), '.4f')}; val/diagonality "
            f"{shown(result.metrics.get('val/diagonality'), '.3f')}",
            f"model: {result.model_dir}",
            f"checkpoints: {result.last_checkpoint.parent}",
        ],
    )


def _configure_data_root(config: dict, args: argparse.Namespace) -> None:
    if args.data is not None:
        if not args.data.is_dir():
            raise ParameterError(f"--data={str(args.data)!r} is not a folder")
        config["data"]["root"] = str(args.data)
