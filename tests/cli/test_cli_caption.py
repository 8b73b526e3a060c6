"""``synesthesia caption train`` / ``predict`` / ``evaluate`` end to end on digit strips, the
shipped model as the default, and one-line errors."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from synesthesia.cli.main import main
from synesthesia.data.digit_strips import make_digit_strips
from synesthesia.models import ShowAttendTell, load_pretrained
from synesthesia.text.vocab import Vocabulary

#: the true caption of synesthesia/assets/digit_strip_example.png (a held-out test strip)
EXAMPLE_CAPTION = "seven six three"

FAST = [
    "--set",
    "trainer.accelerator=cpu",
    "trainer.progress_bar=false",
    "trainer.val_check_interval=20",
    "trainer.limit_val_batches=2",
    "trainer.num_sanity_val_steps=0",
    "data.batch_size=16",
    "data.num_val=32",
]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _logged(out_dir: Path, key: str) -> list[float]:
    values = []
    for path in sorted((out_dir / "logs" / "csv").glob("version_*/metrics.csv")):
        with path.open() as handle:
            values += [float(r[key]) for r in csv.DictReader(handle) if r.get(key)]
    return values


@pytest.mark.slow
def test_caption_train_learns_exports_predicts_and_evaluates(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["-q", "caption", "train", "--out", str(out), "--max-steps", "60", *FAST])
    assert code == 0
    printed = capsys.readouterr().out
    assert "trained 60 steps" in printed
    train_ce = _logged(out, "train/cross_entropy")
    assert train_ce[-1] < 0.8 * train_ce[0], train_ce
    model_dir = out / "model"
    model = load_pretrained(model_dir)
    assert isinstance(model, ShowAttendTell)
    assert len(Vocabulary.load(model_dir / "vocab.json")) == model.vocab_size == 14

    strips = make_digit_strips(2, split="test", seed=1)
    paths = []
    for i in range(2):
        array = (strips.images[i].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        paths.append(tmp_path / f"strip{i}.png")
        Image.fromarray(array).save(paths[-1])
    figures = tmp_path / "figures"
    code = main(
        [
            "caption",
            "predict",
            *map(str, paths),
            "--model",
            str(model_dir),
            "--attention-out",
            str(figures),
            "--beam-size",
            "2",
        ]
    )
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == [str(p) for p in paths]
    assert sorted(p.name for p in figures.iterdir()) == [
        "strip0.attention.png",
        "strip1.attention.png",
    ]
    code = main(["caption", "evaluate", "--model", str(model_dir), "--num-strips", "20"])
    assert code == 0
    printed = dict(line.split("\t")[:2] for line in capsys.readouterr().out.splitlines())
    assert set(printed) >= {"BLEU-4", "CIDEr-D", "ROUGE-L", "exact", "pointing"}


def test_caption_errors_are_one_line(tmp_path, capsys):
    code = main(["caption", "train", "--data", str(tmp_path / "missing.json")])
    assert code == 2
    assert "--data=" in capsys.readouterr().err
    (tmp_path / "dataset_flickr8k.json").write_text("{}")
    code = main(["caption", "train", "--data", str(tmp_path / "dataset_flickr8k.json")])
    assert code == 2 and "--image-root" in capsys.readouterr().err
    code = main(
        [
            "caption",
            "train",
            "--data",
            str(tmp_path / "dataset_flickr8k.json"),
            "--image-root",
            str(tmp_path),
            "--out",
            str(tmp_path / "run"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "not a Karpathy split" in err and err.count("\n") == 1
    image = tmp_path / "strip.png"
    Image.new("RGB", (128, 32)).save(image)
    code = main(["caption", "predict", str(image), "--model", str(tmp_path / "nothing")])
    err = capsys.readouterr().err
    assert code == 2 and "--model=" in err and "does not exist" in err and err.count("\n") == 1
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("not a picture")
    code = main(["caption", "predict", str(not_an_image)])
    err = capsys.readouterr().err
    assert code == 2 and "not an image file" in err and err.count("\n") == 1
    code = main(["caption", "predict", str(tmp_path / "missing.png")])
    err = capsys.readouterr().err
    assert code == 2 and "IMG=" in err and err.count("\n") == 1
    code = main(["caption", "predict", str(image), "--beam-size", "0"])
    assert code == 2 and "--beam-size=0" in capsys.readouterr().err
    code = main(["caption", "evaluate", "--model", str(tmp_path / "nothing")])
    assert code == 2 and "--model=" in capsys.readouterr().err
    code = main(["caption", "evaluate", "--model", str(tmp_path / "nothing"), "--num-strips", "0"])
    assert code == 2 and "--num-strips=0" in capsys.readouterr().err


@pytest.mark.slow
def test_caption_train_on_a_karpathy_split_file(tmp_path, capsys):
    import json

    colours = {"red": (220, 20, 20), "green": (20, 200, 20), "blue": (20, 20, 220)}
    images = []
    for i, (name, rgb) in enumerate(list(colours.items()) * 2):
        Image.new("RGB", (40, 30), rgb).save(tmp_path / f"{i}.jpg")
        split = "val" if i == 5 else ("restval" if i == 4 else "train")
        sentences = [{"raw": f"A {name} square."}, {"raw": f"Something {name}!"}]
        images.append({"filename": f"{i}.jpg", "imgid": i, "split": split, "sentences": sentences})
    (tmp_path / "dataset_flickr8k.json").write_text(json.dumps({"images": images}))
    out = tmp_path / "run"
    code = main(
        [
            "-q", "caption", "train", "--data", str(tmp_path / "dataset_flickr8k.json"),
            "--image-root", str(tmp_path), "--out", str(out), "--max-steps", "3",
            "--set", "trainer.accelerator=cpu", "trainer.progress_bar=false",
            "trainer.val_check_interval=3", "trainer.num_sanity_val_steps=0",
            "trainer.log_every_n_steps=1",
            "data.batch_size=4", "data.image_size=32", "data.min_count=1",
        ]
    )  # fmt: skip
    assert code == 0 and "trained 3 steps" in capsys.readouterr().out
    vocab = Vocabulary.load(out / "model" / "vocab.json")
    assert {"red", "green", "blue", "square", "something"} <= set(vocab.words)
    assert load_pretrained(out / "model").vocab_size == len(vocab)
    code = main(["caption", "predict", str(tmp_path / "0.jpg"), "--model", str(out / "model")])
    assert code == 0 and capsys.readouterr().out.startswith(str(tmp_path / "0.jpg"))


def test_caption_predict_defaults_to_the_shipped_model(tmp_path, capsys):
    from synesthesia.pipelines.pretrained import asset_path

    example = asset_path("digit_strip_example.png")
    figures = tmp_path / "attention"
    code = main(["caption", "predict", str(example), "--attention-out", str(figures)])
    assert code == 0
    assert capsys.readouterr().out == f"{example}\t{EXAMPLE_CAPTION}\n"
    assert [p.name for p in figures.iterdir()] == ["digit_strip_example.attention.png"]


def test_caption_evaluate_defaults_to_the_shipped_model(capsys):
    code = main(["caption", "evaluate", "--num-strips", "16"])
    assert code == 0
    printed = dict(line.split("\t")[:2] for line in capsys.readouterr().out.splitlines())
    assert set(printed) >= {"BLEU-1", "BLEU-4", "CIDEr-D", "ROUGE-L", "exact", "pointing"}
    assert float(printed["exact"]) >= 0.75  # 16 held-out strips; 500 give the documented score
