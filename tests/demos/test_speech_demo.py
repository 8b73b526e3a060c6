"""The "Text-to-speech" demo section speaks two held-out sentences with the shipped voice."""

from synesthesia.data.espeak_corpus import reference_voice
from synesthesia.demos import SECTIONS
from synesthesia.demos.speech import SHIPPED, run
from synesthesia.pipelines.pretrained import pretrained_path
from synesthesia.viz.report import Report


def test_section_is_registered():
    assert SECTIONS["speech"] == ("Text-to-speech", "synesthesia.demos.speech:run")


def test_speech_section_fills_the_report(tmp_path, one_torch_thread):
    report = Report("test")
    report.section("Text-to-speech")
    run(report, workdir=tmp_path, seed=0)
    html = report.render()
    assert html.count("<audio") == 4 and html.count("data:image/png") == 2
    assert "real-time factor" in html and "judge transcript" in html
    # eSpeak's side speaks with the voice the shipped model was trained on
    speaker = reference_voice(pretrained_path(SHIPPED))
    assert speaker is not None and f"({speaker['voice']}, configs/tts" in html
    names = sorted(p.name for p in (tmp_path / "audio").iterdir())
    assert names == ["speech_general_espeak.wav", "speech_general_tts.wav",
                     "speech_grid_espeak.wav", "speech_grid_tts.wav"]  # fmt: skip
