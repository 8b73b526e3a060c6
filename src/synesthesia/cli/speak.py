"""``synesthesia speak "text" -o OUT.wav``: text-to-speech with a trained Tacotron 2.

Never imports Lightning. Without ``--model`` the default shipped voice
(``synesthesia.pipelines.pretrained.DEFAULT_VOICE``) speaks; ``--model`` also takes another
shipped voice's name or a model folder. The vocoder is Griffin-Lim unless ``--vocoder wavenet``
(the WaveNet shipped for the voice) or ``--vocoder DIR`` (a WaveNet trained on the same
AudioConfig).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from synesthesia.cli._checks import (
    FIGURE_SUFFIXES,
    check_mel_output,
    check_output_file,
    read_text_argument,
)
from synesthesia.errors import ParameterError

log = logging.getLogger(__name__)

#: texts longer than this are refused (split long documents yourself)
MAX_CHARS = 100_000


def _default_voice() -> str:
    from synesthesia.pipelines.pretrained import DEFAULT_VOICE

    return DEFAULT_VOICE


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "speak",
        help="text-to-speech: write TEXT as speech to OUT.wav",
        description="Synthesise speech: text → normalisation and phonemes → Tacotron 2 "
        "log-mel → Griffin-Lim (default) or a WaveNet vocoder → OUT.wav. Long text is split "
        "into sentences. Prints the duration, the real-time factor and, with "
        "--alignment-out, draws each sentence's attention alignment.",
    )
    p.add_argument(
        "text", metavar="TEXT", help="the text to speak ('-' reads UTF-8 from standard input)"
    )
    p.add_argument("-o", "--output", required=True, type=Path, help="output .wav")
    p.add_argument(
        "--model",
        default=None,
        help="a shipped voice (tts_natural, tts_espeak; default: "
        f"{_default_voice()}) or an acoustic model folder (OUT/model of 'tts train')",
    )
    p.add_argument(
        "--vocoder",
        default="griffin-lim",
        help="'griffin-lim' (default), 'wavenet' (the WaveNet shipped for the voice) or a "
        "WaveNet model folder trained on the same AudioConfig",
    )
    p.add_argument(
        "--griffin-lim-iters",
        "--n-iter",
        dest="griffin_lim_iters",
        type=int,
        default=None,
        help="Griffin-Lim iterations (default: the voice's synthesis.json, else 32; --n-iter "
        "is the same flag)",
    )
    p.add_argument(
        "--sharpen",
        type=float,
        default=None,
        metavar="FACTOR",
        help="post-filter of the predicted mel: each band's excursions around its mean are "
        "multiplied by FACTOR (default: the voice's own synthesis.json, else 1 = off)",
    )
    p.add_argument(
        "--alignment-out",
        type=Path,
        default=None,
        help="write the alignment figure (.png, .pdf or .svg)",
    )
    p.add_argument("--mel-out", type=Path, default=None, help="also write the log-mel (.npy)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from synesthesia.io import save_audio
    from synesthesia.pipelines.tts import TextToSpeech

    # every output is checked before any work, so a bad one never leaves another overwritten
    check_output_file(args.output, flag="--output", suffixes=(".wav",))
    if args.mel_out is not None:
        check_mel_output(args.mel_out, flag="--mel-out")
    if args.alignment_out is not None:
        check_output_file(
            args.alignment_out, flag="--alignment-out", suffixes=FIGURE_SUFFIXES,
            written_as="a figure",
        )  # fmt: skip
    text = read_text_argument(args.text, flag="TEXT")
    if len(text) > MAX_CHARS:
        raise ParameterError(f"text has {len(text)} characters; at most {MAX_CHARS} per call")
    from synesthesia.pipelines.pretrained import DEFAULT_VOICE, resolve_model

    try:
        model = resolve_model(args.model, default=DEFAULT_VOICE)
    except ParameterError as error:
        raise ParameterError(f"--model: {error}") from None
    vocoder = args.vocoder
    if vocoder not in ("griffin-lim", "wavenet"):
        vocoder = Path(vocoder)
        if not vocoder.is_dir():
            raise ParameterError(
                f"--vocoder={args.vocoder!r} must be 'griffin-lim', 'wavenet' or a WaveNet "
                "model folder"
            )
    settings = {}
    if args.griffin_lim_iters is not None:
        if not args.griffin_lim_iters > 0:
            raise ParameterError(f"--griffin-lim-iters={args.griffin_lim_iters} must be positive")
        settings["griffin_lim_iters"] = args.griffin_lim_iters
    if args.sharpen is not None:
        if not 0 < args.sharpen <= 3:
            raise ParameterError(f"--sharpen={args.sharpen} must be in (0, 3]")
        settings["sharpen"] = args.sharpen
    tts = TextToSpeech.from_pretrained(model, vocoder=vocoder, **settings)
    start = time.perf_counter()
    speech = tts(text, progress=tts.vocoder is not None)
    elapsed = time.perf_counter() - start
    args.output.parent.mkdir(parents=True, exist_ok=True)
    save_audio(args.output, speech.waveform, speech.sample_rate)
    cut = sum(not s for s in speech.stopped)
    if cut:
        log.warning("%d of %d sentences reached the decoder step limit without a stop token",
                    cut, len(speech.stopped))  # fmt: skip
    if args.mel_out is not None:
        from synesthesia.pipelines.vocoder import save_mel

        save_mel(args.mel_out, speech.mel, tts.audio_config)
    if args.alignment_out is not None:
        from synesthesia.viz.tts import save_alignment_figure

        save_alignment_figure(args.alignment_out, speech, hop_seconds=tts.audio_config.hop_length
                              / tts.audio_config.sample_rate,
                              reduction_factor=tts.acoustic_model.reduction_factor)  # fmt: skip
    print(
        f"wrote {args.output}: {speech.duration:.2f} s at {speech.sample_rate} Hz, "
        f"{len(speech.sentences)} sentence(s), synthesised in {elapsed:.2f} s "
        f"(real-time factor {elapsed / max(speech.duration, 1e-9):.3f})"
    )
    return 0
