"""Pick a voice's post-filter (``TextToSpeech(sharpen=...)``) on a development set.

The development set is held-out *everyday* sentences (``assets/everyday_sentences.txt``, the
ones :func:`~synesthesia.data.sentences.is_heldout_sentence` reserves, whose words the judge's
dictionary knows; a seeded draw of ``--num-everyday``), which no voice trained on and which
are disjoint from the general and GRID test sentences of ``benchmarks/natural_voice.py``;
plus ``--num-grid`` held-out GRID commands of seed 2 (the test set uses seed 1; its sentences
are removed). Each factor re-runs the whole pipeline (acoustic model, post-filter,
Griffin-Lim with ``--griffin-lim-iters``) and the pocketsphinx judge (a word loop over the
development vocabulary; the GRID grammar for the commands) and prints the WER. The test
sentences are not touched: score the chosen voice on them with ``natural_voice.py``.

    OMP_NUM_THREADS=1 python benchmarks/tts_postfilter.py --tts tts_natural \
        --sharpen 1.0 1.15 1.3 1.5
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from synesthesia.data.sentences import heldout_sentences, is_heldout_sentence, transcript_words
from synesthesia.errors import ParameterError
from synesthesia.metrics.intelligibility import (
    grid_grammar,
    transcribe,
    word_error_rate,
    word_loop_grammar,
)
from synesthesia.pipelines import asset_path
from synesthesia.pipelines.tts import TextToSpeech
from synesthesia.text.transcript import normalize_numbers


def _known(text: str) -> bool:
    """Whether the judge's dictionary has every word of ``text``."""
    try:
        word_loop_grammar(transcript_words(text))
    except ParameterError:
        return False
    return True


def everyday_dev_set(count: int, *, seed: int = 123) -> list[str]:
    """``count`` held-out everyday sentences the judge can score, in a seeded order."""
    lines = asset_path("everyday_sentences.txt").read_text(encoding="utf-8").splitlines()
    texts = [t.strip() for t in lines if t.strip() and not t.startswith("#")]
    pool = [t for t in texts if is_heldout_sentence(t) and _known(t)]
    order = np.random.default_rng(seed).permutation(len(pool))[:count]
    return [pool[i] for i in order]


def grid_dev_set(count: int) -> list[str]:
    """``count`` held-out GRID commands of seed 2 that are not in the seed-1 test set."""
    test = {s.text for s in heldout_sentences("grid", 100, seed=1)}
    chosen = [s.text for s in heldout_sentences("grid", count + 40, seed=2) if s.text not in test]
    return chosen[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tts", required=True, help="voice: a folder or shipped name")
    parser.add_argument("--sharpen", type=float, nargs="+", default=[1.0, 1.15, 1.3, 1.5])
    parser.add_argument("--num-everyday", type=int, default=60)
    parser.add_argument("--num-grid", type=int, default=80, help="0 skips the GRID commands")
    parser.add_argument("--griffin-lim-iters", type=int, default=64)
    args = parser.parse_args()

    sets = {"everyday": everyday_dev_set(args.num_everyday)}
    if args.num_grid:
        sets["grid"] = grid_dev_set(args.num_grid)
    print(f"voice {args.tts}; dev sets: " + ", ".join(f"{k} {len(v)}" for k, v in sets.items())
          + f"; torch threads {torch.get_num_threads()}", flush=True)  # fmt: skip
    for name, texts in sets.items():
        references = [transcript_words(t) for t in texts]
        grammar = grid_grammar() if name == "grid" else word_loop_grammar(
            sorted({w for r in references for w in r}))  # fmt: skip
        for factor in args.sharpen:
            tts = TextToSpeech.from_pretrained(
                args.tts, griffin_lim_iters=args.griffin_lim_iters, sharpen=factor
            )
            torch.manual_seed(0)
            speech = tts.batch([normalize_numbers(t) for t in texts])
            hypotheses = [
                transcribe(s.waveform, tts.sample_rate, grammar=grammar).split() for s in speech
            ]
            wer = word_error_rate(references, hypotheses)
            print(f"{name:9s} sharpen {factor:<5g} WER {wer:.3f}", flush=True)


if __name__ == "__main__":
    main()
