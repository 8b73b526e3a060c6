"""Spoken-digit retrieval beyond the training voices: per engine, per channel, real people.

For each model folder, audio→image Recall@1 (and mAP both ways) against the 359 held-out
handwritten scans, for spoken digits from:

- ``espeak``: the 6 held-out eSpeak NG voices (never in any recipe's training set);
- ``piper``: Piper's natural joe voice, ``--piper-renderings`` per digit with random speed
  (0.8–1.25) and noise scales, drawn with a seed no recipe trains with;
- ``piper+telephone``: the same clips through the telephone channel (300–3400 Hz, 8 kHz,
  8-bit mu-law);
- ``flite`` / ``festival``: their voices (in the training set of the multi-engine recipes, so
  *not* held out there: a check that they were learnt);
- ``human``: real recordings of people saying digits, cut from the Debian package
  ``pocketsphinx-testdata`` (a TIDIGITS utterance "two nine three four zero" and the
  "cards" recordings "four", "seven", "five five", "eight … four … seven"), 12 words from
  two speakers; word boundaries by pocketsphinx forced alignment of the known transcripts.
  Connected speech, so a cut word carries its neighbours' coarticulation. Skipped when the
  package is not installed.

Usage:
    python benchmarks/embed_transfer.py --model src/synesthesia/pretrained/embed_digits \\
        --model runs/embed_no_piper/model [--markdown] [--piper-renderings 10]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from synesthesia.data.engines import available_engines
from synesthesia.data.human_digits import human_digit_clips
from synesthesia.data.spoken_digits import (
    FESTIVAL_SPEAKERS,
    FLITE_SPEAKERS,
    TEST_VOICES,
    make_spoken_digits,
)
from synesthesia.functional.telephone import telephone_channel
from synesthesia.metrics.retrieval import cross_modal_retrieval
from synesthesia.pipelines.retrieval import AudioImageRetriever

EVAL_SEED = 20261204  # no recipe trains with this seed


def _pad(clips: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([len(c) for c in clips])
    batch = torch.zeros(len(clips), int(lengths.max()))
    for row, clip in enumerate(clips):
        batch[row, : len(clip)] = torch.from_numpy(clip)
    return batch, lengths


def sources(piper_renderings: int, cache_dir: str | None) -> dict[str, tuple]:
    """{name: (waveform (K, T), lengths (K,), labels (K,), sample_rate)}."""
    engines = available_engines()
    out = {}
    espeak = make_spoken_digits("test", voices=TEST_VOICES, seed=EVAL_SEED, cache_dir=cache_dir)
    out["espeak (6 held-out voices)"] = (
        espeak.waveform, espeak.waveform_lengths, espeak.audio_labels, espeak.sample_rate
    )  # fmt: skip
    if engines["piper"]:
        piper = make_spoken_digits(
            "test", voices=["piper:joe"], variations=piper_renderings, seed=EVAL_SEED,
            cache_dir=cache_dir,
        )  # fmt: skip
        out["piper joe"] = (
            piper.waveform, piper.waveform_lengths, piper.audio_labels, piper.sample_rate
        )  # fmt: skip
        phone = telephone_channel(piper.waveform, sample_rate=piper.sample_rate)
        phone = phone * (torch.arange(phone.shape[-1]) < piper.waveform_lengths[:, None])
        out["piper joe, telephone"] = (
            phone, piper.waveform_lengths, piper.audio_labels, piper.sample_rate
        )  # fmt: skip
    for label, speakers in (("flite", FLITE_SPEAKERS), ("festival", FESTIVAL_SPEAKERS)):
        usable = [s for s in speakers if s.split(":", 1)[1] in engines[label]]
        if usable:
            data = make_spoken_digits(
                "test", voices=usable, variations=3, seed=EVAL_SEED, cache_dir=cache_dir
            )
            out[f"{label} ({len(usable)} voices)"] = (
                data.waveform, data.waveform_lengths, data.audio_labels, data.sample_rate
            )  # fmt: skip
    clips, labels = human_digit_clips()
    if clips:
        waveform, lengths = _pad(clips)
        out["human (pocketsphinx-testdata, 12 words)"] = (
            waveform, lengths, torch.tensor(labels), 16000
        )  # fmt: skip
    return out


def evaluate(model_dir: str, data: dict[str, tuple], images, image_labels) -> dict[str, dict]:
    retriever = AudioImageRetriever.from_pretrained(model_dir)
    with torch.no_grad():
        gallery = retriever.model.encode_image(
            torch.cat([retriever.prepare_image(im) for im in images])
        )
    results = {}
    for name, (waveform, lengths, labels, rate) in data.items():
        audio = retriever.embed_waveforms(waveform, lengths, sample_rate=rate)
        scores = cross_modal_retrieval(
            audio, gallery, first_labels=labels, second_labels=image_labels
        )
        results[name] = {
            "clips": len(labels),
            "a2i_R@1": scores["audio_to_image"]["R@1"],
            "a2i_mAP": scores["audio_to_image"]["mAP"],
            "i2a_R@1": scores["image_to_audio"]["R@1"],
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", action="append", required=True, help="model folder(s)")
    parser.add_argument("--piper-renderings", type=int, default=10)
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = sources(args.piper_renderings, args.cache_dir)
    test = make_spoken_digits("test", voices=TEST_VOICES[:1], variations=1, cache_dir=None)
    images, image_labels = test.images, test.image_labels
    table = {m: evaluate(m, data, images, image_labels) for m in args.model}
    if args.json:
        Path(args.json).write_text(json.dumps(table, indent=2))
    names = list(data)
    if args.markdown:
        print("| source | clips | " + " | ".join(Path(m).name for m in args.model) + " |")
        print("|---|---|" + "---|" * len(args.model))
        for name in names:
            cells = " | ".join(f"{table[m][name]['a2i_R@1']:.3f}" for m in args.model)
            print(f"| {name} | {table[args.model[0]][name]['clips']} | {cells} |")
        return
    for m in args.model:
        print(m)
        for name in names:
            r = table[m][name]
            print(
                f"  {name:<42} {r['clips']:>4} clips  audio→image R@1 {r['a2i_R@1']:.3f}  "
                f"mAP {r['a2i_mAP']:.3f}  image→audio R@1 {r['i2a_R@1']:.3f}"
            )


if __name__ == "__main__":
    main()
