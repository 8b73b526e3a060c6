"""Link the wavs of a TTS corpus into a folder a vocoder trains on, minus held-out sentences.

A vocoder evaluated on held-out sentences should not have heard them: the TTS trainer drops
them (``data.drop_heldout``), and this script does the same for ``synesthesia vocoder train``,
which reads any folder of audio files. Only the first ``--first`` utterances are linked (the
shipped natural-voice WaveNet started training on the first 2,400 while the corpus was still
being written).

    python benchmarks/vocoder_corpus.py --corpus data/piper16k --first 2400 \\
        --out data/piper16k_vocoder
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from synesthesia.data.sentences import is_heldout_sentence
from synesthesia.data.speech import read_ljspeech_metadata


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="LJSpeech-layout corpus")
    parser.add_argument("--out", type=Path, required=True, help="folder of links to write")
    parser.add_argument("--first", type=int, default=None, help="use only the first N rows")
    args = parser.parse_args()
    rows = read_ljspeech_metadata(args.corpus / "metadata.csv")
    rows = rows if args.first is None else rows[: args.first]
    args.out.mkdir(parents=True, exist_ok=True)
    kept = 0
    for utterance_id, text, _ in rows:
        if is_heldout_sentence(text):
            continue
        source = (args.corpus / "wavs" / f"{utterance_id}.wav").absolute()
        link = args.out / source.name
        if not link.exists():
            os.symlink(source, link)
        kept += 1
    print(f"{args.out}: {kept} of {len(rows)} utterances (held-out sentences dropped)")


if __name__ == "__main__":
    main()
