"""The "WaveNet vocoder" demo section runs on a built-in eSpeak sentence and fills the report."""

from synesthesia.demos import SECTIONS
from synesthesia.demos.vocoder import SHIPPED, run
from synesthesia.pipelines.pretrained import list_pretrained
from synesthesia.viz.report import Report


def test_section_is_registered():
    assert SECTIONS["vocoder"] == ("WaveNet vocoder", "synesthesia.demos.vocoder:run")


def test_vocoder_section_fills_the_report(tmp_path, one_torch_thread):
    report = Report("test")
    report.section("WaveNet vocoder")
    run(report, workdir=tmp_path, seed=0)
    html = report.render()
    shipped = SHIPPED in list_pretrained()
    assert html.count("<audio") == (3 if shipped else 2) and "data:image/png" in html
    assert "receptive field" in html and "MCD" in html
    if not shipped:
        assert "No trained vocoder ships yet" in html
    names = sorted(p.name for p in (tmp_path / "audio").iterdir())
    assert names[:2] == ["vocoder_griffin-lim.wav", "vocoder_original.wav"]
