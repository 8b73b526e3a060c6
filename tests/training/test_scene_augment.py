"""``data.augment`` of the scene recipe: the student's training clips augmented per batch.

Null keeps today's batches exactly; an augmentation changes only the waveforms (same rows,
same teacher logits), drawn from the batch's own generator, so batch ``j`` depends only on
``(seed, j)`` (what an exact resume needs); the recipe trains end to end with a list.
"""

from __future__ import annotations

import json
import math

import lightning as L
import pytest
import torch

from synesthesia.errors import ParameterError
from synesthesia.training.config import load_config
from synesthesia.training.data import RandomBatchStream, batch_generator
from synesthesia.training.scene import SCENE_DEFAULTS, _build_augment, _Sampler, train_scene

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SAMPLE_RATE, T, ROWS, BATCH = 8000, 2000, 24, 8


@pytest.fixture(scope="module")
def tensors() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    t = torch.arange(T) / SAMPLE_RATE
    tone = torch.sin(2 * math.pi * 440 * t)
    return {
        "waveform": 0.1 * torch.randn(ROWS, T, generator=g) + 0.2 * tone,
        "teacher_logits": torch.randn(ROWS, 6, generator=g),
    }


def _batch(tensors, spec, index: int = 0, seed: int = 7) -> dict[str, torch.Tensor]:
    augment = _build_augment(spec, sample_rate=SAMPLE_RATE, seed=1)
    sampler = _Sampler(tensors, batch_size=BATCH, augment=augment)
    return sampler(batch_generator(seed, index))


def test_null_or_empty_augment_gives_todays_batches_bit_for_bit(tensors):
    assert _build_augment(None, sample_rate=SAMPLE_RATE, seed=1) is None
    assert _build_augment([], sample_rate=SAMPLE_RATE, seed=1) is None
    assert SCENE_DEFAULTS["data"]["augment"] is None
    g = batch_generator(7, 3)
    index = torch.randint(0, ROWS, (BATCH,), generator=g)  # what the sampler always did
    for spec in (None, []):
        batch = _batch(tensors, spec, index=3)
        assert set(batch) == {"waveform", "teacher_logits"}  # no lengths: the old call
        assert torch.equal(batch["waveform"], tensors["waveform"][index])
        assert torch.equal(batch["teacher_logits"], tensors["teacher_logits"][index])


def test_augmented_batch_differs_only_by_the_augmentation(tensors):
    clean = _batch(tensors, None)
    never = _batch(tensors, [{"name": "noise", "p": 0.0}])  # drawn but never applied
    assert torch.equal(never["waveform"], clean["waveform"])
    assert torch.equal(never["teacher_logits"], clean["teacher_logits"])
    assert torch.equal(never["waveform_lengths"], torch.full((BATCH,), T))

    noisy = _batch(tensors, [{"name": "noise", "snr_db": 20.0, "kind": "white"}])
    assert torch.equal(noisy["teacher_logits"], clean["teacher_logits"])  # same rows
    residual = noisy["waveform"] - clean["waveform"]
    snr = 10 * torch.log10(clean["waveform"].pow(2).mean(-1) / residual.pow(2).mean(-1))
    torch.testing.assert_close(snr, torch.full((BATCH,), 20.0), atol=1e-3, rtol=0)


def test_same_seed_same_batch_and_a_resumed_stream_sees_the_same_batches(tensors):
    spec = [
        {"name": "noise", "p": 0.5, "snr_db": [5, 30], "kind": ["white", "pink", "babble"]},
        {"name": "reverb", "p": 0.5, "rt60": [0.1, 0.4]},
        {"name": "telephone", "p": 0.3},
        {"name": "speed", "p": 0.5, "factor": [0.9, 1.1]},
    ]
    first, again = _batch(tensors, spec, index=5), _batch(tensors, spec, index=5)
    assert first.keys() == again.keys()
    assert all(torch.equal(first[k], again[k]) for k in first)
    other = _batch(tensors, spec, index=6)
    assert not torch.equal(first["waveform"], other["waveform"])

    sampler = _Sampler(
        tensors, batch_size=BATCH, augment=_build_augment(spec, sample_rate=SAMPLE_RATE, seed=1)
    )
    full = iter(RandomBatchStream(sampler, seed=3))
    batches = [next(full) for _ in range(4)]
    resumed = next(iter(RandomBatchStream(sampler, seed=3, start=2)))  # after 2 batches
    assert all(torch.equal(batches[2][k], resumed[k]) for k in resumed)


def test_speed_keeps_the_clip_length_and_reports_valid_lengths(tensors):
    batch = _batch(tensors, [{"name": "speed", "choices": [0.8, 1.25]}])
    assert batch["waveform"].shape == (BATCH, T)
    lengths = batch["waveform_lengths"]
    assert set(lengths.tolist()) <= {T, math.ceil(T / 1.25)}  # slowed clips are cut to T
    beyond = torch.arange(T) >= lengths[:, None]
    assert not batch["waveform"][beyond].any()  # sped-up clips are zero-padded


def test_bad_augment_settings_are_one_line_errors():
    def run(value, match):
        config = load_config(None, [], defaults=SCENE_DEFAULTS)
        config["data"] = {**config["data"], **value}
        with pytest.raises(ParameterError, match=match):
            train_scene(config)  # all raised before any data is generated

    run({"augment": [{"name": "time_mask", "max_width": 4}]}, r"augment\[0\].*time_mask")
    run({"augment": [{"name": "noise", "snr": 5}]}, r"data\.augment\[0\] \(noise\).*snr")
    run({"augment": {"name": "noise"}}, r"data\.augment=.*must be a list")
    run({"augmnt": []}, r"unknown config key 'data\.augmnt'")


AUGMENT = (
    "[{name: noise, p: 0.5, snr_db: [5, 30], kind: [white, babble]},"
    " {name: reverb, p: 0.5, rt60: [0.1, 0.3]}, {name: speed, p: 0.5, factor: [0.9, 1.1]},"
    " {name: telephone, p: 0.3}]"
)


def _config(tmp_path, name: str, *extra: str) -> dict:
    overrides = [
        "model.name=scene_student_tiny", "data.duration=0.25", "data.teacher_per_class=4",
        "data.unlabeled_per_class=4", "data.probe_per_class=2", "data.test_per_class=2",
        "data.batch_size=8", "data.teacher_steps=2", f"data.cache_dir={tmp_path / 'cache'}",
        "trainer.max_steps=3", "trainer.val_check_interval=3", "trainer.accelerator=cpu",
        "trainer.progress_bar=false", "optim.warmup_steps=1", f"out_dir={tmp_path / name}",
        "trainer.num_sanity_val_steps=0", "checkpoint.export=last", f"data.augment={AUGMENT}",
        *extra,
    ]  # fmt: skip
    return load_config(None, overrides, defaults=SCENE_DEFAULTS)


class _Killed(RuntimeError):
    pass


class _Student(L.Callback):
    """Keep the student's first batch; raise after ``kill_at`` student steps (if given)."""

    def __init__(self, kill_at: int | None = None) -> None:
        self.kill_at, self.batches = kill_at, []

    def on_train_batch_start(self, trainer, module, batch, batch_idx) -> None:
        if str(trainer.default_root_dir).endswith("student") and not self.batches:
            self.batches.append(batch)

    def on_train_batch_end(self, trainer, *args) -> None:
        student = str(trainer.default_root_dir).endswith("student")
        if student and self.kill_at is not None and trainer.global_step >= self.kill_at:
            raise _Killed(f"killed at step {trainer.global_step}")


def test_scene_recipe_trains_with_an_augment_list(tmp_path):
    config = _config(tmp_path, "run")
    assert [entry["name"] for entry in config["data"]["augment"]] == [
        "noise", "reverb", "speed", "telephone"
    ]  # fmt: skip
    watch = _Student()
    result = train_scene(config, callbacks=[watch])
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert math.isfinite(metrics["student_probe_test_accuracy"])
    assert (result.model_dir / "model.safetensors").is_file()
    batch = watch.batches[0]
    assert batch["waveform"].shape == (8, 2000) and batch["waveform_lengths"].shape == (8,)
    assert batch["waveform"].abs().max() <= 1.0


def test_an_augmented_scene_run_killed_and_rerun_ends_with_the_same_weights(tmp_path):
    from safetensors.torch import load_file

    steps = ["trainer.max_steps=6", "trainer.val_check_interval=3",
             "checkpoint.every_n_train_steps=2"]  # fmt: skip
    train_scene(_config(tmp_path, "full", *steps))
    with pytest.raises(_Killed):
        train_scene(_config(tmp_path, "crashed", *steps), callbacks=[_Student(kill_at=5)])
    torch.manual_seed(1234)  # whatever the global RNG was, the rerun restores it
    last = tmp_path / "crashed" / "student" / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=True)["global_step"] == 4  # resumes mid-run
    train_scene(_config(tmp_path, "crashed", *steps))
    full, resumed = (load_file(tmp_path / n / "model" / "model.safetensors")
                     for n in ("full", "crashed"))  # fmt: skip
    assert full.keys() == resumed.keys()
    assert all(torch.equal(full[k], resumed[k]) for k in full)
