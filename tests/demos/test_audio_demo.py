"""The "Sound representations" demo section runs on generated data and fills the report."""

from synesthesia.demos import SECTIONS
from synesthesia.demos.audio import run, synthesize_sound
from synesthesia.viz.report import Report


def test_section_is_registered():
    assert SECTIONS["audio"] == ("Sound representations", "synesthesia.demos.audio:run")


def test_audio_section_fills_the_report(tmp_path):
    report = Report("test")
    report.section("Sound representations")
    run(report, workdir=tmp_path, seed=0)
    html = report.render()
    assert html.count("<audio") == 3 and "data:image/png" in html
    assert "spectral convergence" in html
    assert sorted(p.name for p in (tmp_path / "audio").iterdir()) == [
        "griffin_lim_32_0.0.wav",
        "griffin_lim_32_0.99.wav",
        "original.wav",
    ]


def test_synthesized_sound_is_deterministic_and_in_range():
    a, b = synthesize_sound(seed=1), synthesize_sound(seed=1)
    assert (a == b).all() and a.abs().max() <= 0.9 + 1e-6 and a.dtype.is_floating_point
