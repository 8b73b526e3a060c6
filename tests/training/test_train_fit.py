"""fit(): checkpoints, logs, export, learning, and exact resume — on a test-only regressor.

The regressor has dropout, so an exact resume also needs the RNG states that ModelSystem
stores in each checkpoint, and a RandomBatchStream so the resumed run sees the same batches.
"""

from __future__ import annotations

import copy
import csv
from pathlib import Path

import lightning as L
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from synesthesia.errors import ParameterError
from synesthesia.models import PretrainedModel, list_models, load_pretrained, register_model
from synesthesia.training import (
    ModelSystem,
    RandomBatchStream,
    batches_consumed,
    default_config,
    fit,
    load_config,
)
from synesthesia.training.fit import build_trainer, resume_checkpoint

IN_DIM = 3
TRUE_W = torch.tensor([[1.5, -2.0, 0.5]])


pytestmark = pytest.mark.usefixtures("one_torch_thread")


class _Regressor(PretrainedModel):
    architecture = "test_training_regressor"

    def __init__(self, *, in_dim: int = IN_DIM, hidden_dim: int = 32, dropout: float = 0.1):
        super().__init__()
        self.in_dim, self.hidden_dim, self.dropout = in_dim, hidden_dim, dropout
        self.net = nn.Sequential(
            nn.Linear(in_dim, hidden_dim),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(hidden_dim, 1),
        )

    def get_config(self):
        return {"in_dim": self.in_dim, "hidden_dim": self.hidden_dim, "dropout": self.dropout}

    def forward(self, x):
        return self.net(x)


if "test_training_regressor" not in list_models("test_training_*"):
    register_model("test_training_regressor", _Regressor)


class _RegressionSystem(ModelSystem):
    def compute_loss(self, batch):
        x, y = batch
        loss = nn.functional.mse_loss(self.model(x), y)
        return loss, {"rmse": loss.detach().sqrt()}


def _make_batch(generator: torch.Generator):
    x = torch.randn(8, IN_DIM, generator=generator)
    return x, x @ TRUE_W.T


class _RegressionData(L.LightningDataModule):
    def __init__(self, seed: int = 0):
        super().__init__()
        self.seed = seed

    def train_dataloader(self):
        trainer = self.trainer
        stream = RandomBatchStream(
            _make_batch,
            seed=self.seed,
            start=batches_consumed(trainer),
            rank=trainer.global_rank,
            world_size=trainer.world_size,
        )
        return DataLoader(stream, batch_size=None, generator=torch.Generator())

    def val_dataloader(self):
        x = torch.randn(32, IN_DIM, generator=torch.Generator().manual_seed(123))
        return DataLoader(
            TensorDataset(x, x @ TRUE_W.T), batch_size=16, generator=torch.Generator()
        )


def _config(out_dir: Path, **trainer) -> dict:
    overrides = [
        f"out_dir={out_dir}",
        "model.name=test_training_regressor",
        "optim.lr=3e-2",
        "optim.warmup_steps=3",
        "trainer.accelerator=cpu",
        "trainer.val_check_interval=10",
        "trainer.log_every_n_steps=2",
        "trainer.progress_bar=false",
        *(f"trainer.{k}={v}" for k, v in trainer.items()),
    ]
    return load_config(None, overrides)


def _system(config: dict) -> _RegressionSystem:
    L.seed_everything(config["seed"], verbose=False)
    return _RegressionSystem(
        model_name=config["model"]["name"],
        model_kwargs=config["model"]["kwargs"],
        optim=config["optim"],
    )


class _StopAt(L.Callback):
    """Simulates an interruption: stop after ``step`` optimizer steps."""

    def __init__(self, step: int):
        self.step = step

    def on_train_batch_end(self, trainer, *args):
        if trainer.global_step >= self.step:
            trainer.should_stop = True


def _csv_rows(out_dir: Path) -> list[dict]:
    rows = []
    for path in sorted((out_dir / "logs" / "csv").glob("version_*/metrics.csv")):
        with path.open() as handle:
            rows += list(csv.DictReader(handle))
    return rows


@pytest.mark.slow
def test_fit_checkpoints_logs_learns_and_exports(tmp_path):
    config = _config(tmp_path / "run", max_steps=60)
    system = _system(config)
    result = fit(system, _RegressionData(), config)

    assert result.global_step == 60 and result.is_global_zero
    assert result.last_checkpoint == tmp_path / "run" / "checkpoints" / "last.ckpt"
    assert result.last_checkpoint.is_file()
    assert result.best_checkpoint is not None and result.best_checkpoint.name.startswith("best")
    # checkpoints load without unpickling arbitrary objects
    state = torch.load(result.last_checkpoint, map_location="cpu", weights_only=True)
    assert state["global_step"] == 60 and "synesthesia_rng_states" in state

    rows = _csv_rows(tmp_path / "run")
    val = [float(r["val/loss"]) for r in rows if r.get("val/loss")]
    train = [float(r["train/loss"]) for r in rows if r.get("train/loss")]
    assert len(val) == 6 and len(train) >= 20
    # learning: the validation loss falls by an order of magnitude
    assert val[-1] < 0.1 * val[0], val
    assert result.best_score == pytest.approx(min(val))
    assert list((tmp_path / "run" / "logs" / "tensorboard").rglob("events.out.tfevents.*"))

    # export: the best checkpoint's weights, loadable without Lightning, identical outputs
    model = load_pretrained(result.model_dir)
    assert isinstance(model, _Regressor) and model.hidden_dim == 32
    best = torch.load(result.best_checkpoint, map_location="cpu", weights_only=True)
    reference = _Regressor()
    reference.load_state_dict({k.removeprefix("model."): v for k, v in best["state_dict"].items()})
    x = torch.randn(5, IN_DIM)
    assert torch.equal(model(x), reference.eval()(x))


@pytest.mark.slow
@pytest.mark.parametrize("accumulate", [1, 2])
def test_resume_reaches_the_uninterrupted_state(tmp_path, accumulate):
    total, stop = 25, 9
    full_config = _config(tmp_path / "full", max_steps=total, accumulate_grad_batches=accumulate)
    full = _system(full_config)
    fit(full, _RegressionData(), full_config, export=False)

    part_config = _config(tmp_path / "part", max_steps=total, accumulate_grad_batches=accumulate)
    part = _system(part_config)
    first = fit(part, _RegressionData(), part_config, callbacks=[_StopAt(stop)], export=False)
    assert first.global_step == stop
    assert torch.load(first.last_checkpoint, weights_only=True)["global_step"] == stop
    weights_at_stop = copy.deepcopy(part.model.state_dict())

    # a new process would build a fresh system; resume="auto" picks up last.ckpt
    resumed = _system(part_config)
    second = fit(resumed, _RegressionData(), part_config, export=False)
    assert second.global_step == total
    changed = [
        k
        for k in weights_at_stop
        if not torch.equal(weights_at_stop[k], resumed.model.state_dict()[k])
    ]
    assert changed, "the resumed run did not train"
    full_state, resumed_state = full.model.state_dict(), resumed.model.state_dict()
    for name in full_state:
        assert torch.equal(full_state[name], resumed_state[name]), name
    opt_full = torch.load(tmp_path / "full/checkpoints/last.ckpt", weights_only=True)
    opt_part = torch.load(tmp_path / "part/checkpoints/last.ckpt", weights_only=True)
    assert opt_full["lr_schedulers"] == opt_part["lr_schedulers"]
    for a, b in zip(
        opt_full["optimizer_states"][0]["state"].values(),
        opt_part["optimizer_states"][0]["state"].values(),
    ):
        assert torch.equal(a["exp_avg"], b["exp_avg"]) and torch.equal(
            a["exp_avg_sq"], b["exp_avg_sq"]
        )


class _CrashAt(L.Callback):
    """Simulates a kill: raise after ``step`` optimizer steps (no on_train_end)."""

    def __init__(self, step: int):
        self.step = step

    def on_train_batch_end(self, trainer, *args):
        if trainer.global_step >= self.step:
            raise RuntimeError("killed")


def test_last_checkpoint_follows_every_validation_not_only_the_best(tmp_path):
    # mode=max on a falling loss: only the first validation is ever "best"
    config = _config(tmp_path / "run", max_steps=20, val_check_interval=5)
    config["checkpoint"]["mode"] = "max"
    with pytest.raises(RuntimeError, match="killed"):
        fit(_system(config), _RegressionData(), config, callbacks=[_CrashAt(17)], export=False)
    checkpoints = tmp_path / "run" / "checkpoints"
    assert [p.name for p in checkpoints.glob("best*")] == ["best-step=5.ckpt"]
    assert torch.load(checkpoints / "last.ckpt", weights_only=True)["global_step"] == 15
    assert not list(checkpoints.glob("*.tmp"))


def test_last_checkpoint_follows_every_n_train_steps_between_validations(tmp_path):
    config = _config(tmp_path / "run", max_steps=20, val_check_interval=10)
    config["checkpoint"]["every_n_train_steps"] = 4
    with pytest.raises(RuntimeError, match="killed"):
        fit(_system(config), _RegressionData(), config, callbacks=[_CrashAt(14)], export=False)
    last = tmp_path / "run" / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=True)["global_step"] == 12  # after validation at 10


@pytest.mark.slow
def test_resume_never_starts_fresh(tmp_path):
    config = _config(tmp_path / "run", max_steps=4)
    fit(_system(config), _RegressionData(), config, export=False)
    config["trainer"]["max_steps"] = 6
    config["resume"] = "never"
    result = fit(_system(config), _RegressionData(), config, export=False)
    assert result.global_step == 6  # counted from 0, not from 4


def test_resume_checkpoint_semantics(tmp_path):
    config = default_config()
    config["out_dir"] = str(tmp_path)
    assert resume_checkpoint(config) is None  # auto, nothing there yet
    last = tmp_path / "checkpoints" / "last.ckpt"
    last.parent.mkdir()
    last.write_bytes(b"")
    assert resume_checkpoint(config) == last
    config["resume"] = "never"
    assert resume_checkpoint(config) is None
    config["resume"] = str(last)
    assert resume_checkpoint(config) == last
    config["resume"] = str(tmp_path / "missing.ckpt")
    with pytest.raises(ParameterError, match="resume="):
        resume_checkpoint(config)


def test_random_batch_stream_restarts_and_shards_exactly():
    def take(stream, n):
        it = iter(stream)
        return [next(it) for _ in range(n)]

    whole = take(RandomBatchStream(_make_batch, seed=5), 8)
    tail = take(RandomBatchStream(_make_batch, seed=5, start=3), 5)
    for a, b in zip(whole[3:], tail):
        assert torch.equal(a[0], b[0])
    # two ranks take the even and odd global batches
    rank0 = take(RandomBatchStream(_make_batch, seed=5, rank=0, world_size=2), 4)
    rank1 = take(RandomBatchStream(_make_batch, seed=5, rank=1, world_size=2), 4)
    for j in range(4):
        assert torch.equal(whole[2 * j][0], rank0[j][0])
        assert torch.equal(whole[2 * j + 1][0], rank1[j][0])
    other_seed = take(RandomBatchStream(_make_batch, seed=6), 1)
    assert not torch.equal(other_seed[0][0], whole[0][0])
    with pytest.raises(ParameterError, match="rank"):
        RandomBatchStream(_make_batch, seed=0, rank=2, world_size=2)


@pytest.mark.slow
def test_random_batch_stream_workers_give_the_same_order():
    stream = RandomBatchStream(_make_batch, seed=1, start=2)
    serial = iter(DataLoader(stream, batch_size=None))
    parallel = iter(DataLoader(stream, batch_size=None, num_workers=2))
    for _ in range(6):
        assert torch.equal(next(serial)[0], next(parallel)[0])


@pytest.mark.parametrize(("setting", "value"), [("strategy", "nonsense"), ("devices", "abc")])
def test_settings_lightning_rejects_are_one_line_parameter_errors(tmp_path, setting, value):
    config = _config(tmp_path, **{setting: value})
    with pytest.raises(ParameterError, match="trainer config rejected by Lightning") as info:
        build_trainer(config)
    assert "\n" not in str(info.value) and setting in str(info.value)
