"""``synesthesia data espeak`` writes a valid, resumable LJSpeech corpus; ``judge`` scores it."""

import json

import pytest
import soundfile

from synesthesia.cli.main import main
from synesthesia.data.espeak_corpus import split_voices
from synesthesia.data.speech import LJSpeechDataset, read_ljspeech_metadata

VOICES = ["en-us", "en-us+f1", "en-us+f3", "en-us+m2", "en-us+m5"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    code = main(
        ["data", "espeak", "--out", str(out), "--num-utterances", "10", "--kind", "grid",
         "--voices", *VOICES, "--seed", "3", "--rate-range", "160", "190",
         "--pitch-range", "30", "70"]
    )  # fmt: skip
    assert code == 0
    return out


def test_corpus_is_a_valid_ljspeech_layout(corpus):
    rows = read_ljspeech_metadata(corpus / "metadata.csv")
    assert len(rows) == 10 and rows[0][0] == "ES-00000"
    info = soundfile.info(str(corpus / "wavs" / "ES-00000.wav"))
    assert info.subtype == "PCM_16" and info.samplerate == 22050 and info.channels == 1
    data = LJSpeechDataset(corpus)
    assert len(data) == 10
    item = data[3]
    assert item["text"] == rows[3][1] and item["speaker"] == VOICES[3]
    assert 0.8 < item["waveform"].numel() / 22050 < 3.5
    speakers = (corpus / "speakers.csv").read_text().splitlines()
    assert speakers[0] == "id|voice|rate|pitch"
    rates = {int(line.split("|")[2]) for line in speakers[1:]}
    assert all(160 <= r <= 190 for r in rates) and len(rates) > 1
    pitches = {int(line.split("|")[3]) for line in speakers[1:]}
    assert all(30 <= p <= 70 for p in pitches) and len(pitches) > 1


def test_split_holds_out_whole_voices(corpus):
    split = json.loads((corpus / "split.json").read_text())
    assert split["test"]["voices"] and split["val"]["voices"]
    assert split_voices(VOICES) == {k: split[k]["voices"] for k in ("train", "val", "test")}
    assert split_voices(list(reversed(VOICES))) == split_voices(VOICES)  # order-independent
    ids = [set(split[k]["ids"]) for k in ("train", "val", "test")]
    assert set.union(*ids) == {f"ES-{i:05d}" for i in range(10)}
    assert sum(len(s) for s in ids) == 10
    test = LJSpeechDataset(corpus, split="test")
    assert {test[i]["speaker"] for i in range(len(test))} == set(split["test"]["voices"])


def test_rerun_resumes_and_extends(corpus, capsys):
    first = (corpus / "wavs" / "ES-00004.wav").read_bytes()
    (corpus / "wavs" / "ES-00007.wav").unlink()  # as if interrupted
    args = ["data", "espeak", "--out", str(corpus), "--kind", "grid", "--voices", *VOICES,
            "--seed", "3", "--rate-range", "160", "190", "--pitch-range", "30", "70"]  # fmt: skip
    assert main([*args, "--num-utterances", "12"]) == 0
    assert "12 utterances (3 new, 9 kept)" in capsys.readouterr().out
    assert (corpus / "wavs" / "ES-00004.wav").read_bytes() == first
    assert len(read_ljspeech_metadata(corpus / "metadata.csv")) == 12
    # other settings in the same folder: one-line error, exit 2
    other = [a if a != "3" else "4" for a in args]  # another --seed
    assert main([*other, "--num-utterances", "12"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "other settings" in err[0]
    # --no-vary is a setting of its own (recorded only when off, so older corpora still match)
    assert main([*args, "--num-utterances", "12", "--no-vary"]) == 2
    assert "['vary']" in capsys.readouterr().err
    assert "vary" not in json.loads((corpus / "corpus.json").read_text())


def test_unknown_espeak_language_is_refused(tmp_path, capsys):
    """eSpeak NG speaks an unknown voice name with its default voice: refused up front."""
    out = tmp_path / "c"
    assert main(["data", "espeak", "--out", str(out), "--voices", "klingon"]) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown eSpeak NG language 'klingon'" in err and "\n" not in err
    assert not (out / "wavs").exists()


def test_judge_scores_the_corpus(corpus, capsys):
    assert main(["judge", "--metadata", str(corpus / "metadata.csv")]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("WER ") and "grammar grid" in line
    assert float(line.split()[1]) < 0.3
    assert main(["judge", "--metadata", str(corpus / "metadata.csv"), "--per-speaker",
                 "--split", "test", "--limit", "3"]) == 0  # fmt: skip
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("WER ") and all(": WER " in x for x in lines[1:])
    assert len(lines) > 1
    wav = corpus / "wavs" / "ES-00000.wav"
    text = read_ljspeech_metadata(corpus / "metadata.csv")[0][1]
    assert main(["judge", str(wav), "--text", text]) == 0
    assert "over 1 utterances" in capsys.readouterr().out
    assert main(["judge", str(wav), str(wav), "--text", text]) == 2
    assert "--text was given 1 times" in capsys.readouterr().err


def test_resampled_corpus(tmp_path):
    out = tmp_path / "c16"
    args = ["data", "espeak", "--out", str(out), "--num-utterances", "2",
            "--voices", "en-us", "--kind", "digits", "--sample-rate", "16000"]  # fmt: skip
    with pytest.warns(UserWarning, match="no held-out"):
        assert main(args) == 0
    assert soundfile.info(str(out / "wavs" / "ES-00001.wav")).samplerate == 16000
    assert json.loads((out / "split.json").read_text())["test"]["voices"] == []


def test_bad_voice_is_one_line_exit_2(tmp_path, capsys):
    code = main(["data", "espeak", "--out", str(tmp_path), "--voices", "en-us+nobody"])
    assert code == 2
    assert "voice='en-us+nobody'" in capsys.readouterr().err


def test_judge_general_sentences_uses_their_bigram_model(tmp_path, capsys):
    out = tmp_path / "general"
    args = ["data", "espeak", "--out", str(out), "--num-utterances", "2", "--kind", "general",
            "--voices", "en-us", "en-us+f2", "en-us+m3"]  # fmt: skip
    assert main(args) == 0
    capsys.readouterr()
    assert main(["judge", "--metadata", str(out / "metadata.csv")]) == 0
    line = capsys.readouterr().out.strip()
    assert "grammar sentences" in line and float(line.split()[1]) < 0.3, line


def test_data_speech_takes_other_engines(tmp_path, capsys, monkeypatch):
    """--engine picks the voices of another engine (engine:voice in speakers.csv); a missing
    engine is one line naming what to install, before any file is written."""
    import shutil

    from synesthesia.data.engines import available_engines

    engines = available_engines()
    for engine, voice in (("piper", "joe"), ("flite", "slt")):
        if voice not in engines[engine]:
            continue
        out = tmp_path / engine
        args = ["data", "speech", "--engine", engine, "--voices", voice, "--out", str(out),
                "--num-utterances", "2", "--kind", "digits", "--sample-rate", "16000"]  # fmt: skip
        assert main(args) == 0
        rows = (out / "speakers.csv").read_text().splitlines()
        assert rows[1].split("|")[1] == f"{engine}:{voice}"
        assert sorted(p.name for p in (out / "wavs").iterdir()) == ["ES-00000.wav", "ES-00001.wav"]
    capsys.readouterr()
    monkeypatch.setattr(shutil, "which", lambda name: None)
    out = tmp_path / "none"
    assert main(["data", "espeak", "--engine", "flite", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "apt-get install flite" in err and "\n" not in err
    assert not (out / "wavs").exists()
