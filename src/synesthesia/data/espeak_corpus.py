"""Write an LJSpeech-layout speech corpus synthesised offline with eSpeak NG (or another engine).

Voices are eSpeak NG names or ``engine:voice`` speakers of :mod:`synesthesia.data.engines`
(``piper:joe``, ``flite:slt``, ``festival:kal_diphone``); other engines read ``rate`` as the
speed factor ``rate / 175`` and ``pitch`` as the factor ``2 ** ((pitch - 50) / 100)`` where
they can change pitch, and Piper draws its noise scales per utterance. Only eSpeak and Flite
are bit-reproducible; Piper's samples are not (its noise is drawn inside onnxruntime), so a
Piper corpus is fixed by its folder, not by its settings.

Layout written under ``out``::

    wavs/<id>.wav      16-bit PCM mono at ``sample_rate``
    metadata.csv       id|text|normalized text          (LJSpeech's pipe format, no header)
    speakers.csv       id|voice|rate|pitch              (with a header line)
    split.json         held-out split by voice: {"train"|"val"|"test": {"voices", "ids"}}
    corpus.json        the settings, so a rerun can resume or extend the corpus

Utterance ``i`` is fully determined by the settings and ``i``: its sentence by
``make_sentences(kind, ..., seed)`` (prefix-stable), its voice by ``voices[i % len(voices)]``
and its rate and pitch by ``default_rng([seed, i, 1])``; eSpeak synthesis is deterministic.
So a rerun with the same settings skips the wavs already written (each written atomically),
and a larger ``num_utterances`` extends the corpus without changing what is there.

Held-out split (deterministic, independent of ``seed`` and of the order voices are given
in): voices are ordered by the SHA-1 of their name; the first ``max(1, round(0.15 V))`` are
*test*, the next ``max(1, round(0.1 V))`` *val*, the rest *train* (with fewer than 3 voices
everything is train). Every utterance of a voice belongs to that voice's split.

References:
    The LJ Speech Dataset layout (Ito & Johnson, 2017): ``wavs/`` and a 3-field
    ``metadata.csv``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from synesthesia.errors import ParameterError
from synesthesia.utils import atomic_path, atomic_write_json, atomic_write_text, read_json

__all__ = [
    "write_espeak_corpus",
    "split_voices",
    "reference_voice",
    "DEFAULT_VOICES",
    "CORPUS_SETTINGS_NAME",
]

log = logging.getLogger(__name__)

#: the plain US voice and its twelve human-sounding variants
DEFAULT_VOICES = (
    ("en-us",)
    + tuple(f"en-us+f{i}" for i in range(1, 6))
    + tuple(f"en-us+m{i}" for i in range(1, 8))
)
_FORMAT_VERSION = 1
#: the settings file of a corpus (also copied into a TTS model trained on one)
CORPUS_SETTINGS_NAME = "corpus.json"


def split_voices(voices: Sequence[str]) -> dict[str, list[str]]:
    """The held-out split by voice described in the module docstring.

    Returns:
        ``{"train": [...], "val": [...], "test": [...]}`` with each list sorted.
    """
    unique = sorted(set(voices))
    if len(unique) < 3:
        return {"train": unique, "val": [], "test": []}
    order = sorted(unique, key=lambda v: hashlib.sha1(v.encode("utf-8")).hexdigest())
    num_test = max(1, round(0.15 * len(unique)))
    num_val = max(1, round(0.1 * len(unique)))
    return {
        "train": sorted(order[num_test + num_val :]),
        "val": sorted(order[num_test : num_test + num_val]),
        "test": sorted(order[:num_test]),
    }


def reference_voice(directory: str | os.PathLike) -> dict[str, str | int] | None:
    """The one eSpeak NG voice a corpus, or a model trained on one, speaks with.

    Reads ``directory/corpus.json`` (written by :func:`write_espeak_corpus`; the TTS trainer
    copies it into the exported model folder).

    Args:
        directory: a corpus folder or an exported model folder.

    Returns:
        ``{"voice": str, "rate": int, "pitch": int}`` — the arguments of
        :meth:`~synesthesia.data.espeak.EspeakSynthesizer.synthesize` that reproduce the
        corpus's speaker — or ``None`` when there is no ``corpus.json`` or the corpus mixes
        several voices, rates or pitches.
    """
    path = Path(directory) / CORPUS_SETTINGS_NAME
    if not path.is_file():
        return None
    settings = read_json(path)
    voices = settings.get("voices") or []
    rates = settings.get("rate_range") or []
    pitches = settings.get("pitch_range") or []
    if len(voices) != 1 or len(set(rates)) != 1 or len(set(pitches)) != 1:
        return None
    return {"voice": str(voices[0]), "rate": int(rates[0]), "pitch": int(pitches[0])}


def _check_range(name: str, value: Sequence[int], low: int, high: int) -> tuple[int, int]:
    if (
        not isinstance(value, (tuple, list))
        or len(value) != 2
        or any(isinstance(v, bool) or not isinstance(v, int) for v in value)
        or not low <= value[0] <= value[1] <= high
    ):
        raise ParameterError(
            f"{name}={value!r} must be two integers MIN <= MAX within [{low}, {high}]"
        )
    return int(value[0]), int(value[1])


def _write_wav(path: Path, waveform: np.ndarray, sample_rate: int) -> None:
    import soundfile

    with atomic_path(path) as tmp:
        soundfile.write(str(tmp), waveform, sample_rate, subtype="PCM_16", format="WAV")


def write_espeak_corpus(
    out: str | os.PathLike,
    *,
    num_utterances: int = 100,
    voices: Sequence[str] = DEFAULT_VOICES,
    kind: str = "mixed",
    seed: int = 0,
    sample_rate: int = 22050,
    rate_range: Sequence[int] = (175, 175),
    pitch_range: Sequence[int] = (50, 50),
    vary: bool = True,
    overwrite: bool = False,
) -> dict:
    """Synthesise ``num_utterances`` sentences into an LJSpeech-layout folder ``out``.

    Args:
        out: output folder (created).
        num_utterances: how many utterances in total (existing ones are kept).
        voices: eSpeak voices, used round-robin (``synesthesia.data.espeak.list_voices``).
        kind: sentence kind (``synesthesia.data.sentences.SENTENCE_KINDS``): "grid",
            "general", "digits", "mixed", "everyday" or "broad".
        seed: seed of the sentences and of rate/pitch draws.
        sample_rate: rate of the written wavs (eSpeak's 22050 Hz is resampled with soxr).
        rate_range: speaking rate drawn uniformly per utterance from [MIN, MAX] words/minute.
        pitch_range: pitch drawn uniformly per utterance from [MIN, MAX] (0–100).
        vary: let neural engines (Piper) draw their delivery knobs (``noise_scale``,
            ``noise_w``) per utterance, for speech-recognition corpora; ``False`` keeps the
            voice's own defaults, as a one-voice TTS corpus wants. eSpeak ignores it.
        overwrite: allow ``out`` to hold a corpus made with other settings (its wavs are
            regenerated); otherwise that is an error.

    Returns:
        A summary: ``{"num_utterances", "num_written", "num_skipped", "split": {...}}``.
    """
    from tqdm.auto import tqdm

    from synesthesia.data.engines import get_engine, parse_speaker
    from synesthesia.data.espeak import EspeakSynthesizer, check_voice
    from synesthesia.data.sentences import SENTENCE_KINDS, make_sentences

    out = Path(out)
    if isinstance(num_utterances, bool) or not isinstance(num_utterances, int):
        raise ParameterError(f"num_utterances={num_utterances!r} must be a positive integer")
    if num_utterances <= 0:
        raise ParameterError(f"num_utterances={num_utterances!r} must be a positive integer")
    if kind not in SENTENCE_KINDS:
        raise ParameterError(f"kind={kind!r} must be one of {SENTENCE_KINDS}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ParameterError(f"seed={seed!r} must be a non-negative integer")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate < 8000:
        raise ParameterError(f"sample_rate={sample_rate!r} must be an integer >= 8000")
    if not isinstance(vary, bool):
        raise ParameterError(f"vary={vary!r} must be True or False")
    if isinstance(voices, str) or not voices:
        raise ParameterError(f"voices={voices!r} must be a non-empty list of voice names")
    voices = list(dict.fromkeys(voices))
    for voice in voices:
        engine_name, voice_name = parse_speaker(voice)
        if engine_name == "espeak":
            check_voice(voice_name)
        else:
            get_engine(engine_name).check_voice(voice_name)
        if "|" in voice:
            raise ParameterError(f"voice={voice!r} must not contain '|'")
    rate_range = _check_range("rate_range", rate_range, 80, 450)
    pitch_range = _check_range("pitch_range", pitch_range, 0, 100)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"out={str(out)!r} exists and is not a folder")

    settings = {
        "format_version": _FORMAT_VERSION,
        "generator": "synesthesia data espeak",
        "kind": kind,
        "seed": seed,
        "voices": voices,
        "sample_rate": sample_rate,
        "rate_range": list(rate_range),
        "pitch_range": list(pitch_range),
    }
    if not vary:  # absent when True: corpora written before the switch keep their settings
        settings["vary"] = False
    wavs = out / "wavs"
    settings_path = out / CORPUS_SETTINGS_NAME
    if settings_path.exists():
        previous = read_json(settings_path)
        previous.pop("num_utterances", None)
        if previous != settings:
            if not overwrite:
                changed = sorted(k for k in settings if previous.get(k) != settings[k])
                raise ParameterError(
                    f"out={str(out)!r} holds a corpus made with other settings ({changed}); "
                    "use a new folder or overwrite=True (--overwrite)"
                )
            for wav in wavs.glob("*.wav"):
                wav.unlink()
    elif wavs.is_dir() and any(wavs.iterdir()) and not overwrite:
        raise ParameterError(
            f"out={str(out)!r} already has wavs/ but no corpus.json; use a new folder"
        )
    wavs.mkdir(parents=True, exist_ok=True)
    atomic_write_json(settings_path, {**settings, "num_utterances": num_utterances})

    sentences = make_sentences(kind, num_utterances, seed=seed)
    synth = EspeakSynthesizer()
    rows, speakers = [], []
    written = skipped = 0
    width = max(5, len(str(num_utterances - 1)))
    for i in tqdm(range(num_utterances), desc="espeak corpus", unit="utt", disable=None):
        sentence = sentences[i]
        if "|" in sentence.text or "|" in sentence.normalized:
            raise ParameterError(f"sentence {sentence.text!r} must not contain '|'")
        utterance_id = f"ES-{i:0{width}d}"
        voice = voices[i % len(voices)]
        draws = np.random.default_rng([seed, i, 1])
        rate = int(draws.integers(rate_range[0], rate_range[1] + 1))
        pitch = int(draws.integers(pitch_range[0], pitch_range[1] + 1))
        rows.append((utterance_id, sentence.text, sentence.normalized))
        speakers.append((utterance_id, voice, rate, pitch))
        path = wavs / f"{utterance_id}.wav"
        if path.exists():
            skipped += 1
            continue
        engine_name, voice_name = parse_speaker(voice)
        if engine_name == "espeak":
            waveform, rate_hz = synth.synthesize(
                sentence.normalized, voice=voice_name, rate=rate, pitch=pitch
            )
            samples = waveform.numpy().astype(np.float64)
        else:
            audio, rate_hz = get_engine(engine_name).synthesize(
                sentence.normalized, voice=voice_name, speed=rate / 175,
                pitch=2.0 ** ((pitch - 50) / 100), rng=draws, vary=vary,
            )  # fmt: skip
            samples = audio.astype(np.float64)
        if sample_rate != rate_hz:
            import soxr

            samples = soxr.resample(samples, rate_hz, sample_rate, quality="HQ")
        _write_wav(path, np.clip(samples, -1.0, 32767 / 32768), sample_rate)
        written += 1

    atomic_write_text(out / "metadata.csv", "".join(f"{a}|{b}|{c}\n" for a, b, c in rows))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="|", lineterminator="\n")
    writer.writerow(("id", "voice", "rate", "pitch"))
    writer.writerows(speakers)
    atomic_write_text(out / "speakers.csv", buffer.getvalue())
    by_voice = split_voices(voices)
    if not by_voice["test"]:
        warnings.warn(
            f"only {len(voices)} voice(s): no held-out val/test voices (need at least 3)",
            stacklevel=2,
        )
    split = {
        "rule": "voices ordered by SHA-1 of the name: first max(1, round(0.15 V)) test, next "
        "max(1, round(0.1 V)) val, rest train; fewer than 3 voices: all train",
    }
    for name, names in by_voice.items():
        chosen = set(names)
        split[name] = {
            "voices": names,
            "ids": [uid for uid, voice, _, _ in speakers if voice in chosen],
        }
    atomic_write_json(out / "split.json", split)
    log.info("%s: %d written, %d already there", out, written, skipped)
    return {
        "num_utterances": num_utterances,
        "num_written": written,
        "num_skipped": skipped,
        "split": {k: by_voice[k] for k in ("train", "val", "test")},
    }
