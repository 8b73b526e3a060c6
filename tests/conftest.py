"""Shared test fixtures."""

import pytest
import torch


@pytest.fixture
def one_torch_thread():
    """One intra-op thread for the test: on a busy 2-core CPU, spinning OpenMP threads make
    tiny models many times slower. Use with ``pytestmark = pytest.mark.usefixtures(...)``."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
