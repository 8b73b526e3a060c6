"""``synesthesia tts train`` and ``synesthesia speak``: train → export → reload → speak end to
end, resume, the shipped voice, and one-line errors."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from synesthesia.cli.main import main
from synesthesia.config import AudioConfig
from synesthesia.data.espeak_corpus import reference_voice
from synesthesia.models import Tacotron2, create_model
from synesthesia.pipelines.tts import TEXT_PROCESSOR_NAME, load_acoustic_model
from synesthesia.text import TextProcessor

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tts_corpus")
    code = main(["data", "espeak", "--out", str(out), "--num-utterances", "24", "--kind", "grid",
                 "--voices", "en-us", "--sample-rate", "16000"])  # fmt: skip
    assert code == 0
    return out


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """An untrained tacotron2_tiny folder with its text processor (for the error tests)."""
    directory = tmp_path_factory.mktemp("tiny_tts")
    processor = TextProcessor("phonemes")
    torch.manual_seed(0)
    create_model("tacotron2_tiny", num_symbols=len(processor.symbol_table)).save_pretrained(
        directory
    )
    processor.save(directory / TEXT_PROCESSOR_NAME)
    return directory


def _val_column(out_dir: Path, name: str) -> list[float]:
    values = []
    for path in sorted((out_dir / "logs" / "csv").glob("version_*/metrics.csv")):
        with path.open() as handle:
            values += [float(r[name]) for r in csv.DictReader(handle) if r.get(name)]
    return values


def _train(corpus: Path, out: Path, steps: int) -> int:
    return main(
        ["tts", "train", "--data", str(corpus), "--out", str(out), "--max-steps", str(steps),
         "--set", "model.name=tacotron2_tiny", "data.batch_size=4", "data.val_fraction=0.2",
         "trainer.val_check_interval=10", "trainer.progress_bar=false",
         "trainer.accelerator=cpu", "optim.warmup_steps=5", "optim.lr=3e-3"]
    )  # fmt: skip


@pytest.mark.slow
def test_train_export_reload_speak(corpus, tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(corpus, out, 30) == 0
    printed = capsys.readouterr().out
    assert "trained 30 steps" in printed and "val/diagonality" in printed
    losses = _val_column(out, "val/loss")
    assert len(losses) == 3 and losses[-1] < losses[0], losses  # it learns
    assert len(_val_column(out, "val/diagonality")) == 3
    figures = sorted((out / "alignments").glob("step=*.png"))
    assert [f.name for f in figures] == ["step=000010.png", "step=000020.png", "step=000030.png"]
    model, processor = load_acoustic_model(out / "model")
    assert isinstance(model, Tacotron2) and processor.mode == "phonemes"
    assert model.audio_config.sample_rate == 16000
    # the export records which eSpeak NG speaker it imitates
    assert reference_voice(out / "model") == {"voice": "en-us", "rate": 175, "pitch": 50}

    # resume: a second call with more steps continues from last.ckpt
    assert _train(corpus, out, 35) == 0
    assert "trained 35 steps" in capsys.readouterr().out

    wav, figure, mel = tmp_path / "say.wav", tmp_path / "align.png", tmp_path / "say.npy"
    code = main(["speak", "Place red at F two now. Then stop!", "-o", str(wav), "--model",
                 str(out / "model"), "--alignment-out", str(figure), "--mel-out", str(mel),
                 "--griffin-lim-iters", "4"])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "2 sentence(s)" in printed and "real-time factor" in printed
    data, rate = soundfile.read(str(wav))
    assert rate == 16000 and len(data) > 0 and np.isfinite(data).all()
    assert figure.stat().st_size > 1000
    assert np.load(mel).shape[0] == model.audio_config.n_mels
    assert AudioConfig.from_json(tmp_path / "say.json") == model.audio_config


def test_speak_with_the_shipped_voice(tmp_path, capsys):
    wav = tmp_path / "hello.wav"
    assert main(["speak", "Bin blue at A one soon.", "-o", str(wav)]) == 0
    assert "1 sentence(s)" in capsys.readouterr().out
    data, rate = soundfile.read(str(wav))
    assert rate == 16000 and 0.5 < len(data) / rate < 5.0 and np.abs(data).max() > 0.01


@pytest.mark.parametrize("voice", ["tts_espeak", "tts_natural"])
def test_speak_with_a_shipped_voice_by_name(voice, tmp_path, capsys):
    wav = tmp_path / "hello.wav"
    assert main(["speak", "Set red by G nine now.", "-o", str(wav), "--model", voice]) == 0
    data, rate = soundfile.read(str(wav))
    assert rate == 16000 and 0.5 < len(data) / rate < 5.0 and np.abs(data).max() > 0.01


@pytest.mark.parametrize(
    ("text", "match"),
    [("", "nothing to speak"), ("?!", "nothing to speak"), ("\U0001f600", "nothing to speak")],
)
def test_speak_unspeakable_text_is_one_line(tiny_model, tmp_path, one_line_error, text, match):
    code = main(["speak", text, "-o", str(tmp_path / "x.wav"), "--model", str(tiny_model)])
    assert code == 2
    assert match in one_line_error(prefix=None)
    assert not (tmp_path / "x.wav").exists()


def test_speak_bad_arguments_are_one_line(tiny_model, tmp_path, one_line_error):
    out = str(tmp_path / "x.wav")
    assert main(["speak", "hi", "-o", str(tmp_path / "x.mp3"), "--model", str(tiny_model)]) == 2
    assert ".wav" in one_line_error(prefix=None)
    assert main(["speak", "hi", "-o", out, "--model", str(tmp_path / "nowhere")]) == 2
    assert "is neither a folder nor a shipped model; shipped: [" in one_line_error(prefix=None)
    # --vocoder wavenet names the WaveNet shipped for a shipped voice: a folder has none
    assert main(["speak", "hi", "-o", out, "--model", str(tiny_model), "--vocoder",
                 "wavenet"]) == 2  # fmt: skip
    assert "no WaveNet ships for model=" in one_line_error(prefix=None)
    assert main(["speak", "hi", "-o", out, "--model", str(tiny_model), "--n-iter", "0"]) == 2
    assert "--griffin-lim-iters=0" in one_line_error(prefix=None)
    assert main(["speak", "hi", "-o", out, "--model", str(tiny_model), "--vocoder",
                 str(tmp_path / "nowhere")]) == 2  # fmt: skip
    assert "griffin-lim" in one_line_error(prefix=None)
    wavenet = tmp_path / "wavenet"
    create_model("wavenet_tiny").save_pretrained(wavenet)
    assert main(["speak", "hi", "-o", out, "--model", str(wavenet)]) == 2
    assert "not a 'tacotron2'" in one_line_error(prefix=None)
    # a vocoder trained on another AudioConfig than the acoustic model's
    assert main(["speak", "hi", "-o", out, "--model", str(tiny_model), "--vocoder",
                 str(wavenet)]) == 2  # fmt: skip
    assert "different AudioConfig" in one_line_error(prefix=None)
    assert main(["speak", "x" * 100_001, "-o", out, "--model", str(tiny_model)]) == 2
    assert "characters" in one_line_error(prefix=None)
    assert main(["speak", "hi", "-o", out, "--model", str(tiny_model), "--sharpen", "0"]) == 2
    assert "--sharpen=0.0" in one_line_error(prefix=None)
    assert not Path(out).exists()


def test_speak_sharpen_overrides_the_voice_setting(tmp_path, capsys):
    """--sharpen 1 turns the shipped natural voice's post-filter off: another waveform."""
    own, off = tmp_path / "own.wav", tmp_path / "off.wav"
    text = ["speak", "Set red by G nine now.", "--model", "tts_natural", "--griffin-lim-iters", "4"]
    assert main([*text, "-o", str(own)]) == 0
    assert main([*text, "-o", str(off), "--sharpen", "1"]) == 0
    a, b = soundfile.read(str(own))[0], soundfile.read(str(off))[0]
    assert a.shape == b.shape and not np.allclose(a, b)


def test_tts_train_bad_config_is_one_line(corpus, tmp_path, one_line_error):
    base = ["tts", "train", "--data", str(corpus), "--out", str(tmp_path / "r")]
    assert main([*base, "--set", "model.name=wavenet_tiny"]) == 2
    assert "not an acoustic model" in one_line_error(prefix=None)
    assert main([*base, "--set", "data.text_mode=klingon"]) == 2
    assert "mode" in one_line_error(prefix=None)
    assert main([*base, "--set", "loss.guided_sigma=0"]) == 2
    assert "guided_sigma" in one_line_error(prefix=None)
    assert main([*base, "--set", "data.colour=blue"]) == 2
    assert "data.colour" in one_line_error(prefix=None)
    assert main(["tts", "train", "--data", str(tmp_path / "nowhere")]) == 2
    assert "not a folder" in one_line_error(prefix=None)


def test_speak_does_not_import_lightning(tiny_model, tmp_path):
    script = (
        "import sys; from synesthesia.cli.main import main; "
        f"code = main(['speak', 'hello', '-o', {str(tmp_path / 'x.wav')!r}, '--model', "
        f"{str(tiny_model)!r}, '--griffin-lim-iters', '2']); "
        "assert code == 0, code; "
        "assert not any(m.split('.')[0] in ('lightning', 'pytorch_lightning') "
        "for m in sys.modules), 'lightning imported'"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]


def test_fine_tune_starts_from_the_folder_weights(corpus, tmp_path, capsys):
    """``model.init_from``: the run starts from the folder's weights (a learning rate of ~0
    leaves them unchanged; batch-norm running statistics do move), and a folder that does not
    fit is refused before training."""
    start_dir, out = tmp_path / "start", tmp_path / "ft"
    processor = TextProcessor("phonemes")
    torch.manual_seed(123)  # not the run's seed, so the run's own initialisation differs
    create_model("tacotron2_tiny", num_symbols=len(processor.symbol_table)).save_pretrained(
        start_dir
    )
    processor.save(start_dir / TEXT_PROCESSOR_NAME)
    code = main(
        ["tts", "train", "--data", str(corpus), "--out", str(out), "--max-steps", "1",
         "--set", "model.name=tacotron2_tiny", f"model.init_from={start_dir}",
         "data.text_mode=phonemes", "data.batch_size=4", "data.val_fraction=0.2",
         "trainer.val_check_interval=1", "trainer.progress_bar=false",
         "trainer.accelerator=cpu", "optim.lr=1e-30", "optim.weight_decay=0",
         "optim.min_lr_ratio=1"]
    )  # fmt: skip
    assert code == 0
    capsys.readouterr()
    start = dict(load_acoustic_model(start_dir)[0].named_parameters())
    tuned = dict(load_acoustic_model(out / "model")[0].named_parameters())
    assert start.keys() == tuned.keys() and len(start) > 20
    for name in start:
        torch.testing.assert_close(tuned[name], start[name], rtol=0, atol=1e-20, msg=name)
    # without init_from the same run starts elsewhere
    assert main(["tts", "train", "--data", str(corpus), "--out", str(tmp_path / "fresh"),
                 "--max-steps", "1", "--set", "model.name=tacotron2_tiny",
                 "trainer.progress_bar=false", "optim.lr=1e-30"]) == 0  # fmt: skip
    fresh = dict(load_acoustic_model(tmp_path / "fresh" / "model")[0].named_parameters())
    assert not torch.equal(fresh["embedding.weight"], start["embedding.weight"])


def test_fine_tune_refuses_a_folder_that_does_not_fit(corpus, tiny_model, tmp_path,
                                                      one_line_error):  # fmt: skip
    base = ["tts", "train", "--data", str(corpus), "--out", str(tmp_path / "r"),
            "--max-steps", "1", "--set", "model.name=tacotron2_tiny"]  # fmt: skip
    # another reading of text with the same symbols (eSpeak NG's British English): a shape
    # check cannot see it, so the text processors are compared
    assert main([*base, f"model.init_from={tiny_model}", "data.text_mode=phonemes",
                 "data.voice=en-gb-x-rp"]) == 2  # fmt: skip
    message = one_line_error(prefix=None)
    assert "voice='en-us'" in message and "voice='en-gb-x-rp'" in message
    # another vocabulary size (eSpeak IPA: 61 symbols, not 79): the embedding's shape is named
    assert main([*base, f"model.init_from={tiny_model}", "data.text_mode=espeak"]) == 2
    assert "'embedding.weight' is (79," in one_line_error(prefix=None)
    # another architecture
    other = tmp_path / "gpt"
    create_model("gpt_tiny").save_pretrained(other)
    assert main([*base, f"model.init_from={other}"]) == 2
    assert "holds a 'gpt' model, not 'tacotron2'" in one_line_error(prefix=None)
    # another analysis (64 mel bands, not 80)
    config = create_model("tacotron2_tiny").audio_config
    wide = tmp_path / "wide"
    narrow = AudioConfig(**{**config.to_dict(), "n_mels": 64})
    create_model("tacotron2_tiny", audio_config=narrow, num_symbols=79).save_pretrained(wide)
    assert main([*base, f"model.init_from={wide}", "data.text_mode=phonemes"]) == 2
    assert "analyses audio as" in one_line_error(prefix=None)
    assert main([*base, "model.init_from=no/such/folder"]) == 2
    assert "model.init_from='no/such/folder' is neither" in one_line_error(prefix=None)
    assert not (tmp_path / "r" / "checkpoints").exists()
