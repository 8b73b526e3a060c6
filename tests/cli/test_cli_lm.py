"""``synesthesia lm train`` / ``lm generate`` end to end: learning, reload, DDP, one-line errors."""

from __future__ import annotations

import csv
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from synesthesia.cli.main import main
from synesthesia.models import GPT, PretrainedModel, load_pretrained
from synesthesia.text.tokenizer import load_tokenizer

SUBJECTS = ["the cat", "a dog", "the bird", "my friend", "the old man"]
VERBS = ["sees", "likes", "chases", "finds"]
OBJECTS = ["the ball", "a fish", "the tree", "some bread"]
FAST = [
    "--set",
    "trainer.accelerator=cpu",
    "data.block_size=32",
    "data.batch_size=16",
    "trainer.progress_bar=false",
]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _grammar_text(num_sentences: int = 150, seed: int = 0) -> str:
    """Sentences of a tiny grammar: 'the cat chases a fish. a dog sees the tree. ...'."""
    r = random.Random(seed)
    return " ".join(
        f"{r.choice(SUBJECTS)} {r.choice(VERBS)} {r.choice(OBJECTS)}." for _ in range(num_sentences)
    )


@pytest.fixture
def grammar_file(tmp_path) -> Path:
    path = tmp_path / "grammar.txt"
    path.write_text(_grammar_text(), encoding="utf-8")
    return path


def _val_losses(out_dir: Path) -> list[float]:
    losses = []
    for path in sorted((out_dir / "logs" / "csv").glob("version_*/metrics.csv")):
        with path.open() as handle:
            losses += [float(r["val/loss"]) for r in csv.DictReader(handle) if r.get("val/loss")]
    return losses


@pytest.mark.slow
def test_lm_train_learns_reloads_and_generates(grammar_file, tmp_path, capsys):
    from synesthesia.training.lm import unigram_entropy

    out = tmp_path / "run"
    args = ["lm", "train", "--text", str(grammar_file), "--out", str(out), "--max-steps", "150"]
    assert main([*args, *FAST, "trainer.val_check_interval=50"]) == 0
    printed = capsys.readouterr().out
    assert f"model: {out / 'model'}" in printed

    # learning: the validation cross-entropy ends far below the unigram entropy of the text
    text = grammar_file.read_text(encoding="utf-8")
    tokenizer = load_tokenizer(out / "model")
    entropy = unigram_entropy(tokenizer.encode(text))  # ≈ 2.66 nats / character
    losses = _val_losses(out)
    assert len(losses) == 3 and losses[-1] < losses[0]
    assert losses[-1] < 0.5 * entropy, (losses, entropy)  # reached ≈ 0.5 nats

    # the exported folder = the best checkpoint's weights; reloading gives identical logits
    model = load_pretrained(out / "model")
    assert isinstance(model, GPT) and model.max_seq_len == 32
    assert model.vocab_size == tokenizer.vocab_size
    best = next((out / "checkpoints").glob("best-step=*.ckpt"))
    state = torch.load(best, map_location="cpu", weights_only=True)["state_dict"]
    reference = GPT(**model.get_config())
    reference.load_state_dict({k.removeprefix("model."): v for k, v in state.items()})
    ids = torch.tensor([tokenizer.encode("the cat chases a fish. a dog ")])
    with torch.no_grad():
        assert torch.equal(model(ids), reference.eval()(ids))
        # it learned the grammar: greedy decoding continues with a known verb
        greedy = model.generate(ids, max_new_tokens=6, temperature=0)
    assert tokenizer.decode(greedy[0, ids.shape[1] :].tolist()).split(" ")[0] in VERBS

    # lm generate from the folder, in a process that must not import Lightning
    code = (
        "import sys\n"
        "from synesthesia.cli.main import main\n"
        f"code = main(['lm', 'generate', '--model', {str(out / 'model')!r}, '--prompt', "
        "'the old man ', '--max-new-tokens', '40', '--top-k', '5', '--seed', '1'])\n"
        "assert code == 0, code\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('lightning', 'pytorch_lightning')]\n"
        "assert not bad, bad\n"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr
    sample = res.stdout.rstrip("\n")
    assert sample.startswith("the old man ") and len(sample) == len("the old man ") + 40
    again = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert again.stdout == res.stdout  # --seed makes sampling reproducible


@pytest.mark.slow
def test_lm_train_with_two_ddp_processes(grammar_file, tmp_path):
    """Two CPU processes (gloo) through Lightning's DDP launcher, as a user would run it."""
    out = tmp_path / "ddp"
    cmd = [
        sys.executable, "-m", "synesthesia", "lm", "train", "--text", str(grammar_file),
        "--out", str(out), "--max-steps", "6", *FAST, "trainer.devices=2",
        "trainer.strategy=ddp", "trainer.val_check_interval=3", "trainer.num_sanity_val_steps=0",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.count("model: ") == 1  # only global rank 0 exports and reports
    assert "trained 6 steps" in res.stdout
    last = torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert last["global_step"] == 6
    model = load_pretrained(out / "model")
    tokenizer = load_tokenizer(out / "model")
    ids = torch.tensor([tokenizer.encode("the cat sees")])
    with torch.no_grad():
        logits = model(ids)
    assert logits.shape == (1, ids.shape[1], tokenizer.vocab_size)
    assert torch.isfinite(logits).all()


@pytest.mark.slow
def test_lm_train_again_resumes_from_last_checkpoint(grammar_file, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["lm", "train", "--text", str(grammar_file), "--out", str(out), *FAST]
    args += ["trainer.val_check_interval=4", "trainer.num_sanity_val_steps=0"]
    assert main([*args, "--max-steps", "4"]) == 0
    assert main([*args, "--max-steps", "6"]) == 0  # same command, longer: continues at 4
    printed = capsys.readouterr().out
    assert "trained 4 steps" in printed and "trained 6 steps" in printed
    last = torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert last["global_step"] == 6
    assert last["loops"]["fit_loop"]["epoch_loop.batch_progress"]["total"]["completed"] == 6
    assert sorted(p.name for p in (out / "logs" / "csv").iterdir()) == ["version_0", "version_1"]


class _NotALanguageModel(PretrainedModel):
    architecture = "test_cli_not_a_language_model"

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(2))

    def get_config(self):
        return {}


def test_train_errors_are_one_line(tmp_path, one_line_error, grammar_file):
    out = ["--out", str(tmp_path / "run")]
    line = one_line_error(["lm", "train", "--text", str(tmp_path / "nope.txt"), *out])
    assert "nope.txt' does not exist" in line
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    line = one_line_error(["lm", "train", "--text", str(tmp_path / "empty.txt"), *out])
    assert "is empty" in line
    (tmp_path / "short.txt").write_text("the cat sees a dog.", encoding="utf-8")
    line = one_line_error(["lm", "train", "--text", str(tmp_path / "short.txt"), *out])
    assert "block_size + 1 = 65 tokens" in line
    text = ["lm", "train", "--text", str(grammar_file), *out]
    line = one_line_error([*text, "--set", "optim.lr"])
    assert "override 'optim.lr' must look like key.sub=value" in line
    line = one_line_error([*text, "--set", "optim.learning_rate=0.1"])
    assert "unknown config key 'optim.learning_rate'" in line
    line = one_line_error([*text, "--set", "data.block_sise=8"])
    assert "unknown config key 'data.block_sise'" in line
    line = one_line_error([*text, "--max-steps", "0"])
    assert "trainer.max_steps=0 must be a positive integer" in line
    line = one_line_error([*text, "--set", "trainer.max_steps=null", "trainer.max_epochs=2"])
    assert "trainer.max_steps=None: language models train on an endless stream" in line
    line = one_line_error([*text, "--set", "trainer.val_check_interval=0.5"])
    assert "trainer.val_check_interval=0.5 must be a number of steps" in line
    line = one_line_error([*text, "--config", str(tmp_path / "missing.yaml")])
    assert "missing.yaml' does not exist" in line
    line = one_line_error([*text, "--resume", str(tmp_path / "missing.ckpt")])
    assert "resume=" in line
    assert not (tmp_path / "run").exists()  # nothing started


def test_generate_errors_are_one_line(tmp_path, one_line_error):
    other = tmp_path / "other"
    _NotALanguageModel().save_pretrained(other)
    args = ["--prompt", "hi"]
    line = one_line_error(["lm", "generate", "--model", str(other), *args])
    assert "holds a 'test_cli_not_a_language_model' model, not 'gpt'" in line
    line = one_line_error(["lm", "generate", "--model", str(tmp_path / "nope"), *args])
    assert "does not exist" in line
    gpt = tmp_path / "gpt"
    GPT(vocab_size=5, max_seq_len=8, embed_dim=8, num_layers=1, num_heads=2).save_pretrained(gpt)
    line = one_line_error(["lm", "generate", "--model", str(gpt), *args])
    assert "has no tokenizer.json" in line
    line = one_line_error(["lm", "generate", "--model", str(gpt), "--prompt", ""])
    assert "--prompt=''" in line
