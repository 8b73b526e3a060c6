"""The example clips ship with the package, the README's commands run on them as written, and
``write_example_audio`` remakes them sample for sample (issue #19)."""

from __future__ import annotations

import importlib.resources
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from synesthesia.cli.main import main
from synesthesia.pipelines import asset_path
from synesthesia.pipelines.pretrained import (
    SCENE_EXAMPLE,
    SPEECH_EXAMPLE,
    write_example_audio,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ROOT = Path(__file__).resolve().parents[2]
#: the commands a new user runs first; each must appear in README.md on a shipped example
COMMANDS = ("audio show", "scene predict", "vocoder synthesize")


def _readme_bash_lines() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    return [line for block in blocks for line in block.replace("\\\n", " ").splitlines()]


def _readme_example_commands() -> list[list[str]]:
    """README commands that read a shipped example ($ASSETS/...) and need no trained run."""
    commands = []
    for line in _readme_bash_lines():
        if line.startswith("synesthesia ") and "$ASSETS/" in line and "runs/" not in line:
            commands.append(shlex.split(line, comments=True)[1:])
    return commands


def test_the_readme_runs_each_first_command_on_a_shipped_example():
    commands = [" ".join(c[:2]) for c in _readme_example_commands()]
    for command in COMMANDS:
        assert command in commands, (command, commands)


def test_every_example_the_readme_names_is_installed_package_data():
    names = {
        match for line in _readme_bash_lines() for match in re.findall(r"\$ASSETS/([\w./-]+)", line)
    }
    assert {SPEECH_EXAMPLE, SCENE_EXAMPLE} <= names
    package = importlib.resources.files("synesthesia")
    for name in names:
        assert (package / "assets" / name).is_file(), name
        assert asset_path(name).is_file()
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"assets/**/*"' in pyproject  # package data: wheels carry the assets


def test_the_readme_assets_line_finds_the_installed_assets():
    line = next(x for x in _readme_bash_lines() if x.startswith("ASSETS="))
    done = subprocess.run(
        ["bash", "-c", f'{line}\necho "$ASSETS"'],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == asset_path(SPEECH_EXAMPLE).parent


def test_the_example_clips_are_small_mono_and_at_the_models_rates():
    speech = sf.info(str(asset_path(SPEECH_EXAMPLE)))
    scene = sf.info(str(asset_path(SCENE_EXAMPLE)))
    assert (speech.samplerate, speech.channels, speech.subtype) == (22050, 1, "PCM_16")
    assert 1.0 <= speech.duration <= 2.5
    assert (scene.samplerate, scene.channels, scene.subtype) == (8000, 1, "PCM_16")
    assert 2.0 <= scene.duration <= 4.0
    for name in (SPEECH_EXAMPLE, SCENE_EXAMPLE):
        assert asset_path(name).stat().st_size < 150_000


def test_the_readme_example_commands_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assets = str(asset_path(SPEECH_EXAMPLE).parent)
    for command in _readme_example_commands():
        argv = [arg.replace("$ASSETS", assets) for arg in command]
        assert main(argv) == 0, argv
        printed = capsys.readouterr().out
        if argv[:2] == ["scene", "predict"]:
            assert printed.splitlines()[0].split()[0] == "birds", printed
    for output in ("speech.png", "griffin_lim.wav"):
        assert (tmp_path / output).stat().st_size > 0, output


def test_write_example_audio_remakes_the_shipped_clips(tmp_path):
    for path in write_example_audio(tmp_path):
        made, rate = sf.read(str(path), dtype="int16")
        shipped, shipped_rate = sf.read(str(asset_path(path.name)), dtype="int16")
        assert rate == shipped_rate
        np.testing.assert_array_equal(made, shipped, err_msg=path.name)
