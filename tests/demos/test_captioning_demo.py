"""The "Image captioning with visual attention" section: the shipped model, no training."""

from __future__ import annotations

import pytest

import synesthesia.demos.captioning as demo
from synesthesia.demos import SECTIONS
from synesthesia.viz.report import Report

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_section_is_registered():
    assert SECTIONS["captioning"] == (
        "Image captioning with visual attention",
        "synesthesia.demos.captioning:run",
    )


def test_captioning_section_uses_the_shipped_models(tmp_path, monkeypatch):
    import synesthesia.models.show_attend_tell as sat
    import synesthesia.models.transformer_captioner as tc

    def no_training(*args, **kwargs):
        raise AssertionError("the demo section must not train")

    monkeypatch.setattr(sat.ShowAttendTell, "loss", no_training)
    monkeypatch.setattr(tc.TransformerCaptioner, "loss", no_training)
    monkeypatch.setattr(demo, "NUM_TEST", 20)
    report = Report("test")
    report.section("Image captioning with visual attention")
    demo.run(report, workdir=tmp_path, seed=0)
    html = report.render()
    # two strips, each captioned by both models with both overlays, and the packaged example
    assert html.count("data:image/png") == 2 * demo.NUM_PANELS + 1
    for needle in ("BLEU-4", "CIDEr-D", "attention pointing", "exact caption", "caption_digits"):
        assert needle in html
    assert "caption_digits_transformer" in html and "The same strip captioned by the" in html
    assert "seven six three" in html  # the packaged example, captioned correctly
