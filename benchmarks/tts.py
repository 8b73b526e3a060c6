"""Text-to-speech synthesis speed: real-time factors of the acoustic model and the pipeline.

RTF = synthesis wall time / seconds of audio produced (lower is faster; 0.05 = 20x real
time). Measured on held-out GRID and general sentences (the texts a user would type) with the
shipped ``tts_espeak`` model or ``--model DIR``:

* acoustic model: text processing + Tacotron 2 decoding until the stop token, batch 1
  (sentence by sentence) and batch 8;
* whole pipeline with our Griffin-Lim (``--griffin-lim-iters``, default 32; momentum 0.99) and
  the voice's own post-filter (its ``synthesis.json``): text → waveform;
* with ``--vocoder`` (``wavenet``: the WaveNet shipped for the voice, or a WaveNet folder):
  the whole pipeline through that WaveNet (text → log-mel → samples, one at a time);
* reference in the same process: librosa's Griffin-Lim
  (``librosa.feature.inverse.mel_to_audio``, the same iterations, momentum 0.99) on the same
  predicted mels, alone.

Targets (issue 7, 2 CPU cores): acoustic RTF <= 0.05 at batch 1; pipeline RTF <= 0.2.

    python benchmarks/tts.py [--model DIR|NAME] [--vocoder wavenet|DIR] [--sentences 16] \
        [--threads 2] [--griffin-lim-iters 32]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from _timing import median_time

from synesthesia.data.sentences import heldout_sentences
from synesthesia.pipelines.tts import TextToSpeech


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="acoustic model folder or shipped voice")
    parser.add_argument(
        "--vocoder",
        default=None,
        help="also time the pipeline through this "
        "WaveNet ('wavenet': the one shipped for the voice, or a folder)",
    )
    parser.add_argument("--sentences", type=int, default=16, help="test sentences (half GRID)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats (median)")
    parser.add_argument(
        "--griffin-lim-iters", type=int, default=32, help="ours and librosa's (default 32)"
    )
    args = parser.parse_args()
    n_iter = args.griffin_lim_iters
    torch.set_num_threads(args.threads)
    import librosa

    tts = TextToSpeech.from_pretrained(args.model, griffin_lim_iters=n_iter)
    c = tts.audio_config
    half = args.sentences // 2
    texts = [s.normalized for s in heldout_sentences("grid", half, seed=1)]
    texts += [s.normalized for s in heldout_sentences("general", args.sentences - half)]
    tts.batch(texts[:2])  # warm-up
    mels = [m for m, _, _, _ in tts.mels(texts)]
    seconds = sum(m.shape[-1] for m in mels) * c.hop_length / c.sample_rate
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, librosa "
          f"{librosa.__version__}; {len(texts)} sentences, {seconds:.1f} s of speech at "
          f"{c.sample_rate} Hz; median of {args.repeats}")  # fmt: skip
    rows = []
    for batch in (1, 8):
        tts.batch_size = batch
        acoustic = median_time(lambda: tts.mels(texts), args.repeats, warmup=False)
        pipeline = median_time(lambda: tts.batch(texts), args.repeats, warmup=False)
        rows.append((batch, acoustic / seconds, pipeline / seconds))

    def librosa_gl():
        for mel in mels:
            librosa.feature.inverse.mel_to_audio(
                np.exp(mel.double().numpy()), sr=c.sample_rate, n_fft=c.n_fft,
                hop_length=c.hop_length, win_length=c.win_length, center=True,
                power=c.power, n_iter=n_iter, fmin=c.f_min, fmax=c.f_max_hz,  # momentum 0.99
                htk=c.mel_scale == "htk", norm=c.norm,
            )  # fmt: skip

    librosa_gl()  # warm-up (first-call compilation)
    reference = median_time(librosa_gl, args.repeats, warmup=False) / seconds
    ours_gl = median_time(lambda: tts.vocode(mels), args.repeats, warmup=False) / seconds
    print(f"{'':34} {'RTF':>7}  target")
    for batch, acoustic, pipeline in rows:
        print(f"acoustic model, batch {batch:<2}           {acoustic:7.4f}  "
              f"{'<= 0.05' if batch == 1 else ''}")  # fmt: skip
        print(f"pipeline (our Griffin-Lim), batch {batch:<2} {pipeline:7.4f}  <= 0.2")
    print(f"our Griffin-Lim alone ({n_iter} it)      {ours_gl:7.4f}")
    if args.vocoder is not None:
        wavenet = TextToSpeech.from_pretrained(args.model, vocoder=args.vocoder)
        wavenet.batch(texts[:1])  # warm-up (numba compilation)
        seconds_wn = median_time(lambda: wavenet.batch(texts), 1, warmup=False)
        print(f"pipeline (WaveNet), batch 8        {seconds_wn / seconds:7.4f}  (one run)")
        alone = median_time(lambda: wavenet.vocode(mels), 1, warmup=False)
        print(f"WaveNet alone                      {alone / seconds:7.4f}  (one run)")
    print(f"librosa Griffin-Lim alone ({n_iter} it)  {reference:7.4f}  "
          f"({reference / ours_gl:.1f}x ours)")  # fmt: skip


if __name__ == "__main__":
    main()
