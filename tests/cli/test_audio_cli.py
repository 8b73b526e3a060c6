"""``synesthesia audio show|reconstruct`` end to end, and one-line errors with exit code 2."""

import subprocess
import sys

import numpy as np
import soundfile as sf

from synesthesia.cli.main import main


def _wav(path, seconds=0.5, sample_rate=16000):
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    x = 0.4 * np.sin(2 * np.pi * (300 + 600 * t) * t) + 0.2 * np.sin(2 * np.pi * 800 * t)
    sf.write(str(path), x.astype(np.float32), sample_rate)
    return path


def test_show_writes_a_figure(tmp_path, capsys):
    wav = _wav(tmp_path / "in.wav")
    out = tmp_path / "fig.png"
    assert (
        main(
            [
                "audio",
                "show",
                str(wav),
                "-o",
                str(out),
                "--n-fft",
                "512",
                "--hop-length",
                "128",
                "--n-mels",
                "40",
            ]
        )
        == 0
    )
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "wrote" in capsys.readouterr().out


def test_reconstruct_writes_audio_and_prints_convergence(tmp_path, capsys):
    wav = _wav(tmp_path / "in.wav")
    out = tmp_path / "out.wav"
    assert (
        main(
            [
                "audio",
                "reconstruct",
                str(wav),
                "-o",
                str(out),
                "--n-iter",
                "16",
                "--momentum",
                "0.99",
                "--n-fft",
                "512",
                "--hop-length",
                "128",
            ]
        )
        == 0
    )
    data, rate = sf.read(str(out))
    assert rate == 16000 and data.shape == (8000,)
    line = capsys.readouterr().out
    value = float(line.split("spectral convergence ")[1].split()[0])
    assert 0 <= value < 0.5


def test_bad_input_is_one_line_on_stderr_exit_2(tmp_path):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"not audio at all")
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "synesthesia",
            "audio",
            "reconstruct",
            str(bad),
            "-o",
            str(tmp_path / "o.wav"),
        ],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("synesthesia: error: path=")
    assert "broken.wav" in lines[0] and "Traceback" not in res.stderr


def test_bad_flag_values_exit_2(tmp_path, capsys):
    wav = _wav(tmp_path / "in.wav")
    assert (
        main(["audio", "reconstruct", str(wav), "-o", str(tmp_path / "o.wav"), "--hop-length", "0"])
        == 2
    )
    assert "hop_length=0" in capsys.readouterr().err
    assert main(["audio", "show", str(wav), "-o", str(tmp_path / "fig.txt")]) == 2
    assert "--output" in capsys.readouterr().err
    assert (
        main(["audio", "show", str(tmp_path / "missing.wav"), "-o", str(tmp_path / "f.png")]) == 2
    )
