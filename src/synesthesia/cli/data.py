"""``synesthesia data espeak --out DIR``: synthesise an LJSpeech-layout corpus offline."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger(__name__)

_KINDS = ("grid", "general", "digits", "mixed", "everyday", "broad")  # = SENTENCE_KINDS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "data",
        help="build built-in data sets (speech corpora synthesised with eSpeak NG)",
        description="Build data sets that need no download.",
    )
    data_sub = p.add_subparsers(dest="data_command", metavar="DATASET", required=True)
    e = data_sub.add_parser(
        "espeak",
        aliases=["speech"],
        help="synthesise an LJSpeech-layout speech corpus (eSpeak NG, Piper, Flite, Festival)",
        description="Synthesise sentences with eSpeak NG voices (or --engine piper|flite|"
        "festival voices) into DIR/wavs/<id>.wav "
        "(16-bit PCM), DIR/metadata.csv (id|text|normalized text), DIR/speakers.csv "
        "(id|voice|rate|pitch) and DIR/split.json (train/val/test held out by voice). "
        "Deterministic; rerunning resumes, a larger --num-utterances extends the corpus.",
    )
    e.add_argument("--out", required=True, type=Path, help="output folder")
    e.add_argument(
        "--num-utterances", type=int, default=100, help="number of utterances (default 100)"
    )
    e.add_argument(
        "--voices",
        nargs="+",
        default=None,
        help="voices used round-robin: eSpeak names such as en-us en-us+f3 en-gb-x-rp+m2 "
        "(default: en-us and its variants f1-f5, m1-m7; 'all' = every usable en-us variant), "
        "names of --engine's voices, or engine:voice speakers (piper:joe flite:slt ...)",
    )
    e.add_argument(
        "--engine",
        choices=("espeak", "piper", "flite", "festival"),
        default="espeak",
        help="speech engine of voices given without 'engine:' (default espeak); without "
        "--voices, every voice of the engine (piper: joe; flite: awb kal16 rms slt; festival: "
        "its installed voices). Rate and pitch become speed and pitch factors.",
    )
    e.add_argument("--kind", choices=_KINDS, default="mixed", help="sentence kind (default mixed)")
    e.add_argument("--seed", type=int, default=0, help="seed of sentences, rates, pitches")
    e.add_argument(
        "--sample-rate", type=int, default=22050, help="rate of the wavs in Hz (default 22050)"
    )
    e.add_argument(
        "--rate-range",
        type=int,
        nargs=2,
        default=(175, 175),
        metavar=("MIN", "MAX"),
        help="speaking rate per utterance, uniform in [MIN, MAX] words/minute (default 175)",
    )
    e.add_argument(
        "--pitch-range",
        type=int,
        nargs=2,
        default=(50, 50),
        metavar=("MIN", "MAX"),
        help="pitch per utterance, uniform in [MIN, MAX] of 0-100 (default 50)",
    )
    e.add_argument(
        "--no-vary",
        dest="vary",
        action="store_false",
        help="neural engines (piper) keep their default delivery instead of drawing "
        "noise_scale/noise_w per utterance: for a one-voice TTS corpus",
    )
    e.add_argument(
        "--overwrite",
        action="store_true",
        help="regenerate a corpus in DIR that was made with other settings",
    )
    e.set_defaults(func=run_espeak)


def run_espeak(args: argparse.Namespace) -> int:
    from synesthesia.cli._checks import check_output_dir
    from synesthesia.data.engines import get_engine
    from synesthesia.data.espeak import list_voices
    from synesthesia.data.espeak_corpus import DEFAULT_VOICES, write_espeak_corpus
    from synesthesia.errors import ParameterError

    check_output_dir(args.out, flag="--out")
    if args.engine == "espeak":
        voices = DEFAULT_VOICES if args.voices is None else args.voices
        if list(voices) == ["all"]:
            voices = list_voices("en-us")
    else:
        engine = get_engine(args.engine)
        names = engine.voices() if args.voices is None else args.voices
        if not names:
            engine.check_voice("")  # raises: the engine is not installed, with what to install
            raise ParameterError(f"--engine {args.engine} has no voices here")
        voices = [v if ":" in v else f"{args.engine}:{v}" for v in names]
    summary = write_espeak_corpus(
        args.out,
        num_utterances=args.num_utterances,
        voices=voices,
        kind=args.kind,
        seed=args.seed,
        sample_rate=args.sample_rate,
        rate_range=tuple(args.rate_range),
        pitch_range=tuple(args.pitch_range),
        vary=args.vary,
        overwrite=args.overwrite,
    )
    split = summary["split"]
    print(
        f"wrote {args.out}: {summary['num_utterances']} utterances "
        f"({summary['num_written']} new, {summary['num_skipped']} kept); voices train "
        f"{len(split['train'])}, val {split['val']}, test {split['test']}"
    )
    return 0
