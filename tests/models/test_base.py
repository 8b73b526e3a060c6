import json

import pytest
import torch
from torch import nn

from synesthesia.config import AudioConfig
from synesthesia.errors import CheckpointError, ParameterError
from synesthesia.models import PretrainedModel, load_pretrained


class _Tied(PretrainedModel):
    architecture = "test_tied"

    def __init__(
        self, *, vocab_size: int = 7, dim: int = 4, audio_config: AudioConfig | None = None
    ):
        super().__init__()
        self.vocab_size, self.dim = vocab_size, dim
        self.audio_config = audio_config or AudioConfig()
        self.embed = nn.Embedding(vocab_size, dim)
        self.head = nn.Linear(dim, vocab_size, bias=False)
        self.head.weight = self.embed.weight  # weight tying

    def get_config(self):
        return {"vocab_size": self.vocab_size, "dim": self.dim, "audio_config": self.audio_config}

    def forward(self, x):
        return self.head(self.embed(x))


class _Other(PretrainedModel):
    architecture = "test_other"

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))

    def get_config(self):
        return {}


def test_save_and_load_round_trip_with_tied_weights(tmp_path):
    torch.manual_seed(0)
    model = _Tied(audio_config=AudioConfig(n_mels=64))
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "vocab.json").write_text("[]")
    model.save_pretrained(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [
        "config.json",
        "model.safetensors",
        "vocab.json",
    ]
    assert json.loads((tmp_path / "m" / "config.json").read_text())["architecture"] == "test_tied"
    loaded = _Tied.from_pretrained(tmp_path / "m")
    assert loaded.audio_config == AudioConfig(n_mels=64)
    assert loaded.head.weight.data_ptr() == loaded.embed.weight.data_ptr()
    x = torch.tensor([[1, 2, 3]])
    torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=0)
    assert isinstance(load_pretrained(tmp_path / "m"), _Tied)


def test_half_precision_storage_round_trip(tmp_path):
    torch.manual_seed(0)
    model = _Tied(vocab_size=50, dim=32)
    model.save_pretrained(tmp_path / "full")
    model.save_pretrained(tmp_path / "half", dtype=torch.float16)
    full = (tmp_path / "full" / "model.safetensors").stat().st_size
    half = (tmp_path / "half" / "model.safetensors").stat().st_size
    assert half < 0.6 * full
    loaded = _Tied.from_pretrained(tmp_path / "half")
    assert loaded.embed.weight.dtype == torch.float32
    assert loaded.head.weight.data_ptr() == loaded.embed.weight.data_ptr()  # still tied
    expected = model.embed.weight.detach().to(torch.float16).float()
    torch.testing.assert_close(loaded.embed.weight.detach(), expected, rtol=0, atol=0)
    with pytest.raises(ParameterError, match="dtype"):
        model.save_pretrained(tmp_path / "bad", dtype=torch.int8)


def test_loading_another_architecture_is_a_clear_error(tmp_path):
    _Other().save_pretrained(tmp_path / "o")
    with pytest.raises(CheckpointError, match="holds a 'test_other' model, not 'test_tied'"):
        _Tied.from_pretrained(tmp_path / "o")


def test_missing_or_corrupt_files(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        _Tied.from_pretrained(tmp_path / "none")
    _Tied().save_pretrained(tmp_path / "m")
    (tmp_path / "m" / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="cannot read weights"):
        _Tied.from_pretrained(tmp_path / "m")
    (tmp_path / "m" / "config.json").unlink()
    with pytest.raises(CheckpointError, match="no config.json"):
        _Tied.from_pretrained(tmp_path / "m")


def test_weights_of_wrong_shape(tmp_path):
    _Tied(vocab_size=7).save_pretrained(tmp_path / "m")
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    cfg["config"]["vocab_size"] = 9
    (tmp_path / "m" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError):
        _Tied.from_pretrained(tmp_path / "m")
