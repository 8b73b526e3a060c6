"""The "Image captioning with visual attention" demo section trains, decodes, fills the report."""

from __future__ import annotations

import pytest
import torch

import synesthesia.demos.captioning as demo
from synesthesia.demos import SECTIONS
from synesthesia.viz.report import Report


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """One intra-op thread: on a busy shared CPU, spinning OpenMP threads slow tiny models ~50x."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def test_section_is_registered():
    assert SECTIONS["captioning"] == (
        "Image captioning with visual attention",
        "synesthesia.demos.captioning:run",
    )


def test_captioning_section_fills_the_report(tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "TRAIN_STEPS", 6)
    monkeypatch.setattr(demo, "BATCH_SIZE", 8)
    monkeypatch.setattr(demo, "NUM_TEST", 20)
    report = Report("test")
    report.section("Image captioning with visual attention")
    demo.run(report, workdir=tmp_path, seed=0)
    html = report.render()
    assert html.count("data:image/png") == 2
    for needle in ("BLEU-4", "CIDEr-D", "attention pointing", "exact caption", "6 steps of 8"):
        assert needle in html
