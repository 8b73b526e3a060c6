"""``synesthesia vocoder``: train a WaveNet vocoder, compute log-mels, synthesize waveforms.

``vocoder train`` imports Lightning lazily inside the command; ``vocoder mel`` and
``vocoder synthesize`` never do (they use :mod:`synesthesia.pipelines.vocoder`).

The mel representation (also what ``vocoder mel`` writes): a float32 ``.npy`` array (M, N),
the natural-log mel magnitude ``LogMelSpectrogram.from_config(cfg)(waveform)`` =
``log(max(mel_filterbank @ |STFT|**power, log_floor))`` with centred frames, plus a sidecar
``<stem>.json`` holding the AudioConfig it was made with.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from synesthesia.cli._checks import audio_suffixes, check_mel_output, check_output_file
from synesthesia.cli._train import add_train_command, shown
from synesthesia.errors import ParameterError

log = logging.getLogger(__name__)


def _add_audio_config(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--audio-config",
        type=Path,
        default=None,
        help="AudioConfig JSON of the analysis (default: the model's, or the built-in "
        "defaults: 22050 Hz, n_fft 1024, hop 256, 80 mels)",
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "vocoder",
        help="train a WaveNet vocoder, compute log-mels, turn log-mels into speech",
        description="Train a mel-conditioned WaveNet vocoder on a speech folder (Lightning: "
        "checkpoints, resume, logs), compute log-mel-spectrograms, and synthesize waveforms "
        "with a trained model or with the Griffin-Lim baseline.",
    )
    vsub = p.add_subparsers(dest="vocoder_command", metavar="ACTION", required=True)

    add_train_command(
        vsub,
        "synesthesia.training.vocoder:VOCODER_TASK",
        help="train on a speech folder and export OUT/model",
        description="Train a WaveNet on random hop-aligned crops of DIR (an LJSpeech-layout "
        "folder such as 'synesthesia data espeak' writes, using its split.json train/val "
        "voices, or any folder of audio files). Writes OUT/checkpoints, OUT/logs and the "
        "model folder OUT/model (config.json with the AudioConfig, model.safetensors, "
        "audio_config.json). Resumes from OUT/checkpoints/last.ckpt when present.",
        add_arguments=lambda t: t.add_argument(
            "--data", type=Path, default=None, help="speech folder (sets data.root)"
        ),
        config_help="YAML config (configs/vocoder/)",
        overrides_example="trainer.max_steps=500 optim.lr=1e-3",
        configure=_configure_data_root,
        report=lambda result: [
            f"trained {result.global_step} steps; val/loss "
            f"{shown(result.metrics.get('val/loss'), '.4f', ' nats/sample')}",
            f"model: {result.model_dir}",
            f"checkpoints: {result.last_checkpoint.parent}",
        ],
    )

    m = vsub.add_parser(
        "mel",
        help="write the log-mel of a wav as MEL.npy (+ MEL.json with its AudioConfig)",
        description="Compute the log-mel (M, N) a vocoder consumes: "
        "LogMelSpectrogram.from_config(cfg), natural log of the mel magnitude floored at "
        "log_floor, centred frames. Writes float32 MEL.npy and the AudioConfig as MEL.json.",
    )
    m.add_argument("input", type=Path, help="audio file (resampled to the config's rate)")
    m.add_argument("-o", "--output", required=True, type=Path, help="output .npy")
    m.add_argument("--model", type=Path, default=None, help="use this model folder's analysis")
    _add_audio_config(m)
    m.set_defaults(func=mel)

    s = vsub.add_parser(
        "synthesize",
        help="turn IN.wav or MEL.npy into speech with a WaveNet (or Griffin-Lim)",
        description="Synthesize a waveform from a log-mel. IN.wav is analysed with the "
        "model's AudioConfig; MEL.npy must be a (M, N) log-mel as 'vocoder mel' writes (its "
        "sidecar MEL.json, when present, must match the model's AudioConfig). --griffin-lim "
        "uses the model-free baseline instead (NNLS inverse mel + Griffin-Lim) with "
        "--audio-config, else MEL.json, else the default AudioConfig.",
    )
    s.add_argument("input", type=Path, help="IN.wav (any audio file) or MEL.npy")
    s.add_argument("-o", "--output", required=True, type=Path, help="output audio file (.wav)")
    s.add_argument(
        "--model",
        default=None,
        help="WaveNet model folder or a shipped vocoder's name (default: the WaveNet shipped "
        "for the default voice, when the package has one)",
    )
    s.add_argument(
        "--temperature", type=float, default=1.0, help="sampling temperature > 0 (default 1.0)"
    )
    s.add_argument("--seed", type=int, default=0, help="sampling / initial phase seed")
    s.add_argument(
        "--backend",
        choices=("auto", "torch", "numba"),
        default="auto",
        help="WaveNet generation backend (default auto: numba on CPU when available)",
    )
    s.add_argument(
        "--weight-dtype",
        choices=("float32", "float16"),
        default="float32",
        help="precision of the WaveNet weight matrices during generation: float16 rounds "
        "them to half precision (about 1.4x faster with numba; products and sums stay "
        "float32; exact for a model saved in float16). Default float32",
    )
    s.add_argument("--griffin-lim", action="store_true", help="use Griffin-Lim instead of a model")
    s.add_argument(
        "--griffin-lim-iters",
        "--n-iter",
        dest="n_iter",
        type=int,
        default=64,
        help="Griffin-Lim iterations (default 64; --n-iter is the same flag)",
    )
    _add_audio_config(s)
    s.set_defaults(func=synthesize)


def _configure_data_root(config: dict, args: argparse.Namespace) -> None:
    if args.data is not None:
        if not args.data.is_dir():
            raise ParameterError(f"--data={str(args.data)!r} is not a folder")
        config["data"]["root"] = str(args.data)


def _audio_config(args: argparse.Namespace):
    from synesthesia.config import AudioConfig

    if args.audio_config is None:
        return None
    if not args.audio_config.is_file():
        raise ParameterError(f"--audio-config={str(args.audio_config)!r} is not a file")
    return AudioConfig.from_json(args.audio_config)


def _input_mel(path: Path, audio_config):
    """(M, N) log-mel of IN.wav or MEL.npy, and the AudioConfig the mel was made with."""
    from synesthesia.io import load_audio
    from synesthesia.pipelines.vocoder import load_mel, log_mel

    if not path.is_file():
        raise ParameterError(f"input={str(path)!r} does not exist or is not a file")
    if path.suffix.lower() == ".npy":
        mel, made_with = load_mel(path)
        return mel, made_with, None
    waveform, _ = load_audio(path, sample_rate=audio_config.sample_rate)
    if waveform.numel() < audio_config.hop_length:
        raise ParameterError(
            f"input={str(path)!r} has {waveform.numel()} samples, fewer than one frame "
            f"(hop_length={audio_config.hop_length})"
        )
    return log_mel(waveform, audio_config), audio_config, waveform.numel()


def mel(args: argparse.Namespace) -> int:
    from synesthesia.config import AudioConfig
    from synesthesia.pipelines.vocoder import load_vocoder, save_mel

    if args.model is not None and args.audio_config is not None:
        raise ParameterError("give --model or --audio-config, not both")
    check_mel_output(args.output, flag="--output")
    config = load_vocoder(args.model).audio_config if args.model else _audio_config(args)
    config = config or AudioConfig()
    if args.input.suffix.lower() == ".npy":
        raise ParameterError(f"input={str(args.input)!r} must be an audio file, not a .npy")
    values, _, _ = _input_mel(args.input, config)
    save_mel(args.output, values, config)
    print(f"wrote {args.output} ({values.shape[0]} mel bins x {values.shape[1]} frames) and "
          f"{args.output.with_suffix('.json')}")  # fmt: skip
    return 0


def synthesize(args: argparse.Namespace) -> int:
    import torch

    from synesthesia.config import AudioConfig
    from synesthesia.io import save_audio
    from synesthesia.models.mel_input import check_mel
    from synesthesia.pipelines.vocoder import griffin_lim_from_log_mel, load_mel, load_vocoder

    if not args.temperature > 0:
        raise ParameterError(f"--temperature={args.temperature} must be > 0")
    if args.griffin_lim and args.model is not None:
        raise ParameterError("give either --model DIR or --griffin-lim, not both")
    if not args.griffin_lim:
        from synesthesia.pipelines.pretrained import (
            DEFAULT_VOICE,
            SHIPPED_VOCODERS,
            resolve_model,
        )

        if args.model is None and DEFAULT_VOICE not in SHIPPED_VOCODERS:
            raise ParameterError("no WaveNet ships with this package: give --model DIR or "
                                 "--griffin-lim")  # fmt: skip
        try:
            folder = resolve_model(args.model, default=SHIPPED_VOCODERS.get(DEFAULT_VOICE, ""))
        except ParameterError:
            raise ParameterError(f"--model={args.model!r} is neither a WaveNet folder nor a "
                                 "shipped vocoder") from None  # fmt: skip
    check_output_file(args.output, flag="--output", suffixes=audio_suffixes(), written_as="audio")
    if args.griffin_lim:
        if args.n_iter <= 0:
            raise ParameterError(f"--griffin-lim-iters={args.n_iter} must be a positive integer")
        config = _audio_config(args)
        if config is None and args.input.suffix.lower() == ".npy":
            config = load_mel(args.input)[1]  # the sidecar's analysis, when there is one
        config = config or AudioConfig()
        values, made_with, length = _input_mel(args.input, config)
        values, _ = check_mel(values, config, mel_audio_config=made_with)
        start = time.perf_counter()
        waveform = griffin_lim_from_log_mel(
            values[0], config, n_iter=args.n_iter, seed=args.seed, length=length
        )
        what = f"Griffin-Lim, {args.n_iter} iterations"
    else:
        model = load_vocoder(folder)
        config = model.audio_config
        given = _audio_config(args)
        if given is not None:
            config.check_compatible(given, what="--audio-config")
        values, made_with, length = _input_mel(args.input, config)
        values, lengths = model.check_mel(values, audio_config=made_with)
        start = time.perf_counter()
        generator = torch.Generator().manual_seed(args.seed)
        waveform, _ = model.generate(
            values,
            mel_lengths=lengths,
            temperature=args.temperature,
            generator=generator,
            backend=args.backend,
            weight_dtype=torch.float16 if args.weight_dtype == "float16" else None,
        )
        waveform = waveform[0] if length is None else waveform[0, :length]
        what = f"WaveNet, temperature {args.temperature}"
    seconds = time.perf_counter() - start
    save_audio(args.output, waveform.clamp(-1.0, 1.0), config.sample_rate)
    duration = waveform.shape[-1] / config.sample_rate
    print(f"wrote {args.output} ({duration:.2f} s at {config.sample_rate} Hz; {what}; "
          f"{seconds:.1f} s, {duration / max(seconds, 1e-9):.2f}x real time)")  # fmt: skip
    return 0
