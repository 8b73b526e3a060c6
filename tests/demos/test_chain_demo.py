"""The "chain" demo section: every shipped model in a row on the built-in examples."""

from __future__ import annotations

import pytest

import synesthesia.demos.chain as demo
from synesthesia.demos import SECTIONS
from synesthesia.pipelines import asset_path, list_pretrained
from synesthesia.viz.report import Report

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_section_is_registered():
    assert SECTIONS["chain"][1] == "synesthesia.demos.chain:run"


def test_chain_section_fills_the_report(tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "NUM_HELD_OUT", 0)  # the packaged example only (a 2nd is slow)
    report = Report("test")
    report.section(SECTIONS["chain"][0])
    demo.run(report, workdir=tmp_path, seed=0)
    html = report.render()
    face = demo.FACE_MODEL in list_pretrained()  # a face too, once a Speech2Face model ships
    assert html.count("data:image/png") == 5 + face  # attention, speech, sound, scene, retrieval
    assert html.count("<audio") == 1
    assert "seven six three" in html and "looks unlike the model" in html
    assert (tmp_path / "audio" / "chain_0.wav").is_file()


def test_chain_retrieves_the_digit_of_each_spoken_word():
    chain = demo.Chain.from_pretrained()
    result = chain.run(image=asset_path("digit_strip_example.png"))
    assert result.caption.caption == "seven six three"
    assert [r.names[0] for r in result.words] == ["seven.png", "six.png", "three.png"]
    assert result.scene.is_ood  # the scene model knows ambient scenes, not speech
    with pytest.raises(Exception, match="needs an image, a text or a clip"):
        chain.run()
