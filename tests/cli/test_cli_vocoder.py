"""``synesthesia vocoder``: train → export → reload → synthesize end to end, and one-line errors."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from synesthesia.cli.main import main
from synesthesia.config import AudioConfig
from synesthesia.models import WaveNet, create_model, load_pretrained
from synesthesia.pipelines.vocoder import save_mel

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "configs" / "vocoder" / "tiny.yaml"
VOICES = ["en-us", "en-us+f1", "en-us+f3", "en-us+m2", "en-us+m5"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("vocoder_corpus")
    code = main(
        ["data", "espeak", "--out", str(out), "--num-utterances", "10", "--kind", "grid",
         "--voices", *VOICES, "--sample-rate", "16000"]
    )  # fmt: skip
    assert code == 0
    return out


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """An untrained wavenet_tiny folder (for the error tests, which need no training)."""
    directory = tmp_path_factory.mktemp("tiny_model")
    torch.manual_seed(0)
    create_model("wavenet_tiny").save_pretrained(directory)
    return directory


def _val_losses(out_dir: Path) -> list[float]:
    losses = []
    for path in sorted((out_dir / "logs" / "csv").glob("version_*/metrics.csv")):
        with path.open() as handle:
            losses += [float(r["val/loss"]) for r in csv.DictReader(handle) if r.get("val/loss")]
    return losses


@pytest.mark.slow
def test_train_export_reload_synthesize(corpus, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(
        ["vocoder", "train", "--config", str(TINY), "--data", str(corpus), "--out", str(out),
         "--set", "trainer.max_steps=30", "trainer.progress_bar=false",
         "trainer.accelerator=cpu"]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "trained 30 steps" in printed
    losses = _val_losses(out)
    assert len(losses) == 3 and losses[-1] < losses[0] - 0.05, losses  # it learns
    model_dir = out / "model"
    model = load_pretrained(model_dir)
    assert isinstance(model, WaveNet)
    config = AudioConfig.from_json(model_dir / "audio_config.json")
    assert config == model.audio_config and config.sample_rate == 16000

    # resume: a second call with more steps continues from last.ckpt
    code = main(
        ["vocoder", "train", "--config", str(TINY), "--data", str(corpus), "--out", str(out),
         "--set", "trainer.max_steps=40", "trainer.progress_bar=false",
         "trainer.accelerator=cpu"]
    )  # fmt: skip
    assert code == 0 and "trained 40 steps" in capsys.readouterr().out
    # it continued: one more validation (step 40), not four from a fresh start
    assert len(_val_losses(out)) == 4, _val_losses(out)

    wav = corpus / "wavs" / "ES-00000.wav"
    samples = soundfile.info(str(wav)).frames
    hop = config.hop_length
    # IN.wav → log-mel with the model's AudioConfig → WaveNet
    assert main(["vocoder", "synthesize", str(wav), "--model", str(model_dir),
                 "-o", str(tmp_path / "a.wav")]) == 0  # fmt: skip
    assert "WaveNet" in capsys.readouterr().out
    data, rate = soundfile.read(str(tmp_path / "a.wav"))
    assert rate == 16000 and len(data) == samples and np.isfinite(data).all()
    # MEL.npy (+ sidecar) written by `vocoder mel` gives the same mel, hence N * hop samples
    mel_path = tmp_path / "m.npy"
    assert main(["vocoder", "mel", str(wav), "--model", str(model_dir), "-o", str(mel_path)]) == 0
    mel = np.load(mel_path)
    assert mel.shape == (config.n_mels, 1 + samples // hop) and mel.dtype == np.float32
    assert AudioConfig.from_json(tmp_path / "m.json") == config
    assert main(["vocoder", "synthesize", str(mel_path), "--model", str(model_dir),
                 "-o", str(tmp_path / "b.wav"), "--temperature", "0.8"]) == 0  # fmt: skip
    data, _ = soundfile.read(str(tmp_path / "b.wav"))
    assert len(data) == mel.shape[1] * hop
    # the Griffin-Lim baseline reads the sidecar's AudioConfig
    assert main(["vocoder", "synthesize", str(mel_path), "--griffin-lim", "--n-iter", "4",
                 "-o", str(tmp_path / "g.wav")]) == 0  # fmt: skip
    data, rate = soundfile.read(str(tmp_path / "g.wav"))
    assert rate == 16000 and len(data) == (mel.shape[1] - 1) * hop
    # --griffin-lim-iters, the flag name speak uses, is the same flag
    assert main(["vocoder", "synthesize", str(mel_path), "--griffin-lim",
                 "--griffin-lim-iters", "4", "-o", str(tmp_path / "g2.wav")]) == 0  # fmt: skip
    assert soundfile.read(str(tmp_path / "g2.wav"))[0].tolist() == data.tolist()


def test_half_weights_from_the_command_line(tiny_model, tmp_path, capsys):
    """--weight-dtype float16 gives the same audio on both backends (mu-law: same classes)."""
    path = tmp_path / "m.npy"
    save_mel(path, torch.randn(20, 6) - 4.0, create_model("wavenet_tiny").audio_config)
    outputs = []
    for backend in ("numba", "torch"):
        out = tmp_path / f"{backend}.wav"
        assert main(["vocoder", "synthesize", str(path), "--model", str(tiny_model), "-o",
                     str(out), "--backend", backend, "--weight-dtype", "float16"]) == 0  # fmt: skip
        outputs.append(soundfile.read(str(out))[0])
    np.testing.assert_array_equal(outputs[0], outputs[1])
    assert len(outputs[0]) == 6 * 64


def test_synthesize_shows_progress_with_rate_and_time_left(tiny_model, tmp_path, wavenet_terminal):
    path = tmp_path / "m.npy"
    save_mel(path, torch.randn(20, 6) - 4.0, create_model("wavenet_tiny").audio_config)
    terminal = wavenet_terminal()
    assert main(["vocoder", "synthesize", str(path), "--model", str(tiny_model),
                 "-o", str(tmp_path / "o.wav")]) == 0  # fmt: skip
    drawn = terminal.getvalue()
    assert "sample/s" in drawn and re.search(r"\d\d:\d\d<\d\d:\d\d", drawn), drawn
    assert re.search(r"100%\|#+\| 384(\.0)?/384(\.0)? ", drawn), drawn  # reaches the end


def test_wrong_bins_refused(tiny_model, tmp_path, one_line_error):
    path = tmp_path / "m.npy"
    np.save(path, np.full((7, 10), -3.0, dtype=np.float32))
    assert main(["vocoder", "synthesize", str(path), "--model", str(tiny_model),
                 "-o", str(tmp_path / "o.wav")]) == 2  # fmt: skip
    assert "7 mel bins" in one_line_error(prefix=None)


def test_mel_of_another_audio_config_refused(tiny_model, tmp_path, one_line_error):
    model = load_pretrained(tiny_model)
    other = AudioConfig(**{**model.audio_config.to_dict(), "f_max": 4000.0})
    path = save_mel(tmp_path / "m.npy", torch.full((model.cond_channels, 10), -3.0), other)
    assert main(["vocoder", "synthesize", str(path), "--model", str(tiny_model),
                 "-o", str(tmp_path / "o.wav")]) == 2  # fmt: skip
    assert "f_max" in one_line_error(prefix=None)


def test_nan_frames_refused(tiny_model, tmp_path, one_line_error):
    path = tmp_path / "m.npy"
    mel = np.full((20, 10), -3.0, dtype=np.float32)
    mel[:, 4] = np.nan
    np.save(path, mel)
    assert main(["vocoder", "synthesize", str(path), "--model", str(tiny_model),
                 "-o", str(tmp_path / "o.wav")]) == 2  # fmt: skip
    assert "NaN" in one_line_error(prefix=None)


def test_zero_length_refused(tiny_model, tmp_path, one_line_error):
    path = tmp_path / "m.npy"
    np.save(path, np.zeros((20, 0), dtype=np.float32))
    assert main(["vocoder", "synthesize", str(path), "--model", str(tiny_model),
                 "-o", str(tmp_path / "o.wav")]) == 2  # fmt: skip
    assert "zero frames" in one_line_error(prefix=None)
    wav = tmp_path / "empty.wav"
    soundfile.write(str(wav), np.zeros(0, dtype=np.float32), 16000)
    assert main(["vocoder", "synthesize", str(wav), "--model", str(tiny_model),
                 "-o", str(tmp_path / "o.wav")]) == 2  # fmt: skip
    assert "no audio samples" in one_line_error(prefix=None)


def test_pickled_npy_refused(tiny_model, tmp_path, one_line_error):
    path = tmp_path / "m.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    assert main(["vocoder", "synthesize", str(path), "--model", str(tiny_model),
                 "-o", str(tmp_path / "o.wav")]) == 2  # fmt: skip
    assert "m.npy" in one_line_error(prefix=None)


def test_model_of_another_architecture_refused(tmp_path, one_line_error):
    directory = tmp_path / "gpt"
    create_model("gpt_tiny").save_pretrained(directory)
    path = tmp_path / "m.npy"
    np.save(path, np.full((20, 10), -3.0, dtype=np.float32))
    assert main(["vocoder", "synthesize", str(path), "--model", str(directory),
                 "-o", str(tmp_path / "o.wav")]) == 2  # fmt: skip
    assert "'gpt'" in one_line_error(prefix=None)


def test_model_or_griffin_lim_required(tmp_path, one_line_error):
    path = tmp_path / "m.npy"
    np.save(path, np.full((80, 10), -3.0, dtype=np.float32))
    assert main(["vocoder", "synthesize", str(path), "-o", str(tmp_path / "o.wav")]) == 2
    assert "--griffin-lim" in one_line_error(prefix=None)


def test_train_needs_data(tmp_path, one_line_error):
    assert main(["vocoder", "train", "--config", str(TINY), "--out", str(tmp_path)]) == 2
    assert "data.root" in one_line_error(prefix=None)
    assert main(["vocoder", "train", "--data", str(tmp_path / "nope")]) == 2
    assert "--data" in one_line_error(prefix=None)


def test_synthesize_does_not_import_lightning(tiny_model, tmp_path):
    path = tmp_path / "m.npy"
    np.save(path, np.full((20, 3), -3.0, dtype=np.float32))
    code = (
        "import sys; from synesthesia.cli.main import main; "
        f"rc = main(['vocoder', 'synthesize', {str(path)!r}, '--model', {str(tiny_model)!r}, "
        f"'-o', {str(tmp_path / 'o.wav')!r}, '--backend', 'torch']); "
        "assert rc == 0, rc; assert 'lightning' not in sys.modules, 'lightning imported'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads((tiny_model / "config.json").read_text())["architecture"] == "wavenet"


def test_model_and_griffin_lim_choice_is_one_line(tiny_model, tmp_path, one_line_error):
    path = tmp_path / "m.npy"
    save_mel(path, torch.randn(20, 6) - 4.0, create_model("wavenet_tiny").audio_config)
    out = tmp_path / "o.wav"
    assert main(["vocoder", "synthesize", str(path), "--model", str(tiny_model),
                 "--griffin-lim", "-o", str(out)]) == 2  # fmt: skip
    assert "not both" in one_line_error(prefix=None)
    assert main(["vocoder", "synthesize", str(path), "--model", "no_such_vocoder",
                 "-o", str(out)]) == 2  # fmt: skip
    assert "--model='no_such_vocoder' is neither a WaveNet folder" in one_line_error(prefix=None)
    assert not out.exists()
