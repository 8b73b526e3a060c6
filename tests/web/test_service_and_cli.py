"""The web app's pieces without a browser: a language-model folder and a WaveNet vocoder
reach their tabs, the limits say what is wrong, and ``synesthesia serve`` checks its flags."""

from __future__ import annotations

import pytest
import torch

from synesthesia.cli.main import main
from synesthesia.errors import ParameterError
from synesthesia.models import create_model
from synesthesia.pipelines import asset_path
from synesthesia.pipelines.lm import TextGenerator
from synesthesia.text.tokenizer import CharTokenizer
from synesthesia.web.limits import MAX_TEXT_CHARS, check_text, inside, read_clip, read_picture

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def service_with_models(tmp_path_factory):
    """A Service with an untrained language model, WaveNet and Speech2Face loaded."""
    from synesthesia.pipelines.pretrained import pretrained_path
    from synesthesia.pipelines.speech2face import Speech2Face
    from synesthesia.pipelines.tts import load_acoustic_model
    from synesthesia.pipelines.vocoder import save_vocoder
    from synesthesia.web.service import Service

    root = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    tokenizer = CharTokenizer.from_text("the cat sees a dog. ")
    lm = TextGenerator(create_model("gpt_tiny", vocab_size=tokenizer.vocab_size), tokenizer)
    lm.save_pretrained(root / "lm")
    acoustic, _ = load_acoustic_model(pretrained_path("tts_espeak"))
    wavenet = create_model("wavenet_tiny", audio_config=acoustic.audio_config,
                           cond_channels=acoustic.audio_config.n_mels)  # fmt: skip
    save_vocoder(wavenet, root / "wavenet")
    Speech2Face(create_model("speech2face_tiny")).save_pretrained(root / "face")
    return Service(root / "work", vocoders={"tiny": root / "wavenet"}, lm=root / "lm",
                   face=root / "face")  # fmt: skip


def test_lm_tab_generates_from_a_loaded_model(service_with_models):
    answer = service_with_models.generate("the cat ", 12, 0.8, 0)
    assert answer.text.startswith("the cat ") and len(answer.text) == len("the cat ") + 12
    assert answer.files["json"].is_file()


def test_a_wavenet_vocoder_is_offered_and_used(service_with_models):
    # the default voice through Griffin-Lim and the WaveNet, then the other shipped voice
    assert service_with_models.vocoders == ["griffin-lim", "tiny", "tts_natural"]
    speech = service_with_models.speak("six", "tiny")
    assert speech.data["vocoder"] == "tiny" and speech.data["seconds"] > 0.1
    with pytest.raises(ParameterError, match="vocoder 'nope' is not loaded"):
        service_with_models.speak("six", "nope")
    natural = service_with_models.speak("Six red boxes.", "tts_natural")
    assert natural.data["vocoder"] == "tts_natural" and natural.data["seconds"] > 0.3


def test_face_tab_and_the_chains_face_stage(service_with_models, tmp_path):
    import shutil

    clip = service_with_models.workdir / "voice.wav"
    shutil.copyfile(asset_path("speech.wav"), clip)
    answer = service_with_models.face(str(clip))
    assert set(answer.data["attributes"]) == {"gender", "age"}
    assert answer.files["face"].read_bytes()[:4] == b"\x89PNG"
    chain = service_with_models.run_chain(None, "three", None, "griffin-lim")
    assert "face" in chain.files and set(chain.data["face"]["attributes"]) == {"gender", "age"}


def test_old_results_are_deleted_when_new_ones_are_written(service_with_models):
    import os
    import time

    from synesthesia.web.service import RESULT_MAX_AGE

    old = service_with_models.speak("one", "griffin-lim").files["wav"].parent
    recent = service_with_models.speak("two", "griffin-lim").files["wav"].parent
    long_ago = time.time() - RESULT_MAX_AGE - 60
    os.utime(old, (long_ago, long_ago))
    service_with_models.speak("three", "griffin-lim")
    assert not old.exists() and recent.exists()


def test_limits_name_the_file_and_the_rule(tmp_path):
    assert check_text("  hello ") == "hello"
    with pytest.raises(ParameterError, match=f"at most {MAX_TEXT_CHARS:,}"):
        check_text("a" * (MAX_TEXT_CHARS + 1))
    with pytest.raises(ParameterError, match="'speech.wav' was not uploaded to this server"):
        read_clip(asset_path("speech.wav"), tmp_path)
    with pytest.raises(ParameterError, match="was not uploaded"):
        inside(tmp_path / ".." / "elsewhere.png", tmp_path)
    silent = tmp_path / "silent.wav"
    import soundfile as sf

    sf.write(silent, torch.zeros(8000).numpy(), 8000)
    with pytest.raises(ParameterError, match="'silent.wav' is silent"):
        read_clip(silent, tmp_path)
    text = tmp_path / "photo.jpg"
    text.write_text("hello")
    with pytest.raises(ParameterError, match="photo.jpg") as caught:
        read_picture(text, tmp_path)
    assert str(tmp_path) not in str(caught.value)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--port", "0"], "--port=0 must be between 1 and 65535"),
        (["serve", "--lm", "no/such/folder"], "--lm='no/such/folder' is not a model folder"),
        (["serve", "--vocoder", "no/such/wavenet"], "'no/such/wavenet' is not a model folder"),
    ],
)
def test_serve_refuses_bad_flags_in_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_serve_help_names_host_and_port(capsys):
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = capsys.readouterr().out
    assert "--host" in out and "127.0.0.1" in out and "--port" in out


def test_serve_without_the_web_extra_says_how_to_install_it(monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "gradio", None)  # as if not installed
    assert main(["serve", "--port", "7999"]) == 2
    err = capsys.readouterr().err
    assert 'pip install "synesthesia[web]"' in err and err.count("\n") == 1
