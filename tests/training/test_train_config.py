"""Training config: defaults < YAML file < key.sub=value overrides, and one clear error each."""

from __future__ import annotations

from pathlib import Path

import pytest

from synesthesia.errors import ParameterError
from synesthesia.training.config import DEFAULTS, apply_overrides, default_config, load_config
from synesthesia.training.lm import LM_DEFAULTS

ROOT = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_valid_and_copied():
    config = load_config()
    assert config == DEFAULTS
    config["optim"]["betas"].append(0.5)
    assert default_config()["optim"]["betas"] == [0.9, 0.95]


def test_shipped_tiny_config_spells_out_the_lm_defaults():
    config = load_config(ROOT / "configs" / "lm" / "tiny.yaml", defaults=LM_DEFAULTS)
    assert config == LM_DEFAULTS


def test_file_then_overrides(tmp_path):
    path = _write(
        tmp_path,
        "seed: 3\noptim: {lr: 3e-4, betas: [0.8, 0.9]}\ntrainer: {devices: 2}\n"
        "model: {name: gpt_tiny, kwargs: {embed_dim: 32}}\ndata: {block_size: 16}\n",
    )
    config = load_config(
        path,
        ["trainer.devices=4", "trainer.strategy=ddp", "model.kwargs.num_layers=1", "optim.lr=1e-3"],
    )
    assert config["seed"] == 3
    assert config["optim"]["lr"] == pytest.approx(1e-3)  # PyYAML reads 1e-3 as text
    assert isinstance(config["optim"]["lr"], float)
    assert config["optim"]["betas"] == [0.8, 0.9]
    assert config["optim"]["weight_decay"] == DEFAULTS["optim"]["weight_decay"]
    assert config["trainer"]["devices"] == 4 and config["trainer"]["strategy"] == "ddp"
    assert config["model"]["kwargs"] == {"embed_dim": 32, "num_layers": 1}
    assert config["data"] == {"block_size": 16}


def test_override_values_are_yaml_scalars():
    config = apply_overrides(
        default_config(),
        ["trainer.max_epochs=null", "trainer.progress_bar=false", "data.name=a b", "data.x="],
    )
    assert config["trainer"]["max_epochs"] is None
    assert config["trainer"]["progress_bar"] is False
    assert config["data"] == {"name": "a b", "x": None}


def test_unknown_top_level_key_in_file(tmp_path):
    with pytest.raises(ParameterError, match="unknown config key 'learning_rate'"):
        load_config(_write(tmp_path, "learning_rate: 0.1\n"))


def test_unknown_nested_key_names_the_path(tmp_path):
    with pytest.raises(ParameterError, match=r"'optim\.lr_max'.*known keys in section 'optim'"):
        load_config(_write(tmp_path, "optim: {lr_max: 0.1}\n"))


def test_unknown_key_in_override():
    with pytest.raises(ParameterError, match="unknown config key 'trainer.max_step'"):
        load_config(None, ["trainer.max_step=10"])


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ("optim.lr=fast", r"optim\.lr='fast' must be a positive number"),
        ("optim.lr=-1", r"optim\.lr=-1 must be a positive number"),
        ("trainer.max_steps=1.5", r"trainer\.max_steps=1\.5 must be a positive integer"),
        ("trainer.progress_bar=yes please", r"trainer\.progress_bar='yes please'"),
        ("optim.betas=[0.9]", r"optim\.betas=\[0\.9\]"),
        ("optim.scheduler=step", r"optim\.scheduler='step' must be one of"),
        ("trainer.devices=0", r"trainer\.devices=0"),
        ("seed=-3", r"seed=-3 must be a non-negative integer"),
        ("trainer.val_check_interval=1.5", r"trainer\.val_check_interval=1\.5"),
        ("checkpoint.export=first", r"checkpoint\.export='first'"),
    ],
)
def test_bad_value_types(override, match):
    with pytest.raises(ParameterError, match=match):
        load_config(None, [override])


def test_section_must_be_a_mapping(tmp_path):
    with pytest.raises(ParameterError, match="config optim=0.1 must be a mapping"):
        load_config(_write(tmp_path, "optim: 0.1\n"))
    with pytest.raises(ParameterError, match="config data=3 must be a mapping"):
        load_config(None, ["data=3"])


def test_training_length_must_be_bounded():
    with pytest.raises(ParameterError, match="trainer.max_steps=None and trainer.max_epochs=None"):
        load_config(None, ["trainer.max_steps=null"])
    config = load_config(None, ["trainer.max_steps=null", "trainer.max_epochs=3"])
    assert config["trainer"]["max_epochs"] == 3


@pytest.mark.parametrize("text", ["optim.lr", "=3", "trainer..devices=2", "optim.lr=[1,"])
def test_malformed_override(text):
    with pytest.raises(ParameterError, match="override"):
        load_config(None, [text])


def test_missing_file(tmp_path):
    with pytest.raises(ParameterError, match=r"config='.*nope\.yaml' does not exist"):
        load_config(tmp_path / "nope.yaml")


def test_invalid_yaml_and_non_mapping(tmp_path):
    with pytest.raises(ParameterError, match="is not valid YAML"):
        load_config(_write(tmp_path, "optim: {lr: [\n"))
    with pytest.raises(ParameterError, match="must hold a mapping, got list"):
        load_config(_write(tmp_path, "- 1\n- 2\n"))


def test_empty_file_means_defaults(tmp_path):
    assert load_config(_write(tmp_path, "# nothing\n")) == DEFAULTS


def test_init_from_is_checked_before_any_work(tmp_path):
    """``model.init_from`` names a folder or a shipped model; a staged recipe refuses it."""
    from synesthesia.training.scene import SCENE_DEFAULTS, SCENE_TASK
    from synesthesia.training.task import train

    assert load_config(defaults=LM_DEFAULTS)["model"]["init_from"] is None
    with pytest.raises(ParameterError, match=r"model.init_from='nowhere' is neither"):
        load_config(overrides=["model.init_from=nowhere"], defaults=LM_DEFAULTS)
    config = load_config(overrides=["model.init_from=tts_espeak"], defaults=SCENE_DEFAULTS)
    with pytest.raises(ParameterError, match="trains in stages"):
        train(SCENE_TASK, config)
