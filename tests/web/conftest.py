"""One web app for the tests of tests/web: started once, in this process, on a free loopback
port, with its own temporary folder; closed after the last test."""

from __future__ import annotations

import shutil
import socket
import tempfile
from pathlib import Path

import pytest

pytest.importorskip("gradio", reason="the web extra is not installed: pip install synesthesia[web]")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A running app: ``url``, ``workdir`` (its temporary folder), ``app`` (gr.Blocks)."""

    def __init__(self) -> None:
        import torch

        from synesthesia.web.app import launch

        self.threads = torch.get_num_threads()
        torch.set_num_threads(1)
        self.workdir = Path(tempfile.mkdtemp(prefix="synesthesia_web_test_")).resolve()
        self.port = free_port()
        self.app = launch(host="127.0.0.1", port=self.port, workdir=self.workdir, block=False)
        self.url = f"http://127.0.0.1:{self.port}/"

    def client(self):
        from gradio_client import Client

        return Client(self.url, verbose=False, download_files=False)

    def close(self) -> None:
        import torch

        self.app.close()
        torch.set_num_threads(self.threads)
        shutil.rmtree(self.workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def server():
    running = Server()
    yield running
    running.close()
