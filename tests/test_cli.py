import subprocess
import sys

import pytest

from synesthesia.cli.main import COMMANDS, build_parser, main


def test_help_everywhere(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    for name in COMMANDS:
        with pytest.raises(SystemExit) as info:
            main([name, "--help"])
        assert info.value.code == 0
    assert "demo" in capsys.readouterr().out


def test_every_subcommand_has_help_text():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():
        assert p.description or p.format_help(), name


def test_python_dash_m_runs_the_cli():
    res = subprocess.run(
        [sys.executable, "-m", "synesthesia", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert res.stdout.startswith("synesthesia ")


def test_bad_demo_section_is_one_line_exit_2(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--only", "nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("synesthesia: error: --only='nope'")
