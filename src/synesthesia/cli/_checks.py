"""Checks of what a command is given, run before it does any work; the CLI's one place for them.

Outputs: every command that writes calls these on each of its outputs first, so that a bad
output path fails in one line before a model loads, and never after another output was
already written: the folder that will hold the output exists or can be created (no part of
its path is a file) and is writable, a file output is not a folder (nor a folder output a
file), and a file's suffix matches the format written.

Text: a text argument (or ``-`` for standard input) must be UTF-8, and a prompt must be made
of characters the model knows.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from synesthesia.errors import ParameterError

__all__ = [
    "FIGURE_SUFFIXES",
    "audio_suffixes",
    "check_mel_output",
    "check_output_dir",
    "check_output_file",
    "check_vocabulary",
    "read_text_argument",
]

#: what matplotlib's savefig writes for our figures
FIGURE_SUFFIXES: tuple[str, ...] = (".png", ".pdf", ".svg")


def audio_suffixes() -> tuple[str, ...]:
    """Suffixes ``synesthesia.io.save_audio`` writes (libsndfile's formats), ``.wav`` first."""
    import soundfile as sf

    others = sorted(f".{name.lower()}" for name in sf.available_formats() if name != "WAV")
    return (".wav", *others)


def _check_folder_can_hold(path: Path, flag: str, folder: Path) -> None:
    """``folder`` exists as a writable folder, or can be created: its nearest existing
    ancestor is a writable folder (a file anywhere on the way makes that impossible)."""
    ancestor = folder
    while not os.path.lexists(ancestor) and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ParameterError(f"{flag}={str(path)!r}: {str(ancestor)!r} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise ParameterError(f"{flag}={str(path)!r}: folder {str(ancestor)!r} is not writable")


def check_output_file(
    path: str | os.PathLike,
    *,
    flag: str,
    suffixes: Sequence[str] | None = None,
    written_as: str | None = None,
) -> Path:
    """Check that a file can be written at ``path`` (nothing is created).

    Args:
        path: the output file.
        flag: the option that named it, for the message (``--output``).
        suffixes: allowed suffixes (lower case, with the dot); None allows any.
        written_as: the format, for the message ("PNG"); default: the first suffix.

    Returns:
        ``Path(path)``.

    Raises:
        ParameterError: a wrong suffix, ``path`` is a folder, a part of its folder is a file,
            or that folder is not writable. The message names the path.
    """
    path = Path(path)
    if suffixes is not None and path.suffix.lower() not in suffixes:
        allowed = ", ".join(suffixes) if len(suffixes) > 1 else suffixes[0]
        what = written_as or suffixes[0].lstrip(".").upper()
        raise ParameterError(
            f"{flag}={str(path)!r} must end in {allowed} (the file is written as {what})"
        )
    if path.is_dir():
        raise ParameterError(f"{flag}={str(path)!r} is a folder; give a file name")
    _check_folder_can_hold(path, flag, path.absolute().parent)
    return path


def check_mel_output(path: str | os.PathLike, *, flag: str) -> Path:
    """Check a log-mel output: ``MEL.npy`` and its sidecar ``MEL.json`` (the AudioConfig)."""
    path = check_output_file(path, flag=flag, suffixes=(".npy",), written_as="a NumPy array")
    sidecar = path.with_suffix(".json")
    if sidecar.is_dir():
        raise ParameterError(
            f"{flag}={str(path)!r}: its AudioConfig goes to {str(sidecar)!r}, which is a folder"
        )
    return path


def check_output_dir(path: str | os.PathLike, *, flag: str) -> Path:
    """Check that ``path`` is, or can be created as, a writable folder (nothing is created).

    Raises:
        ParameterError: ``path`` or a folder above it is a file, or it cannot be written.
    """
    path = Path(path)
    if os.path.lexists(path) and not path.is_dir():
        raise ParameterError(f"{flag}={str(path)!r} is a file, not a folder")
    _check_folder_can_hold(path, flag, path.absolute())
    return path


def _utf8(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParameterError(
            f"{where} is not UTF-8 text: byte {exc.start} ({raw[exc.start]:#04x}) cannot be "
            "decoded; convert the text to UTF-8 first"
        ) from None


def _from_text(text: str, where: str) -> str:
    """Text Python decoded with surrogateescape (argv, or stdin in a C/POSIX locale): the bytes
    it could not decode are lone surrogates; refuse them, naming the byte offset."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _utf8(text.encode("utf-8", "surrogateescape"), where)
    return text


def read_text_argument(value: str, *, flag: str) -> str:
    """``value``, or all of standard input when it is ``-``, as text that was valid UTF-8.

    Raises:
        ParameterError: bytes that are not UTF-8; the message gives the first one's offset.
    """
    if value != "-":
        return _from_text(value, f"{flag}")
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None:  # a text stream without bytes underneath (tests, embedding programs)
        return _from_text(sys.stdin.read(), "standard input")
    return _utf8(buffer.read(), "standard input")


def check_vocabulary(text: str, tokenizer: Any, *, flag: str) -> str:
    """Refuse characters a character-level tokenizer would silently map to its unknown token.

    Tokenizers without a closed character set (bytes) accept any text.

    Raises:
        ParameterError: naming each character outside the vocabulary, in order of appearance.
    """
    chars = getattr(tokenizer, "chars", None)
    if chars is None:
        return text
    known = set(chars)
    unknown = list(dict.fromkeys(c for c in text if c not in known))
    if unknown:
        shown = ", ".join(repr(c) for c in unknown[:20]) + (" ..." if len(unknown) > 20 else "")
        raise ParameterError(
            f"{flag} has {len(unknown)} character(s) not in the model's vocabulary: {shown}"
        )
    return text
