"""Demo section "Speech2Face": the shipped model hears speakers it never heard in training and
draws their faces. Everything is SYNTHETIC: eSpeak NG voices paired with drawn faces whose
attributes are planted from the voice settings (synesthesia.data.synthetic_faces states the
rule). Runs in seconds on a CPU (no training)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import torch

from synesthesia.viz.report import Report

log = logging.getLogger(__name__)

MODEL_NAME = "speech2face_synthetic"
NUM_SPEAKERS = 6
PHRASE = "Nice to meet you, I will be your guide today"


def _clip_and_face(voice: dict, rng: np.random.Generator, sample_rate: int, size: int):
    from synesthesia.data.engines import get_engine
    from synesthesia.data.synthetic_faces import (
        face_attributes_for_voice,
        random_face_params,
        render_face,
    )
    from synesthesia.io.audio import resample

    waveform, rate = get_engine("espeak").synthesize(
        PHRASE,
        voice=f"{voice['accent']}+{voice['variant']}",
        speed=voice["rate"],
        pitch=voice["pitch"],
    )
    audio = torch.from_numpy(waveform)
    if rate != sample_rate:
        audio = resample(audio, orig_sample_rate=rate, target_sample_rate=sample_rate)
    attributes = face_attributes_for_voice(
        variant=voice["variant"], pitch=voice["pitch"], rate=voice["rate"], accent=voice["accent"]
    )
    face = render_face(random_face_params(attributes, rng), size=size)
    return audio, torch.from_numpy(face).permute(2, 0, 1), attributes


def run(report: Report, *, workdir: Path, seed: int) -> None:
    """Fill ``report`` with the held-out scores, a face grid and the speakers' clips."""
    from synesthesia.data.speech2face import collate_clips, synthetic_voices
    from synesthesia.pipelines.pretrained import pretrained_path
    from synesthesia.pipelines.speech2face import Speech2Face
    from synesthesia.utils import read_json
    from synesthesia.viz.speech2face import plot_face_grid

    start = time.perf_counter()
    folder = pretrained_path(MODEL_NAME)
    pipeline = Speech2Face.from_pretrained(folder)
    model = pipeline.model
    metrics = read_json(folder / "metrics.json")
    rng = np.random.default_rng(seed)
    held_out = synthetic_voices("test")  # the speakers the shipped model never heard
    chosen = [held_out[int(i)] for i in rng.choice(len(held_out), NUM_SPEAKERS, replace=False)]
    clips, faces, labels = [], [], []
    for voice in chosen:
        audio, face, attributes = _clip_and_face(voice, rng, model.sample_rate, model.image_size)
        clips.append(audio)
        faces.append(face)
        labels.append(f"{attributes['gender']}, {attributes['age']}, {attributes['skin']}")
    waveform, lengths = collate_clips(clips)
    true_faces = torch.stack(faces)
    with torch.no_grad():
        _, from_voice = model.infer(waveform, lengths)
        from_face = model.face_decoder(model.face_encoder.features(true_faces))
    report.text(
        "These data are synthetic: each speaker is an eSpeak NG voice (variant, accent, pitch, "
        "rate) and each face is drawn by a rule we PLANTED (variant → gender: face shape and "
        "hair; pitch → age cues; accent → skin tone; variant number → hair colour; rate → "
        "mouth width) plus per-speaker random variation. The model learned that planted rule "
        "from voice–face pairs; real voice–face correlations need VoxCeleb or AVSpeech. The "
        f"{NUM_SPEAKERS} speakers below were held out of training (a fresh phrase and a fresh "
        "draw of their face's random variation)."
    )
    m, chance = metrics["model"], metrics["chance"]
    rows = [["Speech2Face (voice → face feature)", m["R@1"], m["R@5"], m["R@10"], m["cosine"]]]
    for key, name in (("nearest_voice", "nearest training voice"), ("mean_face", "mean face")):
        b = metrics[key]
        rows.append([name, b["R@1"], b["R@5"], b["R@10"], b["cosine"]])
    rows.append(["chance", chance["R@1"], chance["R@5"], chance["R@10"], ""])
    report.table(
        [[r[0], *(f"{v:.3f}" if isinstance(v, float) else v for v in r[1:])] for r in rows],
        header=[
            f"held-out speakers: {metrics['num_speakers']} ({metrics['num_clips']} clips)",
            "R@1",
            "R@5",
            "R@10",
            "cosine",
        ],
    )
    fig = plot_face_grid(true_faces, from_face, from_voice, row_labels=labels)
    report.figure(
        fig,
        caption="Each row: the speaker's face | decoded from that face's feature | decoded "
        "from the voice alone.",
    )
    for audio, label in zip(clips[:2], labels[:2]):
        report.audio(audio, model.sample_rate, caption=f"held-out speaker ({label})")
    log.info("speech2face demo: %.1f s", time.perf_counter() - start)
