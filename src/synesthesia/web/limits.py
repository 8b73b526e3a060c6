"""What the web app accepts: size, duration and length caps, and where input files may live.

Every refusal is a :class:`~synesthesia.errors.ParameterError` whose message is written for the
person at the browser: it names the file by its own name (never a server path), the limit and
what to do. The app shows it in the page; the server carries on.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from synesthesia.errors import ParameterError

__all__ = [
    "MAX_AUDIO_SECONDS",
    "MAX_TEXT_CHARS",
    "MAX_UPLOAD_MB",
    "MAX_GALLERY_IMAGES",
    "check_text",
    "inside",
    "read_clip",
    "read_picture",
]

#: the largest upload the server accepts (gradio refuses bigger files before they land)
MAX_UPLOAD_MB = 20
#: longest clip (seconds) any tab reads
MAX_AUDIO_SECONDS = 60.0
#: longest text (characters) spoken or used as a prompt
MAX_TEXT_CHARS = 1000
#: most images in an uploaded retrieval gallery
MAX_GALLERY_IMAGES = 50


def inside(path: str | os.PathLike, root: str | os.PathLike) -> Path:
    """``path`` resolved, when it lies in ``root``; otherwise a ParameterError.

    Uploads land in the app's own temporary folder; a request naming any other file (an API
    call with a crafted path, ``../`` in a name) is refused without touching that file.
    """
    resolved = Path(path).resolve()
    if not resolved.is_relative_to(Path(root).resolve()):
        raise ParameterError(
            f"file {Path(path).name!r} was not uploaded to this server; upload it again"
        )
    return resolved


def _named(exc: ParameterError, path: Path, name: str) -> ParameterError:
    """The same error with the server path of an upload replaced by the file's name."""
    return ParameterError(str(exc).replace(str(path), name).replace(repr(str(path)), repr(name)))


def check_text(text: str | None, *, what: str = "text", required: bool = True) -> str:
    """The stripped text, or a ParameterError when it is empty (and required) or too long."""
    given = text or ""
    text = given.strip()
    if required and not text:
        raise ParameterError(f"the {what} is empty: type something first")
    if len(given) > MAX_TEXT_CHARS:
        raise ParameterError(
            f"the {what} has {len(given):,} characters; this page takes at most "
            f"{MAX_TEXT_CHARS:,} (split it, or use `synesthesia speak` for long documents)"
        )
    return text


def _check_size(path: Path, name: str) -> None:
    size = path.stat().st_size
    if size > MAX_UPLOAD_MB * 1024 * 1024:
        raise ParameterError(f"{name!r} is {size / 2**20:.1f} MB; the limit is {MAX_UPLOAD_MB} MB")
    if size == 0:
        raise ParameterError(f"{name!r} is empty (0 bytes)")


def read_clip(path: str | os.PathLike | None, root: str | os.PathLike) -> tuple[torch.Tensor, int]:
    """A mono clip (T,) and its rate from an uploaded or recorded file in ``root``.

    Refuses, each with its own message: no file, a file outside ``root``, an empty file, a
    file that is not audio, a clip with no samples, and one longer than
    :data:`MAX_AUDIO_SECONDS` (checked from the header, before decoding).
    """
    import soundfile as sf

    from synesthesia.io.audio import load_audio

    if path is None:
        raise ParameterError("no clip: upload an audio file or record one first")
    path = inside(path, root)
    name = path.name
    _check_size(path, name)
    try:
        info = sf.info(str(path))
    except (RuntimeError, sf.LibsndfileError, TypeError, ValueError):
        raise ParameterError(
            f"{name!r} is not an audio file this server can read (WAV, FLAC, OGG, MP3 ...)"
        ) from None
    if info.frames <= 0:
        raise ParameterError(f"{name!r} holds no audio (0 samples)")
    seconds = info.frames / info.samplerate
    if seconds > MAX_AUDIO_SECONDS:
        raise ParameterError(
            f"{name!r} is {seconds / 60:.1f} minutes long; this page takes clips of at most "
            f"{MAX_AUDIO_SECONDS:.0f} s (cut it, or use the command line)"
        )
    try:
        waveform, rate = load_audio(path)
    except ParameterError as exc:
        raise _named(exc, path, name) from None
    if not float(waveform.abs().max()) > 0:
        raise ParameterError(f"{name!r} is silent (every sample is zero)")
    return waveform, rate


def read_picture(
    path: str | os.PathLike | None, root: str | os.PathLike, *, mode: str = "RGB"
) -> torch.Tensor:
    """An uploaded image (C, H, W) in [0, 1] from a file in ``root`` (not an image, too many
    pixels, truncated, or outside ``root``: a ParameterError naming the file)."""
    from synesthesia.io.image import load_image

    if path is None:
        raise ParameterError("no image: upload one first")
    path = inside(path, root)
    name = path.name
    _check_size(path, name)
    try:
        return load_image(path, mode=mode)
    except ParameterError as exc:
        raise _named(exc, path, name) from None
