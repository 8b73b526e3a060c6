"""``synesthesia caption train`` with the Transformer captioner (one ``model.name`` line picks
the architecture): trains a few steps, exports, reloads, captions with attention figures and
evaluates with per-head pointing."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from synesthesia.cli.main import main
from synesthesia.data.digit_strips import make_digit_strips
from synesthesia.models import TransformerCaptioner, load_pretrained
from synesthesia.pipelines import ImageCaptioner
from synesthesia.text.vocab import Vocabulary

pytestmark = pytest.mark.usefixtures("one_torch_thread")

FAST = [
    "--set",
    "model.name=transformer_captioner_tiny",
    "trainer.accelerator=cpu",
    "trainer.progress_bar=false",
    "trainer.val_check_interval=15",
    "trainer.limit_val_batches=1",
    "trainer.num_sanity_val_steps=0",
    "data.batch_size=8",
    "data.num_val=8",
]


@pytest.mark.slow
def test_caption_train_transformer_exports_reloads_predicts_and_evaluates(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["-q", "caption", "train", "--out", str(out), "--max-steps", "15", *FAST])
    assert code == 0
    assert "trained 15 steps" in capsys.readouterr().out
    model_dir = out / "model"
    model = load_pretrained(model_dir)
    assert isinstance(model, TransformerCaptioner)
    assert len(Vocabulary.load(model_dir / "vocab.json")) == model.vocab_size == 14
    captioner = ImageCaptioner.from_pretrained(model_dir)

    strips = make_digit_strips(2, split="test", seed=1)
    paths = []
    for i in range(2):
        array = (strips.images[i].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        paths.append(tmp_path / f"strip{i}.png")
        Image.fromarray(array).save(paths[-1])
    figures = tmp_path / "figures"
    args = ["caption", "predict", *map(str, paths), "--model", str(model_dir)]
    code = main([*args, "--attention-out", str(figures), "--beam-size", "2", "--max-length", "5"])
    assert code == 0
    lines = capsys.readouterr().out.splitlines()  # an empty caption keeps its tab
    expected = captioner(paths, beam_size=2, max_length=5)
    assert lines == [f"{p}\t{r.caption}" for p, r in zip(paths, expected)]
    assert sorted(p.name for p in figures.iterdir()) == [
        "strip0.attention.png",
        "strip1.attention.png",
    ]
    code = main(["caption", "evaluate", "--model", str(model_dir), "--num-strips", "8"])
    assert code == 0
    printed = dict(line.split("\t", 1) for line in capsys.readouterr().out.splitlines())
    assert set(printed) >= {"BLEU-4", "CIDEr-D", "exact", "pointing", "pointing per head"}
    assert len(printed["pointing per head"].split("\t")) == model.num_heads
