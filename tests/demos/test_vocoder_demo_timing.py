"""The vocoder demo times the untrained WaveNet after a warm-up call: the first call compiles
the numba kernel (seconds), which is not generation speed."""

from __future__ import annotations

import types

import pytest

import synesthesia.demos.vocoder as demo
from synesthesia.pipelines.pretrained import list_pretrained
from synesthesia.viz.report import Report

SPEED = 4.0  # the fake network's warm generation speed, x real time
COMPILE_SECONDS = 1000.0  # what the first (cold) call costs on top


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now


class _FakeWaveNet:
    """The facts the demo prints, and a generate() that advances the clock like numba would."""

    num_layers = 10
    receptive_field = 2047
    num_parameters = 100_000

    def __init__(self, clock: _Clock, hop_length: int, sample_rate: int) -> None:
        self.clock, self.hop_length, self.sample_rate = clock, hop_length, sample_rate
        self.calls: list[int] = []

    def macs_per_sample(self) -> int:
        return 50_000

    def eval(self):
        return self

    def generate(self, mel, **kwargs):
        seconds = mel.shape[-1] * self.hop_length / self.sample_rate / SPEED
        self.clock.now += seconds + (COMPILE_SECONDS if not self.calls else 0.0)
        self.calls.append(mel.shape[-1])
        return None


@pytest.mark.skipif(demo.SHIPPED in list_pretrained(), reason="times the untrained network only")
def test_untrained_wavenet_speed_excludes_the_first_call(tmp_path, monkeypatch, one_torch_thread):
    clock = _Clock()
    fakes = []

    def create_model(name, *, audio_config, **kwargs):
        fakes.append(_FakeWaveNet(clock, audio_config.hop_length, audio_config.sample_rate))
        return fakes[-1]

    monkeypatch.setattr("synesthesia.models.create_model", create_model)
    monkeypatch.setattr(demo, "time", types.SimpleNamespace(perf_counter=clock.perf_counter))
    report = Report("test")
    demo.run(report, workdir=tmp_path, seed=0)
    html = report.render()
    (fake,) = fakes
    assert len(fake.calls) >= 2, "no warm-up call before the timed one"
    assert f"generates {SPEED:.2f}x real time" in html
