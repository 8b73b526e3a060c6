"""The ``synesthesia`` command line.

Each subcommand lives in its own module under ``synesthesia.cli`` with a
``register(subparsers)`` function; add its name to :data:`COMMANDS`. User mistakes
(ParameterError, missing files, paths that cannot be written, an optional extra that is not
installed) print one line to stderr and exit with code 2, never a traceback. Warnings print as
one line each (``synesthesia: warning: ...``).
"""

from __future__ import annotations

import argparse
import errno
import importlib
import logging
import sys
import warnings
from collections.abc import Sequence

from synesthesia import __version__
from synesthesia.errors import ParameterError

__all__ = ["main", "build_parser", "COMMANDS"]

#: subcommand modules, in the order --help lists them
COMMANDS: tuple[str, ...] = (
    "demo", "lm", "caption", "data", "judge", "audio", "embed", "scene", "face", "vocoder", "tts",
    "speak",
    "serve",
)  # fmt: skip

EXIT_USAGE = 2

#: top-level modules of the optional extras → the extra that installs them
EXTRAS: dict[str, str] = {
    "lightning": "train", "lightning_fabric": "train", "tensorboard": "train", "gradio": "web",
}  # fmt: skip

#: OSErrors that are about the user's paths or disk, not bugs: reported in one line
_PATH_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT})


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="synesthesia",
        description="Multimodal learning: machines that see, hear and speak.",
    )
    parser.add_argument("--version", action="version", version=f"synesthesia {__version__}")
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    verbosity.add_argument("-q", "--quiet", action="store_true", help="log warnings only")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"synesthesia.cli.{name}").register(sub)
    return parser


def _fail(message: str) -> int:
    print(f"synesthesia: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _path_of(exc: OSError) -> str:
    """The path an OSError is about: a rename's destination (filename2), else filename."""
    return str(exc.filename2 or exc.filename or exc)


def _format_warning(message, category, filename, lineno, line=None) -> str:
    return f"synesthesia: warning: {message}\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(message)s")
    previous_format = warnings.formatwarning
    warnings.formatwarning = _format_warning  # printed warnings: one line, no source line
    try:
        code = args.func(args)
    except ParameterError as exc:
        return _fail(str(exc))
    except ModuleNotFoundError as exc:
        root = (exc.name or "").split(".")[0]
        if root not in EXTRAS:
            raise
        return _fail(
            f"this command needs {root!r}, which is not installed: "
            f'pip install "synesthesia[{EXTRAS[root]}]"'
        )
    except FileNotFoundError as exc:
        return _fail(f"file not found: {exc.filename or exc}")
    except IsADirectoryError as exc:
        return _fail(f"expected a file, got a directory: {_path_of(exc)}")
    except NotADirectoryError as exc:
        return _fail(f"{_path_of(exc)!r}: {exc.strerror} (a folder on its path is a file)")
    except FileExistsError as exc:
        return _fail(f"{_path_of(exc)!r}: {exc.strerror}")
    except OSError as exc:
        if exc.errno not in _PATH_ERRNOS or exc.filename is None:
            raise
        return _fail(f"{_path_of(exc)!r}: {exc.strerror}")
    except KeyboardInterrupt:
        print("synesthesia: interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.formatwarning = previous_format
    return int(code or 0)


if __name__ == "__main__":
    raise SystemExit(main())
