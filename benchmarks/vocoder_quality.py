"""Vocoder quality on held-out voices: original vs Griffin-Lim vs WaveNet (WER and MCD).

For each utterance of the corpus's ``test`` split (voices never seen in training), the
log-mel is computed with the model's AudioConfig; Griffin-Lim (NNLS inverse mel + 64
iterations) and the WaveNet (``--temperature``, default 1.0; seed 0) each turn that same
log-mel into a waveform. The judge (pocketsphinx with the GRID grammar, ``synesthesia.metrics.
intelligibility``) transcribes every version; MCD (``synesthesia.metrics.mcd``, 24 coefficients,
frames paired one to one) compares each reconstruction with the original.

A fourth row, ``mu-law 256``, is the original itself passed through 8-bit mu-law encoding and
decoding: no vocoder is involved, so it is the floor of any vocoder whose output is a 256-way
mu-law softmax (a perfect one would reproduce exactly these samples).

    OMP_NUM_THREADS=1 python benchmarks/vocoder_quality.py --corpus DIR --model DIR \
        [--num-utterances 20] [--out-dir WAVS] [--figure docs/figures/vocoder_mels.png]

``--figure`` draws the log-mels of the first utterance's three versions on one colour scale.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from synesthesia.data.sentences import transcript_words
from synesthesia.data.speech import LJSpeechDataset
from synesthesia.functional.mu_law import mu_law_decode, mu_law_encode
from synesthesia.io import save_audio
from synesthesia.metrics.intelligibility import grid_grammar, transcribe, word_error_rate
from synesthesia.metrics.mcd import mel_cepstral_distortion
from synesthesia.pipelines.vocoder import griffin_lim_from_log_mel, load_vocoder, log_mel


def save_figure(path: Path, utterance: str, waves: dict, config) -> None:
    """The log-mels (the model's analysis) of each version, stacked, written atomically."""
    from synesthesia.utils import atomic_path
    from synesthesia.viz.audio import plot_log_mels

    mels = {name: log_mel(wave.float(), config) for name, wave in waves.items()}
    fig = plot_log_mels(mels, hop_seconds=config.hop_length / config.sample_rate,
                        title=f"{utterance}: the same log-mel turned back into sound")  # fmt: skip
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=80)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="espeak corpus folder")
    parser.add_argument("--model", type=Path, required=True, help="WaveNet model folder")
    parser.add_argument("--split", default="test", help="split.json split (default test)")
    parser.add_argument("--num-utterances", type=int, default=20, help="utterances to score")
    parser.add_argument("--out-dir", type=Path, default=None, help="also write the wavs here")
    parser.add_argument("--temperature", type=float, default=1.0, help="WaveNet temperature")
    parser.add_argument("--figure", type=Path, default=None, help="PNG of the first "
                        "utterance's log-mels: original, Griffin-Lim, WaveNet")  # fmt: skip
    args = parser.parse_args()

    model = load_vocoder(args.model)
    config = model.audio_config
    data = LJSpeechDataset(args.corpus, sample_rate=config.sample_rate, split=args.split)
    grammar = grid_grammar()
    rate = config.sample_rate
    references: list[list[str]] = []
    names = ("original", "mu-law 256", "griffin-lim", "wavenet")
    hypotheses: dict[str, list[list[str]]] = {name: [] for name in names}
    mcd: dict[str, list[float]] = {name: [] for name in names[1:]}
    seconds = {"griffin-lim": 0.0, "wavenet": 0.0}
    audio_seconds = 0.0
    for index in range(min(args.num_utterances, len(data))):
        item = data[index]
        original = item["waveform"]
        mel = log_mel(original, config)
        mulaw = mu_law_decode(mu_law_encode(original, quantization_channels=256),
                              quantization_channels=256)  # fmt: skip
        start = time.perf_counter()
        gl = griffin_lim_from_log_mel(mel, config, n_iter=64, seed=0, length=original.numel())
        seconds["griffin-lim"] += time.perf_counter() - start
        start = time.perf_counter()
        wn, _ = model.generate(
            mel.unsqueeze(0),
            temperature=args.temperature,
            generator=torch.Generator().manual_seed(0),
            progress=False,
        )
        seconds["wavenet"] += time.perf_counter() - start
        wn = wn[0, : original.numel()]
        audio_seconds += original.numel() / rate
        references.append(transcript_words(item["text"]))
        if index == 0 and args.figure is not None:
            save_figure(args.figure, item["id"], {"original": original, "Griffin-Lim": gl,
                        "WaveNet": wn}, config)  # fmt: skip
        waves = {"original": original, "mu-law 256": mulaw, "griffin-lim": gl, "wavenet": wn}
        for name, wave in waves.items():
            hypotheses[name].append(transcribe(wave, rate, grammar=grammar).split())
            if name != "original":
                mcd[name].append(
                    mel_cepstral_distortion(
                        original,
                        wave,
                        sample_rate=rate,
                        n_fft=1024,
                        hop_length=256,
                        n_mels=80,
                        order=24,
                    )  # fmt: skip
                )
            if args.out_dir is not None:
                save_audio(args.out_dir / f"{item['id']}_{name}.wav", wave.clamp(-1, 1), rate)
    count = len(references)
    voices = sorted({data[i].get("speaker", "") for i in range(count)})
    print(f"{count} held-out utterances ({audio_seconds:.1f} s) of voices {voices} at {rate} Hz")
    print(f"{'':12} {'WER':>6} {'MCD dB':>7} {'x real time':>12}")
    for name in names:
        wer = word_error_rate(references, hypotheses[name])
        mean_mcd = sum(mcd[name]) / count if name in mcd else 0.0
        speed = audio_seconds / seconds[name] if name in seconds else float("nan")
        print(f"{name:12} {wer:6.3f} {mean_mcd:7.2f} {speed:12.2f}")


if __name__ == "__main__":
    main()
