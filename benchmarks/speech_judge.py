"""Speech corpus and intelligibility judge: accuracy and speed, one process.

Run:  python benchmarks/speech_judge.py            (20 GRID sentences × 5 voices)
      python benchmarks/speech_judge.py --quick    (5 sentences per voice)

1. Judge accuracy: WER of pocketsphinx + the GRID grammar on eSpeak's own GRID sentences
   (``grid_sentences(N, seed=0)``) per voice; then on the same sentences made unintelligible
   (time-reversed, white noise at σ = 0.1, digital silence), which must score near 1; and
   general sentences with the bigram model of the built-in general sentences (sharp) and the
   word-loop "grammar" over their vocabulary (weak), on speech and reversed speech.
2. Speed: eSpeak synthesis real-time factor (audio seconds per wall second, each call loads a
   fresh library copy for determinism), judge wall time per utterance, and our
   ``word_error_rate`` vs ``jiwer.wer`` on 2,000 sentence pairs (median of 5, alternating).
"""

from __future__ import annotations

import argparse
import statistics
import time

import jiwer
import numpy as np
import torch

from synesthesia.data.espeak import EspeakSynthesizer
from synesthesia.data.sentences import (
    GENERAL_SENTENCES,
    general_sentences,
    grid_sentences,
    vocabulary,
)
from synesthesia.metrics.intelligibility import (
    sentence_language_model,
    transcribe,
    word_error_rate,
    word_loop_grammar,
)

VOICES = ["en-us", "en-us+f1", "en-us+f3", "en-us+m3", "en-us+m7"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 sentences per voice")
    args = parser.parse_args()
    num = 5 if args.quick else 20
    synth = EspeakSynthesizer()
    sentences = grid_sentences(num, seed=0)
    refs = [" ".join(s.words) for s in sentences]

    print(f"| voice | GRID WER ({num} sentences) |")
    print("|---|---|")
    all_refs, all_hyps, audio = [], [], []
    synth_time = decode_time = audio_seconds = 0.0
    for voice in VOICES:
        hyps = []
        for s in sentences:
            start = time.perf_counter()
            waveform, rate = synth.synthesize(s.normalized, voice=voice)
            synth_time += time.perf_counter() - start
            audio_seconds += waveform.numel() / rate
            start = time.perf_counter()
            hyps.append(transcribe(waveform, rate))
            decode_time += time.perf_counter() - start
            audio.append(waveform)
        print(f"| {voice} | {word_error_rate(refs, hyps):.3f} |")
        all_refs += refs
        all_hyps += hyps
    print(f"| all {len(VOICES)} voices | {word_error_rate(all_refs, all_hyps):.3f} |")

    rng = np.random.default_rng(0)
    bad = {"reversed": [], "white noise σ=0.1": [], "silence": []}
    for waveform in audio:
        bad["reversed"].append(transcribe(waveform.flip(0), 22050))
        noise = torch.from_numpy(rng.normal(0, 0.1, waveform.numel()).astype(np.float32))
        bad["white noise σ=0.1"].append(transcribe(noise, 22050))
        bad["silence"].append(transcribe(torch.zeros_like(waveform), 22050))
    print()
    print("| same sentences, unintelligible audio | WER |")
    print("|---|---|")
    for name, hyps in bad.items():
        print(f"| {name} | {word_error_rate(all_refs, hyps):.3f} |")

    general = general_sentences(num, seed=0)
    general_refs = [" ".join(s.words) for s in general]
    general_audio = [synth.synthesize(s.normalized)[0] for s in general]
    print()
    print(f"| general sentences, en-us ({num}) | WER | reversed speech |")
    print("|---|---|---|")
    for name, grammar in [
        ("bigram model of GENERAL_SENTENCES", sentence_language_model(GENERAL_SENTENCES)),
        (f"word loop over {len(vocabulary('general'))} words",
         word_loop_grammar(vocabulary("general"))),
    ]:  # fmt: skip
        hyps = [transcribe(w, 22050, grammar=grammar) for w in general_audio]
        backwards = [transcribe(w.flip(0), 22050, grammar=grammar) for w in general_audio]
        print(f"| {name} | {word_error_rate(general_refs, hyps):.3f} | "
              f"{word_error_rate(general_refs, backwards):.3f} |")  # fmt: skip

    count = len(VOICES) * num
    print()
    print(f"eSpeak synthesis: {audio_seconds / synth_time:.0f}× real time "
          f"({1000 * synth_time / count:.1f} ms per sentence)")  # fmt: skip
    print(f"GRID judge: {1000 * decode_time / count:.0f} ms per sentence "
          f"({audio_seconds / decode_time:.0f}× real time)")  # fmt: skip

    words = "bin lay place set blue green red white at by in with".split()
    pairs_ref = [" ".join(rng.choice(words, 6)) for _ in range(2000)]
    pairs_hyp = [" ".join(rng.choice(words, rng.integers(4, 8))) for _ in range(2000)]
    ours, theirs = [], []
    for _ in range(5):
        start = time.perf_counter()
        a = word_error_rate(pairs_ref, pairs_hyp)
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        b = jiwer.wer(pairs_ref, pairs_hyp)
        theirs.append(time.perf_counter() - start)
    assert abs(a - b) < 1e-12
    o, t = statistics.median(ours), statistics.median(theirs)
    print(f"word_error_rate on 2000 pairs: ours {1000 * o:.1f} ms, jiwer {1000 * t:.1f} ms, "
          f"ratio {o / t:.2f} (same value {a:.4f})")  # fmt: skip


if __name__ == "__main__":
    main()
