"""Shared test fixtures."""

import dataclasses
import functools
import io
import sys

import pytest
import torch
from tqdm.auto import tqdm


@pytest.fixture
def one_torch_thread():
    """One intra-op thread for the test, restored afterwards: on a busy 2-core CPU, spinning
    OpenMP threads make tiny models many times slower (tens of times). The one definition for
    the whole suite: use ``pytestmark = pytest.mark.usefixtures("one_torch_thread")`` for a
    module, ``@pytest.mark.usefixtures("one_torch_thread")`` or an argument for one test."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


class _Terminal(io.StringIO):
    """A stream that says it is a terminal, so tqdm draws on it (it stays quiet otherwise)."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def wavenet_terminal(monkeypatch):
    """Call it inside the test: sys.stderr becomes a terminal-like buffer (returned; read it
    with getvalue()) and WaveNet's progress bar redraws on every update (tqdm otherwise waits
    0.1 s between redraws; test runs are shorter). Patched inside the test because pytest's
    output capture re-installs its own sys.stderr between setup and the test body."""

    def attach() -> io.StringIO:
        stream = _Terminal()
        monkeypatch.setattr(sys, "stderr", stream)
        monkeypatch.setattr(
            "synesthesia.models.wavenet.generation.tqdm", functools.partial(tqdm, mininterval=0)
        )
        return stream

    return attach


def _tensors(output) -> list[torch.Tensor]:
    """Every tensor in a (nested) output: tensor, tuple/list, dict or dataclass."""
    if isinstance(output, torch.Tensor):
        return [output]
    if isinstance(output, (tuple, list)):
        return [t for item in output for t in _tensors(item)]
    if isinstance(output, dict):
        return [t for item in output.values() for t in _tensors(item)]
    if dataclasses.is_dataclass(output) and not isinstance(output, type):
        return [t for f in dataclasses.fields(output) for t in _tensors(getattr(output, f.name))]
    return []


@pytest.fixture
def output_tensors():
    """``output → [tensors]``: every tensor of a model's (nested) output, in order."""
    return _tensors
