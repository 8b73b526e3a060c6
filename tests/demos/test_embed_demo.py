"""The "Joint audio–image embeddings" demo section trains, evaluates, fills the report."""

from __future__ import annotations

import pytest

import synesthesia.demos.embed as demo
from synesthesia.demos import SECTIONS
from synesthesia.viz.report import Report

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_section_is_registered():
    assert SECTIONS["embed"] == ("Joint audio–image embeddings", "synesthesia.demos.embed:run")


def test_embed_section_fills_the_report(tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "TRAIN_STEPS", 4)
    monkeypatch.setattr(demo, "BATCH_SIZE", 8)
    monkeypatch.setattr(demo, "TRAIN_VOICES", ("en-us+f1", "en-us+m2"))
    monkeypatch.setattr(demo, "TEST_VOICES", ("en-us+f4",))
    report = Report("test")
    report.section("Joint audio–image embeddings")
    demo.run(report, workdir=tmp_path, seed=0)
    html = report.render()
    assert html.count("data:image/png") == 1
    assert html.count("<audio") == 2
    for needle in ("audio to image", "image to audio", "R@1", "mAP", "4 steps"):
        assert needle in html
    assert list((tmp_path / "spoken_digits").glob("*.npz"))
