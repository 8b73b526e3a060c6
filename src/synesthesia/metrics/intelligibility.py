"""An offline intelligibility judge: speech recognition with a closed grammar, and WER.

Synthetic speech is scored by how many words a recognizer gets right. The recognizer is
pocketsphinx (a core dependency) with a JSGF grammar: with its general language model,
eSpeak's formant voices decode at WER ≈ 0.8–0.9 (useless), but with the closed GRID-style
grammar they decode at WER ≈ 0.08–0.16 per voice, while reversed speech, noise or silence score
0.83–1.0; general sentences with a bigram model of the expected sentences
(:func:`sentence_language_model`) decode at WER ≈ 0.04.
So the judge discriminates intelligible audio from unintelligible audio, which is what a
vocoder or text-to-speech test needs. It is not a general-purpose recognizer.

Input audio at any rate is resampled to 16 kHz, converted to int16, padded with 0.25 s of
silence on both sides and given faint seeded Gaussian dither (σ = 20 LSB): eSpeak writes exact
digital zeros, which upset pocketsphinx's cepstral mean normalisation.

References:
    Huggins-Daines et al., "PocketSphinx: A free, real-time continuous speech recognition
    system for hand-held devices", ICASSP 2006 (pocketsphinx 5, en-us model and dictionary).
    JSpeech Grammar Format, W3C Note 2000. Word error rate as in jiwer (corpus level).
"""

from __future__ import annotations

import logging
import math
import os
import re
import tempfile
import threading
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import torch

from synesthesia.errors import ParameterError

__all__ = [
    "RECOGNIZER_SAMPLE_RATE",
    "grid_grammar",
    "word_loop_grammar",
    "sentence_language_model",
    "recognizer_vocabulary",
    "prepare_audio",
    "transcribe",
    "edit_distance",
    "word_error_rate",
]

log = logging.getLogger(__name__)

#: pocketsphinx's en-us acoustic model expects 16 kHz audio
RECOGNIZER_SAMPLE_RATE = 16000

_TOKEN = re.compile(r"^[a-z][a-z']*$")


# -- grammars --------------------------------------------------------------------------------
def _alternatives(words: Sequence[str]) -> str:
    return "( " + " | ".join(words) + " )"


def grid_grammar() -> str:
    """The JSGF grammar of GRID-style sentences (six slots, one word each).

    Returns:
        JSGF text whose public rule accepts exactly the sentences of
        :func:`synesthesia.data.sentences.grid_sentences` (as reference words).
    """
    from synesthesia.data.sentences import GRID_SLOTS

    body = " ".join(_alternatives(slot) for slot in GRID_SLOTS)
    return f"#JSGF V1.0;\ngrammar grid;\npublic <sentence> = {body};\n"


@lru_cache(maxsize=1)
def recognizer_vocabulary() -> frozenset[str]:
    """Words in pocketsphinx's en-us pronouncing dictionary (alternates like "a(2)" folded)."""
    path = _model_path() / "cmudict-en-us.dict"
    words = set()
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                words.add(line.split(maxsplit=1)[0].split("(", 1)[0])
    return frozenset(words)


def word_loop_grammar(words: Sequence[str]) -> str:
    """A closed "grammar" accepting any sequence of ``words``, each equally likely.

    Returned as an ARPA unigram language model (uniform over ``words`` and the sentence end)
    rather than a JSGF loop ``( w1 | w2 | ... )+``: both accept the same word strings, but
    pocketsphinx's grammar search over a JSGF loop is orders of magnitude slower (about 7 s
    per sentence for 32 words here, minutes for hundreds) while its n-gram search takes well
    under a second. Much weaker than a sentence grammar (any word may follow any word): on
    eSpeak's general sentences with ``synesthesia.data.sentences.vocabulary("general")``
    it scores WER of about 0.56, against about 0.11 for GRID sentences with
    :func:`grid_grammar` and 0.04 with :func:`sentence_language_model`.

    Args:
        words: lower-case dictionary words (each must be in :func:`recognizer_vocabulary`).

    Returns:
        ARPA text; pass it as ``grammar=`` to :func:`transcribe`.
    """
    if isinstance(words, str):
        raise ParameterError(f"words={words!r} must be a sequence of words, not one string")
    unique = sorted(set(words))
    if not unique:
        raise ParameterError("words=[] must contain at least one word")
    bad = [w for w in unique if not isinstance(w, str) or not _TOKEN.match(w)]
    if bad:
        raise ParameterError(f"words {bad[:10]!r} must be lower-case words (a-z and ')")
    known = recognizer_vocabulary()
    unknown = [w for w in unique if w not in known]
    if unknown:
        raise ParameterError(
            f"words {unknown[:10]!r} are not in the recognizer's pronouncing dictionary"
        )
    log_probability = math.log10(1.0 / (len(unique) + 1))
    lines = ["\\data\\", f"ngram 1={len(unique) + 2}", "", "\\1-grams:"]
    lines += [f"{log_probability:.6f} </s>", "-99 <s>"]
    lines += [f"{log_probability:.6f} {w}" for w in unique]
    lines += ["", "\\end\\", ""]
    return "\n".join(lines)


def sentence_language_model(texts: Sequence[str], *, discount: float = 0.5) -> str:
    """A bigram language model (ARPA text) of ``texts``, for judging sentences like them.

    Tokens are :func:`synesthesia.data.sentences.transcript_words` of each text between
    ``<s>`` and ``</s>``. Unigrams are maximum likelihood; bigrams use absolute discounting
    (``(c(v, w) - discount) / c(v)``) with the freed mass backed off to the unigrams
    (Katz-style backoff weights, so every conditional distribution sums to 1). Much sharper
    than :func:`word_loop_grammar` for in-domain sentences: on eSpeak's general sentences,
    with the model of all built-in general sentences, WER is about 0.04 (time-reversed speech
    about 1.0). It is a closed-set judge, like the GRID grammar: it knows the sentences.

    Args:
        texts: the sentences the speech is expected to say (e.g. the references, or
            ``synesthesia.data.sentences.GENERAL_SENTENCES``).
        discount: absolute discount in (0, 1).

    Returns:
        ARPA text; pass it as ``grammar=`` to :func:`transcribe`.

    References:
        Ney, Essen & Kneser, "On structuring probabilistic dependences in stochastic
        language modelling", Computer Speech & Language 1994 (absolute discounting); Katz
        1987 (backoff); the ARPA back-off format of the CMU/SRILM toolkits.
    """
    from collections import Counter

    from synesthesia.data.sentences import transcript_words

    if isinstance(texts, str):
        raise ParameterError("texts must be a sequence of sentences, not one string")
    if not 0.0 < discount < 1.0:
        raise ParameterError(f"discount={discount!r} must be in (0, 1)")
    unigrams: Counter[str] = Counter()
    bigrams: Counter[tuple[str, str]] = Counter()
    for text in texts:
        tokens = ["<s>", *transcript_words(text), "</s>"]
        if len(tokens) > 2:
            unigrams.update(tokens[1:])
            bigrams.update(zip(tokens[:-1], tokens[1:]))
    if not unigrams:
        raise ParameterError("texts contain no words")
    known = recognizer_vocabulary()
    unknown = sorted(w for w in unigrams if w != "</s>" and w not in known)
    if unknown:
        raise ParameterError(
            f"words {unknown[:10]!r} are not in the recognizer's pronouncing dictionary"
        )
    total = sum(unigrams.values())
    unigram_p = {w: c / total for w, c in unigrams.items()}
    followers: dict[str, list[tuple[str, int]]] = {}
    for (first, second), count in sorted(bigrams.items()):
        followers.setdefault(first, []).append((second, count))
    backoff, bigram_lines = {}, []
    for first, seen in followers.items():
        context = sum(c for _, c in seen)
        freed = discount * len(seen) / context
        remaining = 1.0 - sum(unigram_p[w] for w, _ in seen)
        # when the seen words exhaust the unigram mass, nothing is left to back off to
        backoff[first] = freed / remaining if remaining > 1e-12 else 1e-12
        for second, count in seen:
            bigram_lines.append(f"{math.log10((count - discount) / context):.6f} {first} {second}")
    unigram_lines = [f"-99 <s> {math.log10(backoff['<s>']):.6f}"]
    for word in sorted(unigram_p):
        weight = f" {math.log10(backoff[word]):.6f}" if word in backoff else ""
        unigram_lines.append(f"{math.log10(unigram_p[word]):.6f} {word}{weight}")
    lines = [
        "\\data\\",
        f"ngram 1={len(unigram_lines)}",
        f"ngram 2={len(bigram_lines)}",
        "",
        "\\1-grams:",
        *unigram_lines,
        "",
        "\\2-grams:",
        *bigram_lines,
        "",
        "\\end\\",
        "",
    ]
    return "\n".join(lines)


# -- the recognizer --------------------------------------------------------------------------
def _pocketsphinx():
    try:
        import pocketsphinx
    except ImportError:
        raise ParameterError("pocketsphinx is not available: pip install pocketsphinx") from None
    return pocketsphinx


def _model_path():
    from pathlib import Path

    return Path(_pocketsphinx().get_model_path()) / "en-us"


def _grammar_words(grammar: str) -> set[str]:
    """Every word a grammar can output (a superset for JSGF: all lower-case tokens)."""
    if _is_arpa(grammar):
        words, section = set(), ""
        for line in grammar.splitlines():
            if line.startswith("\\"):
                section = line.strip()
            elif section == "\\1-grams:" and line.strip():
                words.add(line.split()[1])
        return words
    body = re.sub(r"<[^>]*>", " ", grammar)
    return set(re.findall(r"[a-z][a-z']*", body))


def _dictionary_lines(words: set[str]) -> str:
    """The lines of pocketsphinx's dictionary for ``words`` (alternates included)."""
    lines = []
    with open(_model_path() / "cmudict-en-us.dict", encoding="utf-8") as handle:
        for line in handle:
            if line.strip() and line.split(maxsplit=1)[0].split("(", 1)[0] in words:
                lines.append(line)
    return "".join(lines)


class _Recognizer:
    """One pocketsphinx decoder with one grammar; calls are serialised by a lock.

    The decoder gets a dictionary cut down to the grammar's words: the search can only
    output those anyway, and pocketsphinx's start-up with the full 134 k-word dictionary and a
    small language model takes seconds (about 7 s for a 6-word model), against milliseconds.
    """

    def __init__(self, grammar: str) -> None:
        ps = _pocketsphinx()
        self.lock = threading.Lock()
        with tempfile.TemporaryDirectory(prefix="synesthesia-judge-") as folder:
            dictionary = os.path.join(folder, "words.dict")
            with open(dictionary, "w", encoding="utf-8") as handle:
                handle.write(_dictionary_lines(_grammar_words(grammar)))
            if _is_arpa(grammar):
                path = os.path.join(folder, "words.lm")
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(grammar)
                try:
                    self.decoder = ps.Decoder(lm=path, dict=dictionary, loglevel="FATAL")
                except (RuntimeError, ValueError) as exc:
                    raise ParameterError(f"grammar is not a valid ARPA model: {exc}") from None
                return
            self.decoder = ps.Decoder(lm=None, dict=dictionary, loglevel="FATAL")
        try:
            self.decoder.add_jsgf_string("judge", grammar)
        except (RuntimeError, ValueError) as exc:
            raise ParameterError(f"grammar is not a valid JSGF grammar: {exc}") from None
        self.decoder.activate_search("judge")

    def decode(self, samples: np.ndarray) -> str:
        with self.lock:
            # the front end adapts its noise estimate (remove_noise) and cepstral mean across
            # utterances; resetting them makes a transcription independent of what was
            # decoded before (otherwise a system's WER depends on the order of decoding)
            self.decoder.reinit_feat()
            self.decoder.start_utt()
            self.decoder.process_raw(samples.tobytes(), full_utt=True)
            self.decoder.end_utt()
            hypothesis = self.decoder.hyp()
        if hypothesis is None:
            return ""
        # alternates are reported as "word(2)"; fillers like <sil> are not words
        words = [w.split("(", 1)[0] for w in hypothesis.hypstr.split()]
        return " ".join(w for w in words if not w.startswith(("<", "[")))


def _is_arpa(grammar: str) -> bool:
    return grammar.lstrip().startswith("\\data\\")


@lru_cache(maxsize=8)
def _recognizer(grammar: str) -> _Recognizer:
    return _Recognizer(grammar)


def prepare_audio(
    waveform: torch.Tensor | np.ndarray,
    sample_rate: int,
    *,
    pad_seconds: float = 0.25,
    dither: float = 20.0,
    seed: int = 0,
) -> np.ndarray:
    """Turn a float waveform into what the recognizer wants: 16 kHz int16, padded, dithered.

    Args:
        waveform: (T,) float waveform, full scale ±1.
        sample_rate: its rate in Hz (any; resampled with soxr, high quality).
        pad_seconds: silence added before and after.
        dither: standard deviation of the added Gaussian noise, in int16 steps (LSB).
        seed: seed of the dither, so transcriptions are reproducible.

    Returns:
        (T',) int16 samples at 16 kHz.
    """
    if isinstance(waveform, torch.Tensor):
        waveform = waveform.detach().to("cpu", torch.float64).numpy()
    waveform = np.asarray(waveform)
    if waveform.ndim != 1:
        raise ParameterError(f"waveform with shape {waveform.shape} must be 1-D (T,)")
    if not np.issubdtype(waveform.dtype, np.floating):
        raise ParameterError(f"waveform dtype {waveform.dtype} must be floating point in [-1, 1]")
    if not np.isfinite(waveform).all():
        raise ParameterError("waveform must be finite (it contains NaN or inf)")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0:
        raise ParameterError(f"sample_rate={sample_rate!r} must be a positive integer")
    if not pad_seconds >= 0:
        raise ParameterError(f"pad_seconds={pad_seconds!r} must be >= 0")
    if not dither >= 0:
        raise ParameterError(f"dither={dither!r} must be >= 0")
    x = waveform.astype(np.float64)
    if sample_rate != RECOGNIZER_SAMPLE_RATE and x.size:
        import soxr

        x = soxr.resample(x, sample_rate, RECOGNIZER_SAMPLE_RATE, quality="HQ")
    pad = np.zeros(int(round(pad_seconds * RECOGNIZER_SAMPLE_RATE)))
    x = np.concatenate([pad, x * 32768.0, pad])
    x = x + np.random.default_rng(seed).normal(0.0, dither, size=x.shape)
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def transcribe(
    waveform: torch.Tensor | np.ndarray,
    sample_rate: int,
    *,
    grammar: str | None = None,
    seed: int = 0,
) -> str:
    """Recognise the words in ``waveform`` with pocketsphinx restricted to ``grammar``.

    Args:
        waveform: (T,) float waveform, full scale ±1, at ``sample_rate``.
        sample_rate: rate in Hz (resampled to 16 kHz).
        grammar: JSGF text (default: :func:`grid_grammar`) or ARPA language-model text (see
            :func:`word_loop_grammar`). Decoders are cached per grammar.
        seed: seed of the dither (:func:`prepare_audio`).

    Returns:
        The recognised words, lower case and space-separated ("" when nothing matched).
    """
    if grammar is None:
        grammar = grid_grammar()
    if not isinstance(grammar, str) or not ("#JSGF" in grammar or _is_arpa(grammar)):
        raise ParameterError(
            f"grammar={str(grammar)[:40]!r} must be JSGF text or an ARPA language model"
        )
    samples = prepare_audio(waveform, sample_rate, seed=seed)
    return _recognizer(grammar).decode(samples)


# -- word error rate -------------------------------------------------------------------------
def _edit_distance_python(ref: list, hyp: list) -> int:
    """Textbook row-by-row dynamic programming (fast for short sentences)."""
    previous = list(range(len(hyp) + 1))
    for i, token in enumerate(ref, start=1):
        current = [i]
        for j, other in enumerate(hyp, start=1):
            current.append(
                min(previous[j - 1] + (token != other), previous[j] + 1, current[j - 1] + 1)
            )
        previous = current
    return previous[-1]


def _edit_distance_numpy(ref: list, hyp: list) -> int:
    """The same recurrence, each row in a few vectorised operations (long sequences)."""
    hyp_array = np.array(hyp, dtype=object)
    previous = np.arange(len(hyp) + 1)
    offsets = np.arange(len(hyp) + 1)
    for i, token in enumerate(ref, start=1):
        substitute = previous[:-1] + (hyp_array != token)
        delete = previous[1:] + 1
        # insertions run left to right: current[j] = min_{k <= j} (row[k] + j - k)
        row = np.concatenate([[i], np.minimum(substitute, delete)])
        previous = np.minimum.accumulate(row - offsets) + offsets
    return int(previous[-1])


def edit_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Levenshtein distance between two token sequences (substitution = insertion =
    deletion = 1). Short pairs use plain Python loops, long ones (more than 4,096 cells)
    vectorise each row of the table over the hypothesis with numpy; both are tested
    against each other and against the textbook recurrence.
    """
    ref = list(reference)
    hyp = list(hypothesis)
    if not ref or not hyp:
        return len(ref) + len(hyp)
    if len(ref) * len(hyp) <= 4096:
        return _edit_distance_python(ref, hyp)
    return _edit_distance_numpy(ref, hyp)


def _split(text: object, name: str) -> list[str]:
    if isinstance(text, str):
        return text.split()
    if isinstance(text, (list, tuple)) and all(isinstance(t, str) for t in text):
        return list(text)
    raise ParameterError(f"{name} entry {text!r} must be a string or a list of words")


def word_error_rate(
    references: str | Sequence[str] | Sequence[Sequence[str]],
    hypotheses: str | Sequence[str] | Sequence[Sequence[str]],
) -> float:
    """Corpus-level word error rate: total edits / total reference words.

    Each entry is a string (split on whitespace) or a list of words; a single string pair is
    one sentence. Compare text normalised the same way on both sides (e.g. with
    ``synesthesia.data.sentences.transcript_words``).

    Args:
        references: the true transcripts.
        hypotheses: the recognised transcripts, one per reference.

    Returns:
        ``(S + D + I) / N``; 0 is perfect, and it can exceed 1 with many insertions.

    References:
        jiwer.wer (same corpus-level definition; tested against it).
    """
    if isinstance(references, str) and isinstance(hypotheses, str):
        references, hypotheses = [references], [hypotheses]
    if isinstance(references, str) or isinstance(hypotheses, str):
        raise ParameterError("references and hypotheses must both be strings or both lists")
    references, hypotheses = list(references), list(hypotheses)
    if len(references) != len(hypotheses):
        raise ParameterError(
            f"references ({len(references)}) and hypotheses ({len(hypotheses)}) must have "
            "the same length"
        )
    edits = 0
    total = 0
    for ref, hyp in zip(references, hypotheses):
        ref_words, hyp_words = _split(ref, "references"), _split(hyp, "hypotheses")
        edits += edit_distance(ref_words, hyp_words)
        total += len(ref_words)
    if total == 0:
        raise ParameterError("references contain no words; the word error rate is undefined")
    return edits / total
