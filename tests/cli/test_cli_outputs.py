"""Output paths of every command that writes: validated before any work, one-line errors.

Tests run as root, whom a read-only folder does not stop: unwritable outputs are a parent that
is a file, a folder given where a file is wanted, a file given where a folder is wanted, and a
monkeypatched ``os.access`` / writer for permissions.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from synesthesia.cli.main import main

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TRAIN_FAST = ["--max-steps", "1", "--set", "trainer.accelerator=cpu", "trainer.progress_bar=false"]


@pytest.fixture
def inputs(tmp_path) -> dict[str, Path]:
    """A 0.5 s tone (16 kHz WAV), an 8x8 image, a gallery folder, a text file, an empty corpus
    folder and ``blocker``, a plain file that outputs are put under or given as."""
    folder = tmp_path / "in"
    folder.mkdir()
    t = np.arange(8000) / 16000
    sf.write(str(folder / "tone.wav"), 0.3 * np.sin(2 * np.pi * 220 * t), 16000)
    image = Image.fromarray((np.arange(64).reshape(8, 8) * 4).astype(np.uint8), mode="L")
    image.save(folder / "digit.png")
    (folder / "gallery").mkdir()
    image.save(folder / "gallery" / "a.png")
    (folder / "text.txt").write_text("the cat sees the dog. " * 200, encoding="utf-8")
    (folder / "corpus").mkdir()
    (tmp_path / "blocker").write_bytes(b"not a folder")
    return {
        "wav": folder / "tone.wav",
        "png": folder / "digit.png",
        "gallery": folder / "gallery",
        "text": folder / "text.txt",
        "corpus": folder / "corpus",
        "blocker": tmp_path / "blocker",
    }


#: commands that write one file: argv (OUT = the file) and the suffix the file must have
FILE_OUTPUTS = {
    "audio show": (["audio", "show", "{wav}", "-o", "{out}"], ".png"),
    "audio reconstruct": (["audio", "reconstruct", "{wav}", "-o", "{out}"], ".wav"),
    "embed retrieve": (
        ["embed", "retrieve", "--audio", "{wav}", "--images", "{gallery}", "-o", "{out}"],
        ".png",
    ),
    "vocoder mel": (["vocoder", "mel", "{wav}", "-o", "{out}"], ".npy"),
    "vocoder synthesize": (
        ["vocoder", "synthesize", "{wav}", "--griffin-lim", "--n-iter", "1", "-o", "{out}"],
        ".wav",
    ),
    "speak -o": (["speak", "hi", "-o", "{out}"], ".wav"),
    "speak --alignment-out": (
        ["speak", "hi", "-o", "{tmp}/s.wav", "--alignment-out", "{out}"],
        ".png",
    ),  # fmt: skip
    "speak --mel-out": (["speak", "hi", "-o", "{tmp}/s.wav", "--mel-out", "{out}"], ".npy"),
}

#: commands that write into a folder: argv (OUT = the folder)
DIR_OUTPUTS = {
    "caption predict": ["caption", "predict", "{png}", "--attention-out", "{out}"],
    "caption train": ["caption", "train", "--out", "{out}", *TRAIN_FAST],
    "embed train": ["embed", "train", "--out", "{out}", *TRAIN_FAST],
    "scene train": ["scene", "train", "--out", "{out}", *TRAIN_FAST],
    "vocoder train": ["vocoder", "train", "--data", "{corpus}", "--out", "{out}", *TRAIN_FAST],
    "tts train": ["tts", "train", "--data", "{corpus}", "--out", "{out}", *TRAIN_FAST],
    "lm train": ["lm", "train", "--text", "{text}", "--out", "{out}", *TRAIN_FAST],
    "data espeak": ["data", "espeak", "--out", "{out}", "--num-utterances", "1"],
    "demo": ["demo", "--out", "{out}", "--only", "audio"],
}


def _argv(template: list[str], inputs: dict[str, Path], out: Path) -> list[str]:
    values = {k: str(v) for k, v in inputs.items()}
    return [a.format(out=out, tmp=inputs["blocker"].parent, **values) for a in template]


@pytest.mark.parametrize("command", sorted(FILE_OUTPUTS))
def test_file_output_under_a_file_is_one_line(command, inputs, one_line_error):
    template, suffix = FILE_OUTPUTS[command]
    out = inputs["blocker"] / f"out{suffix}"
    assert main(_argv(template, inputs, out)) == 2
    line = one_line_error()
    assert str(out) in line and "is a file, not a folder" in line
    assert inputs["blocker"].read_bytes() == b"not a folder"
    assert not (inputs["blocker"].parent / "s.wav").exists()  # speak wrote nothing


@pytest.mark.parametrize("command", sorted(FILE_OUTPUTS))
def test_file_output_that_is_a_folder_is_one_line(command, inputs, one_line_error):
    template, suffix = FILE_OUTPUTS[command]
    out = inputs["blocker"].parent / f"folder{suffix}"
    out.mkdir()
    assert main(_argv(template, inputs, out)) == 2
    line = one_line_error()
    assert str(out) in line and "is a folder" in line
    assert out.is_dir() and not any(out.iterdir())
    assert not (inputs["blocker"].parent / "s.wav").exists()


@pytest.mark.parametrize("command", sorted(DIR_OUTPUTS))
@pytest.mark.parametrize("where", ["under a file", "a file"])
def test_folder_output_that_cannot_be_a_folder_is_one_line(command, where, inputs, one_line_error):
    out = inputs["blocker"] / "run" if where == "under a file" else inputs["blocker"]
    assert main(_argv(DIR_OUTPUTS[command], inputs, out)) == 2
    line = one_line_error()
    assert str(out) in line and "is a file, not a folder" in line
    assert inputs["blocker"].read_bytes() == b"not a folder"


def _deny_writes_under(monkeypatch, root: Path) -> None:
    """os.access says no to writing anywhere under ``root`` (root ignores permission bits)."""
    real = os.access

    def access(path, mode, **kwargs):
        if mode & os.W_OK and str(Path(path).absolute()).startswith(str(root)):
            return False
        return real(path, mode, **kwargs)

    monkeypatch.setattr(os, "access", access)


@pytest.mark.parametrize("command", ["audio show", "speak --mel-out"])
def test_file_output_in_an_unwritable_folder_is_one_line(
    command, inputs, one_line_error, monkeypatch
):
    template, suffix = FILE_OUTPUTS[command]
    locked = inputs["blocker"].parent / "locked"
    locked.mkdir()
    _deny_writes_under(monkeypatch, locked)
    out = locked / f"out{suffix}"
    assert main(_argv(template, inputs, out)) == 2
    line = one_line_error()
    assert str(out) in line and "not writable" in line
    assert not any(locked.iterdir())
    assert not (inputs["blocker"].parent / "s.wav").exists()


@pytest.mark.parametrize("command", ["data espeak", "lm train"])
def test_folder_output_in_an_unwritable_folder_is_one_line(
    command, inputs, one_line_error, monkeypatch
):
    locked = inputs["blocker"].parent / "locked"
    locked.mkdir()
    _deny_writes_under(monkeypatch, locked)
    out = locked / "run"
    assert main(_argv(DIR_OUTPUTS[command], inputs, out)) == 2
    line = one_line_error()
    assert str(out) in line and "not writable" in line
    assert not out.exists()


@pytest.mark.parametrize(
    "error",
    [
        PermissionError(errno.EACCES, "Permission denied"),
        FileExistsError(errno.EEXIST, "File exists"),
        NotADirectoryError(errno.ENOTDIR, "Not a directory"),
        OSError(errno.EROFS, "Read-only file system"),
        OSError(errno.ENOSPC, "No space left on device"),
    ],
    ids=lambda e: type(e).__name__ + f"-{errno.errorcode[e.errno]}",
)
def test_os_errors_while_writing_are_one_line(error, inputs, one_line_error, monkeypatch):
    """What validation cannot foresee (a race, a full disk) still ends in one line naming the
    path, mapped in cli/main.py."""
    out = inputs["blocker"].parent / "rebuilt.wav"

    def save_audio(path, *args, **kwargs):
        error.filename = str(path)
        raise error

    monkeypatch.setattr("synesthesia.io.save_audio", save_audio)
    assert main(["audio", "reconstruct", str(inputs["wav"]), "-o", str(out), "--n-iter", "1"]) == 2
    line = one_line_error()
    assert str(out) in line and error.strerror in line


# --- item 3: every output is checked before any work or write ---------------------------


@pytest.mark.parametrize(
    "extra",
    [
        ["--alignment-out", "{blocker}/a.png"],
        ["--mel-out", "{blocker}/m.npy"],
        ["--alignment-out", "{tmp}/a.wav"],
        ["--mel-out", "{tmp}/m.png"],
        ["--mel-out", "{tmp}/m.npy", "--alignment-out", "{tmp}/m.json"],  # the mel's sidecar
    ],
    ids=[
        "alignment under a file",
        "mel under a file",
        "alignment .wav",
        "mel .png",
        "alignment over the mel sidecar",
    ],  # fmt: skip
)
def test_speak_leaves_an_existing_output_untouched_when_another_output_is_bad(
    extra, inputs, one_line_error
):
    tmp = inputs["blocker"].parent
    old = tmp / "old.wav"
    old.write_bytes(b"RIFF old bytes")
    args = ["speak", "hi", "-o", str(old)]
    args += [a.format(blocker=inputs["blocker"], tmp=tmp) for a in extra]
    assert main(args) == 2
    one_line_error()
    assert old.read_bytes() == b"RIFF old bytes"
    assert not (tmp / "m.npy").exists() and not (tmp / "m.json").exists()


def _refuse_work(monkeypatch, *targets: str) -> None:
    def work(*args, **kwargs):
        raise AssertionError("the command started working before it checked its arguments")

    for target in targets:
        monkeypatch.setattr(target, work)


def test_judge_per_speaker_without_metadata_fails_before_transcribing(
    inputs, one_line_error, monkeypatch
):
    _refuse_work(monkeypatch, "synesthesia.metrics.intelligibility.transcribe")
    code = main(["judge", str(inputs["wav"]), "--text", "bin blue at a one soon", "--per-speaker"])
    assert code == 2
    assert "--per-speaker needs --metadata" in one_line_error()


def test_judge_per_speaker_without_speakers_csv_fails_before_transcribing(
    inputs, one_line_error, monkeypatch
):
    corpus = inputs["corpus"]
    (corpus / "wavs").mkdir()
    sf.write(str(corpus / "wavs" / "a.wav"), sf.read(str(inputs["wav"]))[0], 16000)
    (corpus / "metadata.csv").write_text("a|bin blue at a one soon|bin blue at a one soon\n")
    _refuse_work(monkeypatch, "synesthesia.metrics.intelligibility.transcribe")
    code = main(["judge", "--metadata", str(corpus / "metadata.csv"), "--per-speaker"])
    assert code == 2
    assert "speakers.csv" in one_line_error()


# --- item 4: the suffix matches the format written ----------------------------------------


def test_embed_retrieve_refuses_a_grid_named_wav(inputs, one_line_error):
    out = inputs["blocker"].parent / "grid.wav"
    args = ["embed", "retrieve", "--audio", str(inputs["wav"]), "--images", str(inputs["gallery"])]
    assert main([*args, "-o", str(out)]) == 2
    line = one_line_error()
    assert str(out) in line and ".png" in line
    assert not out.exists()


@pytest.mark.parametrize(
    "command, bad, allowed, work",
    [
        ("audio show", ".wav", [".png", ".pdf", ".svg"], "synesthesia.io.load_audio"),
        ("audio reconstruct", ".png", [".wav", ".flac", ".ogg"], "synesthesia.io.load_audio"),
        ("vocoder mel", ".wav", [".npy"], "synesthesia.io.load_audio"),
        ("vocoder synthesize", ".npy", [".wav", ".flac"], "synesthesia.io.load_audio"),
        ("speak -o", ".png", [".wav"], "synesthesia.pipelines.tts.TextToSpeech.from_pretrained"),
        (
            "speak --alignment-out",
            ".wav",
            [".png"],
            "synesthesia.pipelines.tts.TextToSpeech.from_pretrained",
        ),
        (
            "speak --mel-out",
            ".wav",
            [".npy"],
            "synesthesia.pipelines.tts.TextToSpeech.from_pretrained",
        ),
    ],  # fmt: skip
)
def test_wrong_output_suffix_lists_the_allowed_ones_before_any_work(
    command, bad, allowed, work, inputs, one_line_error, monkeypatch
):
    _refuse_work(monkeypatch, work)
    template, _ = FILE_OUTPUTS[command]
    out = inputs["blocker"].parent / f"out{bad}"
    assert main(_argv(template, inputs, out)) == 2
    line = one_line_error()
    assert str(out) in line
    for suffix in allowed:
        assert suffix in line
    assert not out.exists()
