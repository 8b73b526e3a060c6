"""SIGKILL a real ``synesthesia lm train`` after its first checkpoint, rerun the same command:
it resumes and exports exactly (torch.equal) the weights of an uninterrupted run."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

STEPS = 100


def _command(text: Path, out: Path) -> list[str]:
    return [
        sys.executable, "-m", "synesthesia", "-q", "lm", "train", "--text", str(text),
        "--out", str(out), "--max-steps", str(STEPS), "--set", "trainer.accelerator=cpu",
        "trainer.progress_bar=false", "data.block_size=32", "data.batch_size=8",
        "trainer.val_check_interval=40", "trainer.limit_val_batches=2",
        "checkpoint.every_n_train_steps=10", "checkpoint.export=last", "optim.warmup_steps=10",
    ]  # fmt: skip


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@pytest.mark.slow
def test_sigkill_then_rerun_exports_the_uninterrupted_weights(tmp_path):
    r = random.Random(0)
    words = ["the cat", "a dog", "sees", "likes", "the ball", "a fish", "the old man"]
    text = tmp_path / "text.txt"
    text.write_text(" ".join(f"{r.choice(words)} {r.choice(words)}." for _ in range(400)))

    full = tmp_path / "full"
    subprocess.run(_command(text, full), env=_env(), check=True, capture_output=True, timeout=300)

    killed = tmp_path / "killed"
    last = killed / "checkpoints" / "last.ckpt"
    process = subprocess.Popen(
        _command(text, killed), env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 300
        while not last.is_file() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert not (killed / "model").exists()
    step = torch.load(last, map_location="cpu", weights_only=True)["global_step"]  # whole
    assert 0 < step < STEPS

    rerun = subprocess.run(
        _command(text, killed), env=_env(), capture_output=True, text=True, timeout=300
    )
    assert rerun.returncode == 0, rerun.stderr
    assert f"trained {STEPS} steps" in rerun.stdout
    assert len(list((killed / "logs" / "csv").iterdir())) == 2  # it resumed: a second launch
    expected = load_file(full / "model" / "model.safetensors")
    resumed = load_file(killed / "model" / "model.safetensors")
    assert expected.keys() == resumed.keys()
    for name in expected:
        assert torch.equal(expected[name], resumed[name]), name
