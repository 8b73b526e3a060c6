"""The LM task's data: text → tokens → random training windows and strided validation windows."""

from __future__ import annotations

import pytest
import torch
from scipy.stats import entropy

from synesthesia.errors import ParameterError
from synesthesia.text.tokenizer import ByteTokenizer, CharTokenizer, load_tokenizer
from synesthesia.training.data import batch_generator
from synesthesia.training.lm import LMSystem, TextDataModule, WindowSampler, unigram_entropy

TEXT = "abcdefghij" * 20  # 200 characters


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def test_split_and_tokenizer(text_file):
    dm = TextDataModule(text_file, block_size=8, batch_size=4, val_fraction=0.1)
    assert isinstance(dm.tokenizer, CharTokenizer) and dm.vocab_size == 11  # 10 + unknown
    assert dm.train_tokens.numel() == 180 and dm.val_tokens.numel() == 20
    tokens = torch.cat([dm.train_tokens, dm.val_tokens])
    assert dm.tokenizer.decode(tokens.tolist()) == TEXT  # the last 10% is validation
    byte = TextDataModule(text_file, tokenizer="byte", block_size=8)
    assert isinstance(byte.tokenizer, ByteTokenizer) and byte.vocab_size == 256


def test_training_windows_are_next_token_pairs(text_file):
    dm = TextDataModule(text_file, block_size=8, batch_size=4)
    x, y = WindowSampler(dm.train_tokens, block_size=8, batch_size=64)(batch_generator(0, 0))
    assert x.shape == y.shape == (64, 8) and x.dtype == torch.long
    assert torch.equal(x[:, 1:], y[:, :-1])
    tokens = dm.train_tokens.tolist()
    for row_x, row_y in zip(x.tolist(), y.tolist()):
        start = next(s for s in range(len(tokens) - 8) if tokens[s : s + 8] == row_x)
        assert tokens[start + 1 : start + 9] == row_y  # y never runs past the train split
    loader = dm.train_dataloader()  # without a trainer: batch 0 of the stream
    bx, by = next(iter(loader))
    assert bx.shape == (4, 8) and torch.equal(bx[:, 1:], by[:, :-1])


def test_validation_windows_are_fixed_and_strided(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("".join(chr(ord("a") + i % 26) for i in range(400)), encoding="utf-8")
    dm = TextDataModule(path, block_size=5, batch_size=3, val_fraction=0.1, val_stride=7)
    x, y = dm.val_windows()
    val = dm.val_tokens  # 40 tokens; starts 0, 7, ..., 28 (s + 6 <= 40)
    assert x.shape == (5, 5)
    for i, s in enumerate(range(0, 34, 7)):
        assert torch.equal(x[i], val[s : s + 5]) and torch.equal(y[i], val[s + 1 : s + 6])
    batches = list(dm.val_dataloader())
    assert [b[0].shape[0] for b in batches] == [3, 2]
    assert torch.equal(torch.cat([b[0] for b in batches]), x)


def test_export_writes_the_tokenizer(text_file, tmp_path):
    dm = TextDataModule(text_file, block_size=8)
    dm.export(tmp_path / "model")
    assert load_tokenizer(tmp_path / "model") == dm.tokenizer


def test_unigram_entropy_matches_scipy():
    ids = torch.tensor([0, 1, 1, 2, 2, 2, 5, 5])
    counts = torch.bincount(ids).double().numpy()
    assert unigram_entropy(ids) == pytest.approx(entropy(counts[counts > 0]), rel=1e-12)
    with pytest.raises(ParameterError, match="ids"):
        unigram_entropy([])


def test_lm_loss_is_token_cross_entropy(text_file):
    torch.manual_seed(0)
    system = LMSystem(model_name="gpt_tiny", model_kwargs={"vocab_size": 11, "max_seq_len": 8})
    x = torch.randint(0, 11, (2, 8))
    y = torch.randint(0, 11, (2, 8))
    loss, metrics = system.compute_loss((x, y))
    logits = system.model(x).double()
    expected = -logits.log_softmax(-1).gather(-1, y[..., None]).mean()
    assert float(loss) == pytest.approx(float(expected), rel=1e-5)
    assert float(metrics["bits_per_token"]) == pytest.approx(
        float(expected) / 0.6931471805599453, rel=1e-5
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"tokenizer": "word"}, "data.tokenizer='word'"),
        ({"block_size": 0}, "data.block_size=0"),
        ({"batch_size": 2.5}, "data.batch_size=2.5"),
        ({"val_fraction": 1.0}, "data.val_fraction=1.0"),
        ({"block_size": 30}, r"block_size \+ 1 = 31 tokens"),
    ],
)
def test_bad_arguments(text_file, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        TextDataModule(text_file, **kwargs)


def test_missing_and_empty_text(tmp_path):
    with pytest.raises(ParameterError, match=r"text='.*nope\.txt' does not exist"):
        TextDataModule(tmp_path / "nope.txt")
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    with pytest.raises(ParameterError, match="is empty"):
        TextDataModule(tmp_path / "empty.txt")
    (tmp_path / "latin1.txt").write_bytes("café".encode("latin-1") * 50)
    with pytest.raises(ParameterError, match="is not UTF-8"):
        TextDataModule(tmp_path / "latin1.txt")
