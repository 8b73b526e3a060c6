"""The "Scene recognition by sound" demo section runs on the shipped student."""

from __future__ import annotations

import pytest

import synesthesia.demos.scene as demo
from synesthesia.demos import SECTIONS
from synesthesia.viz.report import Report

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_section_is_registered():
    assert SECTIONS["scene"] == ("Scene recognition by sound", "synesthesia.demos.scene:run")


def test_scene_section_fills_the_report(tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "TEST_PER_CLASS", 4)
    report = Report("test")
    report.section("Scene recognition by sound")
    demo.run(report, workdir=tmp_path, seed=0)
    html = report.render()
    assert html.count("data:image/png") == 1
    assert html.count("<audio") == 2
    for needle in ("synthetic", "distilled student", "random init", "chance"):
        assert needle in html
