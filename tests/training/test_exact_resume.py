"""Kill a run, rerun it, get the same weights: every task's train entry point, and atomic .ckpt.

Each task trains a tiny model twice in this process: once straight through, once crashed
after ``CRASH_AT`` optimizer steps (an exception from a callback: no ``on_train_end``, nothing
saved beyond the checkpoints already written, like a SIGKILL) and then rerun with the same
config, which resumes from ``last.ckpt`` (written every ``EVERY`` steps). The exported
``model.safetensors`` must be bit-identical (``torch.equal``) to the uninterrupted run's.
The real SIGKILL of a ``synesthesia lm train`` subprocess is in tests/cli/test_cli_kill_resume.py.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import lightning as L
import pytest
import torch
from safetensors.torch import load_file

from synesthesia.cli.main import main
from synesthesia.training.checkpoint import AtomicCheckpointIO, atomic_torch_save
from synesthesia.training.config import load_config

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TOTAL, EVERY, VAL, CRASH_AT = 8, 3, 4, 7  # kill at 7: resume from the step-6 checkpoint
COMMON = [
    f"trainer.max_steps={TOTAL}",
    f"trainer.val_check_interval={VAL}",
    f"checkpoint.every_n_train_steps={EVERY}",
    "trainer.num_sanity_val_steps=0",
    "trainer.accelerator=cpu",
    "trainer.progress_bar=false",
    "trainer.log_every_n_steps=1",
    "optim.warmup_steps=2",
    "checkpoint.export=last",  # the final weights, not those of the best validation
]


class _Killed(RuntimeError):
    pass


class _KillAt(L.Callback):
    """Raise after ``step`` optimizer steps of the stage whose run folder ends in ``stage``."""

    def __init__(self, step: int, stage: str = "") -> None:
        self.step, self.stage = step, stage

    def on_train_batch_end(self, trainer, *args) -> None:
        if str(trainer.default_root_dir).endswith(self.stage) and trainer.global_step >= self.step:
            raise _Killed(f"killed at step {trainer.global_step}")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("resume_corpus")
    code = main(["data", "espeak", "--out", str(out), "--num-utterances", "12", "--kind", "grid",
                 "--voices", "en-us", "--sample-rate", "16000"])  # fmt: skip
    assert code == 0
    return out


def _lm(tmp: Path, corpus: Path) -> tuple[Callable, dict, list[str]]:
    from synesthesia.training.lm import LM_DEFAULTS, train_lm

    text = tmp / "text.txt"
    r = random.Random(0)
    words = ["the cat", "a dog", "sees", "likes", "the ball", "a fish"]
    text.write_text(" ".join(f"{r.choice(words)} {r.choice(words)}." for _ in range(200)))
    overrides = ["data.block_size=16", "data.batch_size=4", f"data.text_path={text}"]
    return train_lm, LM_DEFAULTS, overrides


def _caption(tmp: Path, corpus: Path):
    from synesthesia.training.caption import CAPTION_DEFAULTS, train_captioner

    return train_captioner, CAPTION_DEFAULTS, ["data.batch_size=4", "data.num_val=8"]


def _caption_karpathy(tmp: Path, corpus: Path):
    """A map-style data set of files: epochs, shuffling, and a resume in the middle of one."""
    import json

    from PIL import Image

    from synesthesia.training.caption import CAPTION_DEFAULTS, train_captioner

    colours = {"red": (220, 20, 20), "green": (20, 200, 20), "blue": (20, 20, 220)}
    images = []
    for i, (name, rgb) in enumerate(list(colours.items()) * 3):
        Image.new("RGB", (24, 16), rgb).save(tmp / f"{i}.png")
        split = "val" if i == 8 else "train"
        sentences = [{"raw": f"A {name} square."}, {"raw": f"Something {name}!"}]
        images.append({"filename": f"{i}.png", "imgid": i, "split": split, "sentences": sentences})
    (tmp / "karpathy.json").write_text(json.dumps({"images": images}))
    overrides = ["data.source=karpathy", f"data.annotations={tmp / 'karpathy.json'}",
                 f"data.image_root={tmp}", "data.batch_size=5", "data.image_size=16",
                 "data.min_count=1"]  # fmt: skip
    return train_captioner, CAPTION_DEFAULTS, overrides


def _embed(tmp: Path, corpus: Path):
    from synesthesia.training.embed import EMBED_DEFAULTS, train_dual_encoder

    overrides = [
        "model.name=dual_encoder_tiny",
        "model.kwargs={image_in_channels: 1, audio_channels: [8], image_channels: [8], n_mels: 16}",
        "data.train_voices=[en-us+f1, en]", "data.val_voices=[en-us+f4]", "data.variations=1",
        "data.n_mels=16", "data.num_frames=16", "data.batch_size=10",
        f"data.cache_dir={tmp / 'cache'}",
    ]  # fmt: skip
    return train_dual_encoder, EMBED_DEFAULTS, overrides


def _scene(tmp: Path, corpus: Path):
    from synesthesia.training.scene import SCENE_DEFAULTS, train_scene

    overrides = [
        "model.name=scene_student_tiny", "data.duration=0.25", "data.teacher_per_class=4",
        "data.unlabeled_per_class=4", "data.probe_per_class=2", "data.test_per_class=2",
        "data.batch_size=8", "data.teacher_steps=4", f"data.cache_dir={tmp / 'cache'}",
    ]  # fmt: skip
    return train_scene, SCENE_DEFAULTS, overrides


def _vocoder(tmp: Path, corpus: Path):
    from synesthesia.training.vocoder import VOCODER_DEFAULTS, train_vocoder

    overrides = [f"data.root={corpus}", "data.segment_length=1024", "data.batch_size=2",
                 "data.val_segment_length=1024", "data.max_val_utterances=2"]  # fmt: skip
    return train_vocoder, VOCODER_DEFAULTS, overrides


def _tts(tmp: Path, corpus: Path):
    from synesthesia.training.tts import TTS_DEFAULTS, train_tts

    overrides = [f"data.root={corpus}", "data.batch_size=2", "data.val_fraction=0.2",
                 "data.max_val_utterances=2", "loss.self_feeding_max=0.5"]  # fmt: skip
    return train_tts, TTS_DEFAULTS, overrides


TASKS = {
    "lm": _lm,
    "caption": _caption,
    "caption_karpathy": _caption_karpathy,
    "embed": _embed,
    "scene": _scene,
    "vocoder": _vocoder,
    "tts": _tts,
}


def _weights(out_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(out_dir / "model" / "model.safetensors")


@pytest.mark.parametrize("task", list(TASKS))
def test_killed_and_rerun_ends_with_the_uninterrupted_weights(task, tmp_path, corpus):
    train, defaults, overrides = TASKS[task](tmp_path, corpus)

    def config(name: str) -> dict:
        return load_config(None, [*COMMON, *overrides, f"out_dir={tmp_path / name}"],
                           defaults=defaults)  # fmt: skip

    train(config("full"))
    stage = "student" if task == "scene" else "crashed"  # scene: kill the second stage
    with pytest.raises(_Killed):
        train(config("crashed"), callbacks=[_KillAt(CRASH_AT, stage)])
    run = tmp_path / "crashed" / ("student" if task == "scene" else "")
    last = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert last["global_step"] == (CRASH_AT // EVERY) * EVERY  # the kill landed after it
    assert not (run / "model").exists()
    torch.manual_seed(1234)  # a new process: whatever the global RNG was, the rerun restores it
    train(config("crashed"))
    full, resumed = _weights(tmp_path / "full"), _weights(tmp_path / "crashed")
    assert full.keys() == resumed.keys()
    different = [k for k in full if not torch.equal(full[k], resumed[k])]
    assert not different, f"{task}: resumed weights differ from the uninterrupted run: {different}"
    stage = "student" if task == "scene" else ""
    full_last, resumed_last = (
        torch.load(tmp_path / name / stage / "checkpoints" / "last.ckpt", weights_only=True)
        for name in ("full", "crashed")
    )
    assert full_last["global_step"] == resumed_last["global_step"] == TOTAL
    assert full_last["lr_schedulers"] == resumed_last["lr_schedulers"]
    for a, b in zip(full_last["optimizer_states"], resumed_last["optimizer_states"]):
        for state_a, state_b in zip(a["state"].values(), b["state"].values()):
            assert all(torch.equal(state_a[k], state_b[k]) for k in state_a), task


def test_a_failed_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "checkpoints" / "last.ckpt"
    io = AtomicCheckpointIO()
    io.save_checkpoint({"global_step": 3, "w": torch.arange(4.0)}, path)
    before = path.read_bytes()

    def half_write(obj, handle, *args, **kwargs):
        handle.write(b"PK\x03\x04 half of a zip")  # the start of a checkpoint, then a crash
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", half_write)
    with pytest.raises(OSError, match="No space left"):
        io.save_checkpoint({"global_step": 6, "w": torch.zeros(4)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert torch.load(path, weights_only=True)["global_step"] == 3
    assert sorted(p.name for p in path.parent.iterdir()) == ["last.ckpt"]  # no temporary left


def test_the_fit_loop_writes_every_checkpoint_atomically(tmp_path, monkeypatch):
    """last.ckpt and best-step=N.ckpt both go through atomic_torch_save (never in place)."""
    from synesthesia.training import checkpoint as checkpoint_module
    from synesthesia.training.lm import LM_DEFAULTS

    written = []

    def spy(obj, path):
        written.append(Path(path).name)
        return atomic_torch_save(obj, path)

    monkeypatch.setattr(checkpoint_module, "atomic_torch_save", spy)
    train, _, overrides = _lm(tmp_path, tmp_path)
    config = load_config(None, [*COMMON, *overrides, f"out_dir={tmp_path / 'run'}",
                                "trainer.max_steps=4"], defaults=LM_DEFAULTS)  # fmt: skip
    train(config)
    assert "last.ckpt" in written and "best-step=4.ckpt" in written
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir()) == [
        "best-step=4.ckpt",
        "last.ckpt",
    ]


def test_stale_temporaries_of_a_killed_write_are_removed(tmp_path):
    from synesthesia.training.lm import LM_DEFAULTS, train_lm

    checkpoints = tmp_path / "run" / "checkpoints"
    checkpoints.mkdir(parents=True)
    stale = checkpoints / ".last.ckpt.abc123.tmp"
    stale.write_bytes(b"PK half")
    _, _, overrides = _lm(tmp_path, tmp_path)
    config = load_config(None, [*COMMON, *overrides, f"out_dir={tmp_path / 'run'}",
                                "trainer.max_steps=2"], defaults=LM_DEFAULTS)  # fmt: skip
    train_lm(config)
    assert not stale.exists()
