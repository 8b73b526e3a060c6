"""The "Speech2Face" demo section runs on the shipped model."""

from __future__ import annotations

import pytest

import synesthesia.demos.speech2face as demo
from synesthesia.demos import SECTIONS
from synesthesia.viz.report import Report

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_section_is_registered():
    assert SECTIONS["speech2face"] == ("Speech2Face", "synesthesia.demos.speech2face:run")


def test_speech2face_section_fills_the_report(tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "NUM_SPEAKERS", 3)
    report = Report("test")
    report.section("Speech2Face")
    demo.run(report, workdir=tmp_path, seed=0)
    html = report.render()
    assert html.count("data:image/png") == 1
    assert html.count("<audio") == 2
    for needle in ("synthetic", "PLANTED", "nearest training voice", "chance", "R@1"):
        assert needle in html
