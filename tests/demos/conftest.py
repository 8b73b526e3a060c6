"""Shared fixtures of the demo-section tests."""

import pytest
import torch


@pytest.fixture
def one_torch_thread():
    """Run a demo section with one intra-op thread (spinning threads on a busy 2-core machine
    slow the small models down), restoring the previous count afterwards."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
