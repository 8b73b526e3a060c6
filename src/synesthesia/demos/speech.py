"""Demo section "Text-to-speech": the shipped voices speak held-out sentences side by side.

Two sentences no model heard in training (a GRID command and a general sentence, from
``synesthesia.data.sentences.heldout_sentences``) are spoken by each shipped Tacotron 2 voice
(:data:`VOICES`: the default voice first, then the eSpeak-trained one) through Griffin-Lim,
next to the teacher each voice learnt from (the engine and speaker of its ``corpus.json``:
Piper's ``joe`` for ``tts_natural``, eSpeak NG's ``en-us+f5`` for ``tts_espeak``); the judge
(pocketsphinx) transcribes every clip, and one figure per voice shows its log-mel and
alignment (which input symbol each moment of speech came from).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from synesthesia.viz.report import Report

log = logging.getLogger(__name__)

#: the voices the section plays, those the package ships, in this order (default voice first)
VOICES = ("tts_natural", "tts_espeak")
#: the recipe of each voice
RECIPES = {"tts_natural": "configs/tts/piper.yaml", "tts_espeak": "configs/tts/espeak.yaml"}


def shipped_voices() -> list[str]:
    """The shipped voices of :data:`VOICES`, the default voice first."""
    from synesthesia.pipelines.pretrained import DEFAULT_VOICE, list_pretrained

    shipped = [v for v in VOICES if v in list_pretrained()]
    return sorted(shipped, key=lambda v: v != DEFAULT_VOICE)


def _teacher(folder: Path):
    """``speak(text) → (waveform, rate)`` with the engine and speaker a voice learnt from, and
    its name; None when the model folder does not record one speaker."""
    from synesthesia.data.engines import get_engine, parse_speaker
    from synesthesia.data.espeak import EspeakSynthesizer
    from synesthesia.data.espeak_corpus import reference_voice

    speaker = reference_voice(folder)
    if speaker is None:
        return None, None
    engine, voice = parse_speaker(speaker["voice"])
    if engine == "espeak":  # the exact rate and pitch of the corpus
        synth = EspeakSynthesizer()
        return (lambda text: synth.synthesize(text, **speaker)), f"eSpeak NG {voice}"
    voices = get_engine(engine)
    return (lambda text: voices.synthesize(text, voice=voice)), f"{engine.title()} {voice}"


def run(report: Report, *, workdir: Path, seed: int) -> None:
    import torch

    from synesthesia.data.sentences import heldout_sentences, transcript_words
    from synesthesia.io import resample, save_audio
    from synesthesia.metrics.intelligibility import (
        grid_grammar,
        transcribe,
        word_error_rate,
        word_loop_grammar,
    )
    from synesthesia.pipelines.pretrained import pretrained_path
    from synesthesia.pipelines.tts import TextToSpeech
    from synesthesia.viz.tts import plot_speech

    grid = heldout_sentences("grid", 1, seed=seed + 1)[0]
    general = heldout_sentences("general", 1, seed=seed)[0]
    sentences = (("grid", grid), ("general", general))
    vocabulary = sorted(set(transcript_words(general.text)) | set(transcript_words(grid.text)))
    voices = shipped_voices()
    report.text(
        f"Each shipped voice ({', '.join(voices)}: a 3.3 M-parameter Tacotron 2, eSpeak NG's IPA "
        "in, an 80-bin log-mel out, trained on 2 CPU cores) speaks two sentences no model saw "
        "in training, next to the teacher it learnt from; Griffin-Lim turns each log-mel into "
        "a waveform. The first voice is the default of `synesthesia speak`."
    )
    rows, timings = [], []
    audio_dir = Path(workdir) / "audio"
    for name in voices:
        folder = pretrained_path(name)
        tts = TextToSpeech.from_pretrained(folder, griffin_lim_iters=32)
        rate = tts.sample_rate
        teacher, teacher_name = _teacher(folder)
        start = time.perf_counter()
        speeches = tts.batch([s.normalized for _, s in sentences])
        timings.append((name, time.perf_counter() - start, sum(s.duration for s in speeches)))
        for (tag, sentence), speech in zip(sentences, speeches):
            reference = transcript_words(sentence.text)
            grammar = grid_grammar() if tag == "grid" else word_loop_grammar(vocabulary)
            clips = [(f"{name} ({RECIPES.get(name, 'its recipe')})", "tts", speech.waveform)]
            if teacher is not None:
                audio, teacher_rate = teacher(sentence.normalized)
                audio = torch.as_tensor(audio, dtype=torch.float32)  # engines give numpy
                audio = resample(audio, orig_sample_rate=teacher_rate, target_sample_rate=rate)
                audio = audio.clamp(-1.0, 1.0)
                clips.insert(0, (f"{teacher_name}, the teacher of {name}", "teacher", audio))
            for speaker, kind, wave in clips:
                heard = transcribe(wave, rate, grammar=grammar)
                wer = word_error_rate([reference], [heard.split()])
                report.audio(wave.clamp(-1, 1), rate, caption=f"{speaker}: “{sentence.text}” — "
                             f"judge heard “{heard}”")  # fmt: skip
                save_audio(audio_dir / f"speech_{name}_{tag}_{kind}.wav", wave.clamp(-1, 1), rate)
                rows.append([sentence.text, speaker, heard, round(wer, 3)])
        hop = tts.audio_config.hop_length / rate
        fig = plot_speech(speeches[1], hop_seconds=hop,
                          reduction_factor=tts.acoustic_model.reduction_factor)  # fmt: skip
        report.figure(fig, caption=f"{name}: predicted log-mel of the general sentence and its "
                      "attention alignment (decoder time across, input symbols up): one clean "
                      "diagonal = every symbol spoken once, in order.")  # fmt: skip
    report.table(rows, header=["held-out sentence", "speaker", "judge transcript", "WER"])
    report.text(
        "; ".join(
            f"{name}: {audio:.2f} s of speech in {seconds:.2f} s (real-time factor "
            f"{seconds / audio:.3f})"
            for name, seconds, audio in timings
        )  # fmt: skip
        + " — acoustic model + Griffin-Lim, one process. Held-out WER over 100 GRID and 35 "
        "general sentences: docs/results.md, “Text-to-speech” and “A natural voice”.",
        note=True,
    )
    log.info("speech demo: %s", rows)
