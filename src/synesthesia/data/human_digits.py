"""Real people saying digits: words cut from the recordings of Debian's pocketsphinx-testdata.

No labelled recordings of spoken digits can be downloaded here, but the Debian package
``pocketsphinx-testdata`` (CMU Sphinx test files) holds a few real recordings with digits in
them: one TIDIGITS utterance ("two nine three four zero", an adult male) and the "cards"
recordings ("four queen of clubs", "seven of clubs", "five five", "eight of spades four of
clubs seven of hearts"; another speaker). :func:`human_digit_clips` cuts the 12 digit words out
by forced alignment of the known transcripts with pocketsphinx (its English acoustic model
and a grammar that is exactly the transcript), with a 50 ms margin on each side.

These are connected speech, so a cut word carries its neighbours' coarticulation — harder
than isolated digits, which is the point: a smoke test of real human voices that no model here
trains on. Returns nothing when the package is not installed (``apt-get install
pocketsphinx-testdata``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from synesthesia.data.spoken_digits import DIGIT_NAMES

__all__ = ["HUMAN_RECORDINGS", "TESTDATA", "human_digit_clips"]

#: where Debian installs pocketsphinx-testdata
TESTDATA = Path("/usr/share/pocketsphinx/test/data")
#: (file, transcript) of real recordings with digits in them
HUMAN_RECORDINGS = (
    ("tidigits/dhd.2934z.raw", "two nine three four zero"),
    ("cards/002.wav", "four queen of clubs"),
    ("cards/003.wav", "seven of clubs"),
    ("cards/004.wav", "five five"),
    ("cards/005.wav", "eight of spades four of clubs seven of hearts"),
)
_RATE = 16000


def _read(path: Path) -> np.ndarray:
    if path.suffix == ".raw":
        return np.fromfile(path, dtype="<i2")
    import soundfile as sf

    audio, rate = sf.read(path, dtype="int16")
    if rate != _RATE:
        raise ValueError(f"{path} is at {rate} Hz, expected {_RATE}")
    return audio


def human_digit_clips(
    root: str | os.PathLike = TESTDATA, *, margin_s: float = 0.05
) -> tuple[list[np.ndarray], list[int]]:
    """Digit words of real recordings: (clips (T_i,) float32 at 16 kHz, digit labels).

    Empty lists when ``root`` does not exist.
    """
    from pocketsphinx import Decoder

    root = Path(root)
    clips: list[np.ndarray] = []
    labels: list[int] = []
    if not root.is_dir():
        return clips, labels
    margin = int(margin_s * _RATE)
    for name, transcript in HUMAN_RECORDINGS:
        audio = _read(root / name)
        grammar = "#JSGF V1.0;\ngrammar g;\npublic <s> = " + transcript + ";\n"
        with tempfile.TemporaryDirectory(prefix="synesthesia-align-") as tmp:
            path = Path(tmp) / "transcript.gram"
            path.write_text(grammar, encoding="utf-8")
            decoder = Decoder(jsgf=str(path), samprate=_RATE, loglevel="FATAL")
        decoder.start_utt()
        decoder.process_raw(audio.tobytes(), full_utt=True)
        decoder.end_utt()
        for seg in decoder.seg():  # frames of 10 ms
            if seg.word in DIGIT_NAMES:
                start = max(0, seg.start_frame * 160 - margin)
                end = min(len(audio), (seg.end_frame + 1) * 160 + margin)
                clips.append(audio[start:end].astype(np.float32) / 32768.0)
                labels.append(DIGIT_NAMES.index(seg.word))
    return clips, labels
