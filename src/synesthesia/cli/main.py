"""The ``synesthesia`` command line.

Each subcommand lives in its own module under ``synesthesia.cli`` with a
``register(subparsers)`` function; add its name to :data:`COMMANDS`. User mistakes
(ParameterError, missing files) print one line to stderr and exit with code 2, never a
traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from synesthesia import __version__
from synesthesia.errors import ParameterError

__all__ = ["main", "build_parser", "COMMANDS"]

#: subcommand modules, in the order --help lists them
COMMANDS: tuple[str, ...] = (
    "demo", "lm", "caption", "data", "judge", "audio", "embed", "scene", "vocoder", "tts", "speak",
)  # fmt: skip

EXIT_USAGE = 2


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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(message)s")
    try:
        code = args.func(args)
    except ParameterError as exc:
        return _fail(str(exc))
    except FileNotFoundError as exc:
        return _fail(f"file not found: {exc.filename or exc}")
    except IsADirectoryError as exc:
        return _fail(f"expected a file, got a directory: {exc.filename or exc}")
    except KeyboardInterrupt:
        print("synesthesia: interrupted", file=sys.stderr)
        return 130
    return int(code or 0)


if __name__ == "__main__":
    raise SystemExit(main())
