"""Text-to-speech quality on held-out sentences: eSpeak's own audio vs our Tacotron 2.

Test sentences are the held-out ones (``synesthesia.data.sentences.heldout_sentences``) that
``synesthesia tts train`` drops from training by default: ``--num-grid`` GRID commands and
all (``--num-general``) held-out general sentences. For each sentence:

* **espeak**: eSpeak NG's audio with the training corpus's voice, rate and pitch (read from
  the model's ``corpus.json``; ``--voice`` overrides), resampled to the model's rate;
* **tts + griffin-lim**: our acoustic model's log-mel through Griffin-Lim (32 iterations);
* **tts + wavenet** (with ``--vocoder DIR``): the same log-mel through the WaveNet.

The judge (pocketsphinx, ``synesthesia.metrics.intelligibility``) transcribes each with the GRID
grammar (GRID sentences) or a word loop over the held-out general sentences' vocabulary, and
jiwer-compatible WER is reported per set. Also: log-mel L1 to eSpeak's log-mel after DTW
alignment (frames paired along the DTW path of their L1 distances), MCD with DTW, and the
share of sentences whose decoding emitted the stop token.

    python benchmarks/tts_quality.py --model runs/tts_espeak/model [--vocoder DIR] \
        [--num-grid 100] [--out-dir WAVS] [--figure docs/figures/tts_alignment.png]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from synesthesia.data.espeak import EspeakSynthesizer
from synesthesia.data.espeak_corpus import reference_voice
from synesthesia.data.sentences import heldout_sentences, transcript_words
from synesthesia.io import resample, save_audio
from synesthesia.metrics.intelligibility import (
    grid_grammar,
    transcribe,
    word_error_rate,
    word_loop_grammar,
)
from synesthesia.metrics.mcd import dtw_log_mel_l1, mel_cepstral_distortion
from synesthesia.pipelines.pretrained import pretrained_path
from synesthesia.pipelines.tts import TextToSpeech
from synesthesia.pipelines.vocoder import log_mel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="acoustic model folder "
                        "(default: the shipped tts_espeak)")  # fmt: skip
    parser.add_argument("--vocoder", type=Path, default=None, help="WaveNet model folder")
    parser.add_argument("--num-grid", type=int, default=100, help="held-out GRID sentences")
    parser.add_argument("--num-general", type=int, default=35, help="held-out general sentences")
    parser.add_argument(
        "--window",
        type=int,
        nargs=2,
        default=None,
        metavar=("BACK", "FWD"),
        help="attention window of free-running decoding (default: none)",
    )
    parser.add_argument("--voice", default=None, help="eSpeak NG voice of the reference audio "
                        "(default: the model's corpus.json, else en-us)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=1, help="seed of the GRID test sentences")
    parser.add_argument("--out-dir", type=Path, default=None, help="also write the wavs here")
    parser.add_argument("--figure", type=Path, default=None, help="alignment figure of one "
                        "GRID and one general sentence (PNG)")  # fmt: skip
    args = parser.parse_args()

    window = None if args.window is None else tuple(args.window)
    tts = TextToSpeech.from_pretrained(args.model, griffin_lim_iters=32, attention_window=window)
    wavenet = None
    if args.vocoder is not None:
        wavenet = TextToSpeech.from_pretrained(args.model, vocoder=args.vocoder,
                                               attention_window=window)  # fmt: skip
    config = tts.audio_config
    rate = config.sample_rate
    synth = EspeakSynthesizer()
    model_dir = args.model if args.model is not None else pretrained_path("tts_espeak")
    speaker = reference_voice(model_dir) or {"voice": "en-us", "rate": 175, "pitch": 50}
    if args.voice is not None:
        speaker = {**speaker, "voice": args.voice}
    sets = {
        "grid": heldout_sentences("grid", args.num_grid, seed=args.seed),
        "general": heldout_sentences("general", args.num_general, seed=0),
    }
    systems = ["espeak", "tts + griffin-lim"] + (["tts + wavenet"] if wavenet else [])
    print(f"model {args.model or 'tts_espeak (shipped)'}; {rate} Hz; attention window {window}; "
          f"reference eSpeak NG {speaker}")  # fmt: skip
    print(f"{'set':8} {'system':18} {'WER':>6} {'mel L1':>7} {'MCD dB':>7} {'stopped':>8} "
          f"{'RTF':>6}")  # fmt: skip
    figure_speech = []
    for name, sentences in sets.items():
        texts = [s.normalized for s in sentences]
        references = [transcript_words(s.text) for s in sentences]
        if name == "grid":
            grammar = grid_grammar()
        else:
            grammar = word_loop_grammar(sorted({w for r in references for w in r}))
        espeak = []
        for s in sentences:
            waveform, espeak_rate = synth.synthesize(s.normalized, **speaker)
            espeak.append(resample(waveform, orig_sample_rate=espeak_rate, target_sample_rate=rate))
        outputs = {"espeak": (espeak, None, 0.0)}
        start = time.perf_counter()
        torch.manual_seed(0)  # pre-net dropout: each set's draws independent of the others
        speech = tts.batch(texts)
        outputs["tts + griffin-lim"] = ([s.waveform for s in speech], speech,
                                        time.perf_counter() - start)  # fmt: skip
        figure_speech.append(speech[0])
        if wavenet is not None:
            start = time.perf_counter()
            torch.manual_seed(0)
            speech_wn = wavenet.batch(texts)
            outputs["tts + wavenet"] = ([s.waveform for s in speech_wn], speech_wn,
                                        time.perf_counter() - start)  # fmt: skip
        for system in systems:
            waves, speech_list, seconds = outputs[system]
            hypotheses = [transcribe(w, rate, grammar=grammar).split() for w in waves]
            wer = word_error_rate(references, hypotheses)
            if speech_list is None:
                print(f"{name:8} {system:18} {wer:6.3f} {'-':>7} {'-':>7} {'-':>8} {'-':>6}")
                continue
            l1 = np.mean(
                [dtw_log_mel_l1(log_mel(e, config), s.mel) for e, s in zip(espeak, speech_list)]
            )
            mcd = np.mean([
                mel_cepstral_distortion(e, w, sample_rate=rate, n_fft=config.n_fft,
                                        hop_length=config.hop_length, n_mels=config.n_mels,
                                        dtw=True)
                for e, w in zip(espeak, waves)
            ])  # fmt: skip
            stopped = np.mean([all(s.stopped) for s in speech_list])
            audio = sum(w.numel() for w in waves) / rate
            print(f"{name:8} {system:18} {wer:6.3f} {l1:7.3f} {mcd:7.2f} {stopped:8.2f} "
                  f"{seconds / audio:6.3f}")  # fmt: skip
        if args.out_dir is not None:
            for index in range(min(10, len(sentences))):
                for system in systems:
                    tag = system.replace(" + ", "_").replace("-", "")
                    save_audio(args.out_dir / f"{name}{index:02d}_{tag}.wav",
                               outputs[system][0][index].clamp(-1, 1), rate)  # fmt: skip
    if args.figure is not None:
        import matplotlib.pyplot as plt

        from synesthesia.utils import atomic_path
        from synesthesia.viz.tts import plot_speech

        hop = config.hop_length / rate
        r = tts.acoustic_model.reduction_factor
        figs = [plot_speech(s, hop_seconds=hop, reduction_factor=r) for s in figure_speech]
        args.figure.parent.mkdir(parents=True, exist_ok=True)
        for fig, suffix in zip(figs, ("", "_general")):
            path = args.figure.with_name(args.figure.stem + suffix + args.figure.suffix)
            with atomic_path(path) as tmp:
                fig.savefig(tmp, format="png", dpi=80)
            plt.close(fig)
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
