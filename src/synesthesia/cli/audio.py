"""``synesthesia audio``: show a sound's representations, or invert its spectrogram."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from synesthesia.cli._checks import FIGURE_SUFFIXES, audio_suffixes, check_output_file
from synesthesia.errors import ParameterError

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "audio",
        help="sound representations: show a file's spectrograms, reconstruct it by Griffin-Lim",
        description="Sound representations of an audio file: 'show' draws its waveform, power "
        "spectrum, spectrogram and mel-spectrogram into one figure; 'reconstruct' discards the "
        "phase of its STFT, rebuilds a waveform with (fast) Griffin-Lim and prints the "
        "spectral convergence.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    show = actions.add_parser(
        "show",
        help="draw waveform, power spectrum, spectrogram and mel-spectrogram",
        description="Draw the waveform, power spectrum, spectrogram and mel-spectrogram of "
        "IN into one PNG/PDF/SVG figure (time in s, frequency in Hz, dB colour bars).",
    )
    show.add_argument("input", type=Path, metavar="IN", help="audio file (wav, flac, ogg ...)")
    show.add_argument("-o", "--output", type=Path, required=True, help="figure file to write")
    _analysis_flags(show)
    show.add_argument("--n-mels", type=int, default=80, help="mel bands (default 80)")
    show.set_defaults(func=run_show)

    rec = actions.add_parser(
        "reconstruct",
        help="rebuild a waveform from the STFT magnitude with Griffin-Lim",
        description="Compute the STFT magnitude of IN, rebuild a waveform from it with fast "
        "Griffin-Lim (Perraudin et al. 2013), write it to OUT and print the spectral "
        "convergence ||S - S_hat|| / ||S|| (0 is perfect).",
    )
    rec.add_argument("input", type=Path, metavar="IN", help="audio file (wav, flac, ogg ...)")
    rec.add_argument("-o", "--output", type=Path, required=True, help="audio file to write")
    _analysis_flags(rec)
    rec.add_argument("--n-iter", type=int, default=32, help="Griffin-Lim iterations (default 32)")
    rec.add_argument(
        "--momentum", type=float, default=0.99, help="fast Griffin-Lim momentum (default 0.99)"
    )
    rec.add_argument("--seed", type=int, default=0, help="seed of the random initial phase")
    rec.set_defaults(func=run_reconstruct)


def _analysis_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sample-rate", type=int, default=None, help="resample to this rate first (Hz)")
    p.add_argument("--n-fft", type=int, default=1024, help="FFT size (default 1024)")
    p.add_argument("--hop-length", type=int, default=256, help="hop in samples (default 256)")


def _load(args: argparse.Namespace):
    from synesthesia.io import load_audio

    return load_audio(args.input, sample_rate=args.sample_rate, mono=True)


def run_show(args: argparse.Namespace) -> int:
    from synesthesia.utils import atomic_path
    from synesthesia.viz.audio import plot_representations

    check_output_file(args.output, flag="--output", suffixes=FIGURE_SUFFIXES, written_as="a figure")
    waveform, sample_rate = _load(args)
    fig = plot_representations(
        waveform,
        sample_rate,
        n_fft=args.n_fft,
        hop_length=args.hop_length,
        n_mels=args.n_mels,
        title=args.input.name,
    )
    with atomic_path(args.output) as tmp:
        fig.savefig(tmp, dpi=100)
    print(f"wrote {args.output}")
    return 0


def run_reconstruct(args: argparse.Namespace) -> int:
    import synesthesia.functional as AF
    from synesthesia.io import save_audio

    if args.n_iter <= 0:
        raise ParameterError(f"--n-iter={args.n_iter} must be a positive integer")
    check_output_file(args.output, flag="--output", suffixes=audio_suffixes(), written_as="audio")
    waveform, sample_rate = _load(args)
    kw = dict(
        n_fft=args.n_fft,
        hop_length=args.hop_length,
        win_length=args.n_fft,
        window="hann",
        center=True,
        pad_mode="reflect",
    )
    magnitude = AF.spectrogram(waveform, power=1.0, **kw)
    rebuilt = AF.griffin_lim(
        magnitude,
        n_iter=args.n_iter,
        momentum=args.momentum,
        init="random",
        seed=args.seed,
        length=waveform.shape[-1],
        **kw,
    )
    convergence = AF.spectral_convergence(magnitude, AF.spectrogram(rebuilt, power=1.0, **kw))
    save_audio(args.output, rebuilt, sample_rate)
    print(
        f"wrote {args.output} ({rebuilt.shape[-1] / sample_rate:.2f} s at {sample_rate} Hz); "
        f"spectral convergence {convergence.item():.4f} after {args.n_iter} iterations "
        f"(momentum {args.momentum})"
    )
    return 0
