"""``synesthesia embed retrieve``: end to end after ``embed train``, and one-line errors."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch
from PIL import Image

from synesthesia.cli.main import main
from synesthesia.data.spoken_digits import make_spoken_digits
from synesthesia.models import create_model
from synesthesia.utils import atomic_write_json

FEATURES = {
    "sample_rate": 16000,
    "n_mels": 16,
    "n_fft": 512,
    "hop_length": 256,
    "num_frames": 32,
    "mean": -5.0,
    "std": 3.0,
    "image_size": [8, 8],
}


def _save_png(path, image):  # image (1, H, W) in [0, 1]
    Image.fromarray((image[0].numpy() * 255).round().astype(np.uint8), mode="L").save(path)


def _gallery(tmp_path, images, labels):
    folder = tmp_path / "gallery"
    folder.mkdir()
    for i, (image, label) in enumerate(zip(images, labels)):
        _save_png(folder / f"{i:02d}_digit{int(label)}.png", image)
    return folder


@pytest.mark.slow
def test_train_export_reload_retrieve(tmp_path, capsys, caplog, one_torch_thread):
    cache = tmp_path / "cache"
    out = tmp_path / "run"
    code = main(
        ["-q", "embed", "train", "--out", str(out), "--resume", "never", "--set",
         "model.name=dual_encoder_tiny", "model.kwargs.n_mels=16",
         "model.kwargs.audio_channels=[8,16]", "model.kwargs.image_channels=[8,16]",
         "data.n_mels=16", "data.train_voices=[en-us,en-us+f3]", "data.val_voices=[en-us+m3]",
         "data.variations=1", "data.batch_size=8", f"data.cache_dir={cache}",
         "trainer.max_steps=3", "trainer.val_check_interval=3", "optim.warmup_steps=1",
         "trainer.progress_bar=false"]
    )  # fmt: skip
    assert code == 0
    model_dir = out / "model"
    assert (model_dir / "audio_config.json").is_file()
    assert (model_dir / "standardization.json").is_file()
    data = make_spoken_digits("test", voices=["en-us+m3"], variations=1, cache_dir=cache)
    gallery = _gallery(tmp_path, data.images[:12], data.image_labels[:12])
    (gallery / "notes.txt").write_text("not an image")
    clip = tmp_path / "query.wav"
    length = int(data.waveform_lengths[0])
    sf.write(clip, data.waveform[0, :length].numpy(), data.sample_rate)
    grid = tmp_path / "grid.png"
    capsys.readouterr()
    args = ["embed", "retrieve", "--audio", str(clip), "--images", str(gallery)]
    code = main([*args, "--model", str(model_dir), "-k", "4", "-o", str(grid)])
    assert code == 0
    printed = capsys.readouterr()
    ranked = [line for line in printed.out.splitlines() if line.strip()[:1].isdigit()]
    assert len(ranked) == 4 and all(line.split()[-1].endswith(".png") for line in ranked)
    scores = [float(line.split()[1]) for line in ranked]
    assert scores == sorted(scores, reverse=True)
    assert "notes.txt" in caplog.text  # skipped with a warning
    with Image.open(grid) as figure:
        assert figure.size[0] > figure.size[1] > 0
    # the reverse direction: an image query over a folder of clips
    clips = tmp_path / "clips"
    clips.mkdir()
    for i in range(3):
        sf.write(clips / f"c{i}.wav", data.waveform[i].numpy(), data.sample_rate)
    query = sorted(gallery.glob("*.png"))[0]
    rev = tmp_path / "rev.png"
    code = main(["embed", "retrieve", "--image", str(query), "--audios", str(clips),
                 "--model", str(model_dir), "-k", "2", "-o", str(rev)])  # fmt: skip
    assert code == 0 and rev.is_file()


@pytest.fixture
def exported(tmp_path):
    torch.manual_seed(0)
    model = create_model("dual_encoder_tiny", n_mels=16, image_in_channels=1).eval()
    model_dir = model.save_pretrained(tmp_path / "model")
    atomic_write_json(model_dir / "audio_features.json", FEATURES)
    return model_dir


def _clip(path, seconds, rate=16000):
    sf.write(path, np.random.default_rng(0).normal(0, 0.1, int(seconds * rate)), rate)
    return path


def test_retrieve_ranks_a_gallery(tmp_path, capsys, caplog, exported):
    g = torch.Generator().manual_seed(0)
    gallery = _gallery(tmp_path, torch.rand(6, 1, 8, 8, generator=g), range(6))
    clip = _clip(tmp_path / "q.wav", 0.5)
    code = main(["embed", "retrieve", "--audio", str(clip), "--images", str(gallery),
                 "--model", str(exported), "-k", "10"])  # fmt: skip
    assert code == 0
    out = capsys.readouterr()
    assert len([line for line in out.out.splitlines() if line.endswith(".png")]) == 6
    assert "-k=10" in caplog.text


def test_retrieve_errors(tmp_path, one_line_error, exported):
    images = _gallery(tmp_path, torch.rand(2, 1, 8, 8), [0, 1])
    clip = _clip(tmp_path / "q.wav", 0.5)
    base = ["embed", "retrieve", "--model", str(exported)]
    short = _clip(tmp_path / "short.wav", 0.01)
    err = one_line_error([*base, "--audio", str(short), "--images", str(images)], prefix=None)
    assert "too short" in err and "short.wav" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "is empty" in one_line_error(
        [*base, "--audio", str(clip), "--images", str(empty)], prefix=None
    )
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "a.txt").write_text("x")
    assert "is empty" in one_line_error(
        [*base, "--audio", str(clip), "--images", str(texts)], prefix=None
    )
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "fake.png").write_bytes(b"not a png")
    err = one_line_error([*base, "--audio", str(clip), "--images", str(broken)], prefix=None)
    assert "no readable image" in err
    err = one_line_error([*base, "--audio", str(clip), "--audios", str(images)], prefix=None)
    assert "--images" in err
    err = one_line_error(
        [*base, "--image", str(images / "00_digit0.png"), "--images", str(images)], prefix=None
    )
    assert "--audios" in err
    assert "-k=0" in one_line_error(
        [*base, "--audio", str(clip), "--images", str(images), "-k", "0"], prefix=None
    )
    missing = tmp_path / "missing"
    assert "missing" in one_line_error(
        [*base, "--audio", str(clip), "--images", str(missing)], prefix=None
    )
    bare = create_model("dual_encoder_tiny").save_pretrained(tmp_path / "bare")
    err = one_line_error(["embed", "retrieve", "--model", str(bare), "--audio", str(clip),
                          "--images", str(images)], prefix=None)  # fmt: skip
    assert "audio_features.json" in err


def test_shipped_model_finds_the_spoken_digit(tmp_path, capsys):
    """Default model + shipped example: a held-out voice saying "seven" → seven.png first."""
    from synesthesia.pipelines.pretrained import asset_path

    query = asset_path("embed_digits/query_seven.wav")
    grid = tmp_path / "grid.png"
    args = ["embed", "retrieve", "--audio", str(query), "--images", str(query.parent / "gallery")]
    assert main([*args, "-k", "3", "-o", str(grid)]) == 0
    ranked = [line.split() for line in capsys.readouterr().out.splitlines() if line[:3].strip()]
    ranked = [line for line in ranked if line[0].isdigit()]
    assert [line[2] for line in ranked][0] == "seven.png" and len(ranked) == 3
    assert grid.is_file()
