import json

import pytest
import torch
from torch import nn

from synesthesia.config import AudioConfig
from synesthesia.errors import CheckpointError, ParameterError
from synesthesia.models import PretrainedModel, load_pretrained
from synesthesia.models.base import verify_checksums, write_checksums


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
        "checksums.json",
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
    with pytest.raises(CheckpointError, match="model.safetensors .* is corrupt"):
        _Tied.from_pretrained(tmp_path / "m")
    write_checksums(tmp_path / "m")  # digests of the garbage: safetensors itself must refuse it
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
    write_checksums(tmp_path / "m")  # a deliberate edit, re-sealed: the shapes must be checked
    with pytest.raises(CheckpointError, match="size mismatch for embed.weight"):
        _Tied.from_pretrained(tmp_path / "m")


def _flip_middle_of_the_data(path):
    """Invert 64 bytes in the middle of the tensor data; the JSON header stays intact."""
    data = bytearray(path.read_bytes())
    header = 8 + int.from_bytes(data[:8], "little")
    middle = header + (len(data) - header) // 2
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    path.write_bytes(bytes(data))


def test_save_pretrained_writes_a_digest_of_every_file(tmp_path):
    directory = tmp_path / "m"
    directory.mkdir()
    (directory / "vocab.json").write_text('["a", "b"]')
    (directory / "README.md").write_text("how it was made")
    _Tied(vocab_size=64, dim=32).save_pretrained(directory)
    manifest = json.loads((directory / "checksums.json").read_text())
    assert manifest["algorithm"] == "sha256"
    assert sorted(manifest["files"]) == ["config.json", "model.safetensors", "vocab.json"]
    assert verify_checksums(directory) is True
    # a save over an existing folder refreshes the digests of the new weights
    _Tied(vocab_size=64, dim=32).save_pretrained(directory)
    _Tied.from_pretrained(directory)


def test_weights_damaged_behind_an_intact_header_are_a_checkpoint_error(tmp_path):
    _Tied(vocab_size=64, dim=32).save_pretrained(tmp_path / "m")
    _flip_middle_of_the_data(tmp_path / "m" / "model.safetensors")
    with pytest.raises(CheckpointError, match=r"model\.safetensors in model directory=.* corrupt"):
        load_pretrained(tmp_path / "m")


def test_a_tampered_extra_file_or_a_missing_listed_file_is_a_checkpoint_error(tmp_path):
    directory = tmp_path / "m"
    _Tied().save_pretrained(directory)
    (directory / "vocab.json").write_text('["a", "b"]')
    write_checksums(directory)  # what an export does after adding its files
    _Tied.from_pretrained(directory)
    (directory / "vocab.json").write_text('["a", "c"]')
    with pytest.raises(CheckpointError, match=r"vocab\.json in model directory=.* corrupt"):
        _Tied.from_pretrained(directory)
    (directory / "vocab.json").unlink()
    with pytest.raises(CheckpointError, match="has no vocab.json, which checksums.json lists"):
        _Tied.from_pretrained(directory)
    (directory / "checksums.json").write_text('{"files": []}')
    with pytest.raises(CheckpointError, match="checksums.json"):
        _Tied.from_pretrained(directory)


def test_a_folder_without_digests_loads_and_warns_once(tmp_path):
    directory = tmp_path / "old"
    _Tied().save_pretrained(directory)
    (directory / "checksums.json").unlink()
    with pytest.warns(UserWarning, match="has no checksums.json") as record:
        _Tied.from_pretrained(directory)
        _Tied.from_pretrained(directory)
    assert len([w for w in record if "checksums.json" in str(w.message)]) == 1
    write_checksums(directory)
    assert verify_checksums(directory) is True
