"""The "Text-to-speech" demo section speaks two held-out sentences with each shipped voice,
beside the teacher each voice learnt from."""

from synesthesia.data.espeak_corpus import reference_voice
from synesthesia.demos import SECTIONS
from synesthesia.demos.speech import VOICES, run, shipped_voices
from synesthesia.pipelines.pretrained import DEFAULT_VOICE, list_pretrained, pretrained_path
from synesthesia.viz.report import Report


def test_section_is_registered():
    assert SECTIONS["speech"] == ("Text-to-speech", "synesthesia.demos.speech:run")


def test_every_shipped_voice_is_played_default_first():
    voices = shipped_voices()
    assert voices[0] == DEFAULT_VOICE and "tts_espeak" in voices
    assert set(voices) == set(VOICES) & set(list_pretrained())


def test_speech_section_fills_the_report(tmp_path, one_torch_thread):
    report = Report("test")
    report.section("Text-to-speech")
    run(report, workdir=tmp_path, seed=0)
    html = report.render()
    voices = shipped_voices()
    # per voice: two sentences, each by the voice and by its teacher; one figure
    assert html.count("<audio") == 4 * len(voices)
    assert html.count("data:image/png") == len(voices)
    assert "real-time factor" in html and "judge transcript" in html
    # the eSpeak voice's teacher speaks with the eSpeak NG voice it was trained on
    speaker = reference_voice(pretrained_path("tts_espeak"))
    assert (
        speaker is not None and f"eSpeak NG {speaker['voice']}, the teacher of tts_espeak" in html
    )
    names = sorted(p.name for p in (tmp_path / "audio").iterdir())
    assert names == sorted(
        f"speech_{voice}_{tag}_{kind}.wav"
        for voice in voices for tag in ("grid", "general") for kind in ("teacher", "tts")
    )  # fmt: skip
