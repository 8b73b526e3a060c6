"""Shared helpers of the command-line tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from synesthesia.cli.main import main

#: what every refused command's one line starts with
ERROR_PREFIX = "synesthesia: error: "


@pytest.fixture
def one_line_error(capsys) -> Callable[..., str]:
    """Read a refused command's stderr: exactly one line, returned (stripped).

    ``one_line_error()`` reads what the command the test just ran wrote;
    ``one_line_error(argv)`` first runs ``main(argv)`` and checks that it exits with 2.
    ``prefix`` (default ``"synesthesia: error: "``) is what the line must start with; ``None``
    checks only that there is one line.
    """

    def read(argv: Sequence[str] | None = None, *, prefix: str | None = ERROR_PREFIX) -> str:
        if argv is not None:
            assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1, err
        if prefix is not None:
            assert err[0].startswith(prefix), err
        return err[0]

    return read
