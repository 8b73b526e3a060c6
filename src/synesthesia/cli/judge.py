"""``synesthesia judge``: word error rate of speech files under a closed-grammar recognizer."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from synesthesia.errors import ParameterError

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "judge",
        help="intelligibility: word error rate of speech under pocketsphinx with a grammar",
        description="Transcribe speech with pocketsphinx restricted to a grammar (GRID-style "
        "sentences, a bigram model of the reference texts, or a word loop over their "
        "vocabulary) and print the word error "
        "rate against the reference texts. Give WAV files with one --text each, or a "
        "metadata.csv (LJSpeech layout; WAVs default to its wavs/<id>.wav).",
    )
    p.add_argument("wavs", nargs="*", type=Path, metavar="WAV", help="speech files")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--text", action="append", help="reference text, once per WAV, in the same order"
    )
    source.add_argument(
        "--metadata",
        type=Path,
        help="LJSpeech metadata.csv (id|text|normalized); references are its text column",
    )
    p.add_argument(
        "--split",
        choices=("train", "val", "test"),
        default=None,
        help="with --metadata: only the ids of this split in split.json beside it",
    )
    p.add_argument("--limit", type=int, default=None, help="judge at most this many files")
    p.add_argument(
        "--grammar",
        default="auto",
        help="'grid' (GRID grammar), 'sentences' (bigram model of the reference texts), "
        "'words' (word loop over the references' words), 'auto' (grid when every reference "
        "is a GRID sentence, else sentences) or a .jsgf file (default auto)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the recognizer's dither")
    p.add_argument(
        "--per-speaker",
        action="store_true",
        help="with --metadata: also print the WER of each voice in speakers.csv beside it",
    )
    p.set_defaults(func=run)


def _is_grid(words: list[str]) -> bool:
    from synesthesia.data.sentences import GRID_SLOTS

    return len(words) == len(GRID_SLOTS) and all(w in s for w, s in zip(words, GRID_SLOTS))


def _items(args: argparse.Namespace) -> list[tuple[str, Path, str]]:
    """(id, wav path, reference text) to judge."""
    if args.text is not None:
        if not args.wavs:
            raise ParameterError("WAV files are required with --text")
        if len(args.text) != len(args.wavs):
            raise ParameterError(
                f"--text was given {len(args.text)} times for {len(args.wavs)} WAV files; "
                "give one --text per WAV"
            )
        return [(w.stem, w, t) for w, t in zip(args.wavs, args.text)]
    from synesthesia.data.speech import read_ljspeech_metadata
    from synesthesia.utils import read_json

    rows = read_ljspeech_metadata(args.metadata)
    if args.split is not None:
        split = read_json(args.metadata.parent / "split.json")
        if args.split not in split or "ids" not in split[args.split]:
            raise ParameterError(f"--split={args.split!r} is not in split.json")
        keep = set(split[args.split]["ids"])
        rows = [r for r in rows if r[0] in keep]
    if args.wavs:
        by_stem = {w.stem: w for w in args.wavs}
        missing = sorted(set(by_stem) - {r[0] for r in rows})
        if missing:
            raise ParameterError(f"WAV files {missing[:5]} have no line in {args.metadata}")
        return [(r[0], by_stem[r[0]], r[1]) for r in rows if r[0] in by_stem]
    return [(r[0], args.metadata.parent / "wavs" / f"{r[0]}.wav", r[1]) for r in rows]


def run(args: argparse.Namespace) -> int:
    from synesthesia.data.sentences import transcript_words
    from synesthesia.data.speech import load_waveform
    from synesthesia.metrics.intelligibility import (
        grid_grammar,
        sentence_language_model,
        transcribe,
        word_error_rate,
        word_loop_grammar,
    )

    if args.split is not None and args.metadata is None:
        raise ParameterError("--split needs --metadata")
    if args.per_speaker and args.metadata is None:
        raise ParameterError("--per-speaker needs --metadata (and speakers.csv beside it)")
    speakers: dict[str, str] = {}
    if args.per_speaker:
        from synesthesia.data.speech import read_speakers

        speakers = read_speakers(args.metadata.parent / "speakers.csv")
        if not speakers:
            raise ParameterError(f"--per-speaker: no speakers.csv beside {args.metadata}")
    items = _items(args)
    if args.limit is not None:
        if args.limit <= 0:
            raise ParameterError(f"--limit={args.limit} must be a positive integer")
        items = items[: args.limit]
    if not items:
        raise ParameterError("nothing to judge (no WAV files or metadata lines selected)")
    references = [transcript_words(text) for _, _, text in items]
    if args.grammar == "auto":
        grammar_name = "grid" if all(_is_grid(r) for r in references) else "sentences"
    else:
        grammar_name = args.grammar
    if grammar_name == "grid":
        grammar = grid_grammar()
    elif grammar_name == "words":
        grammar = word_loop_grammar([w for r in references for w in r])
    elif grammar_name == "sentences":
        grammar = sentence_language_model([text for _, _, text in items])
    else:
        path = Path(grammar_name)
        if path.suffix != ".jsgf" or not path.is_file():
            raise ParameterError(
                f"--grammar={grammar_name!r} must be grid, sentences, words, auto or an "
                "existing .jsgf file"
            )
        grammar = path.read_text(encoding="utf-8")
    hypotheses = []
    for (utterance_id, wav, _), reference in zip(items, references):
        waveform, sample_rate = load_waveform(wav)
        hypothesis = transcribe(waveform, sample_rate, grammar=grammar, seed=args.seed)
        hypotheses.append(hypothesis)
        log.debug("%s: %s -> %s", utterance_id, " ".join(reference), hypothesis)
    wer = word_error_rate(references, [h.split() for h in hypotheses])
    num_words = sum(len(r) for r in references)
    print(f"WER {wer:.4f} over {len(items)} utterances ({num_words} words, grammar {grammar_name})")
    if args.per_speaker:
        groups: dict[str, list[int]] = {}
        for index, (utterance_id, _, _) in enumerate(items):
            groups.setdefault(speakers.get(utterance_id, "?"), []).append(index)
        for voice in sorted(groups):
            chosen = groups[voice]
            voice_wer = word_error_rate(
                [references[i] for i in chosen], [hypotheses[i].split() for i in chosen]
            )
            print(f"  {voice}: WER {voice_wer:.4f} over {len(chosen)} utterances")
    return 0
