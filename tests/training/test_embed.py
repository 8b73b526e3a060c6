"""The joint-embedding recipe end to end on a few voices: loss falls, export reloads."""

from __future__ import annotations

import csv
import json

import pytest
import torch

from synesthesia.errors import ParameterError
from synesthesia.models import load_pretrained
from synesthesia.training.config import apply_overrides
from synesthesia.training.embed import EMBED_DEFAULTS, PairSampler, train_dual_encoder


def _config(tmp_path, **data):
    config = json.loads(json.dumps(EMBED_DEFAULTS))
    config["out_dir"] = str(tmp_path / "run")
    config["model"] = {
        "name": "dual_encoder_tiny",
        "kwargs": {"image_in_channels": 1, "audio_channels": [8, 16], "image_channels": [8, 16]},
    }
    config["data"].update(
        train_voices=["en-us+f1", "en-us+m2", "en"],
        val_voices=["en-us+f4"],
        variations=1,
        n_mels=16,
        num_frames=32,
        batch_size=30,
        cache_dir=str(tmp_path / "cache"),
        **data,
    )
    return apply_overrides(
        config,
        [
            "trainer.max_steps=40",
            "trainer.val_check_interval=40",
            "trainer.log_every_n_steps=1",
            "trainer.progress_bar=false",
            "optim.warmup_steps=5",
        ],
    )


@pytest.mark.slow
@pytest.mark.usefixtures("one_torch_thread")
def test_recipe_trains_lowers_the_loss_and_exports(tmp_path):
    result = train_dual_encoder(_config(tmp_path))  # robust to contention on a shared machine
    assert result.global_step == 40
    with open(next((tmp_path / "run" / "logs" / "csv").glob("version_*/metrics.csv"))) as f:
        losses = [float(r["train/loss"]) for r in csv.DictReader(f) if r.get("train/loss")]
    assert len(losses) >= 30
    first, last = sum(losses[:8]) / 8, sum(losses[-8:]) / 8
    assert last < 0.7 * first, (first, last)
    assert 0.0 <= result.metrics["val/R@1"] <= 1.0
    assert "val/audio_to_image/mAP" in result.metrics
    model = load_pretrained(result.model_dir)
    audio = json.loads((result.model_dir / "audio_config.json").read_text())
    features = json.loads((result.model_dir / "standardization.json").read_text())["audio"]
    assert audio["n_mels"] == 16 and features["num_frames"] == 32 and features["std"] > 0
    z = model.encode_audio(torch.randn(2, 16, 32))
    torch.testing.assert_close(z.norm(dim=1), torch.ones(2))


@pytest.mark.slow
@pytest.mark.usefixtures("one_torch_thread")
def test_robust_recipe_augments_every_batch_and_exports_its_features(tmp_path):
    """Trimming, per-utterance normalisation and waveform + SpecAugment augmentation: the loss
    still falls, two draws of the same step differ only through augmentation, and the
    exported pipeline prepares audio exactly as training validated it."""
    from synesthesia.pipelines.retrieval import AudioImageRetriever
    from synesthesia.training.embed import SpokenDigitsDataModule

    augment = [
        {"name": "speed", "p": 0.5, "factor": [0.9, 1.1]},
        {"name": "noise", "p": 0.5, "snr_db": [10, 30], "kind": ["white", "pink"]},
        {"name": "reverb", "p": 0.3, "rt60": [0.2, 0.5]},
        {"name": "time_mask", "max_width": 3, "num_masks": 1},
    ]
    robust = {"trim_db": 40, "normalize": "utterance", "augment": augment}
    result = train_dual_encoder(_config(tmp_path, **robust))
    with open(next((tmp_path / "run" / "logs" / "csv").glob("version_*/metrics.csv"))) as f:
        losses = [float(r["train/loss"]) for r in csv.DictReader(f) if r.get("train/loss")]
    first, last = sum(losses[:8]) / 8, sum(losses[-8:]) / 8
    assert last < 0.8 * first, (first, last)
    features = json.loads((result.model_dir / "standardization.json").read_text())["audio"]
    assert features["trim_db"] == 40 and features["normalize"] == "utterance"

    config = _config(tmp_path, **robust)["data"]
    for key in ("loss", "mining", "margin", "distance"):
        config.pop(key)
    module = SpokenDigitsDataModule(seed=0, **config)
    sampler_args = (module.train_mel, module.train_lengths, module.train_set.audio_labels,
                    module.train_set.images, module.train_set.image_labels)  # fmt: skip
    plain = PairSampler(*sampler_args, batch_size=8)
    noisy = PairSampler(
        *sampler_args, batch_size=8, waveform=module.train_set.waveform,
        waveform_lengths=module.train_set.waveform_lengths, featurize=module.featurize,
        augment=module.augment,
    )  # fmt: skip
    a = noisy(torch.Generator().manual_seed(5))
    b = noisy(torch.Generator().manual_seed(5))
    assert torch.equal(a["mel"], b["mel"])  # same seed, same batch
    clean = plain(torch.Generator().manual_seed(5))
    assert torch.equal(a["label"], clean["label"]) and not torch.equal(a["mel"], clean["mel"])

    retriever = AudioImageRetriever.from_pretrained(result.model_dir)
    val = module.val_set
    ours, ours_lengths = retriever.log_mel(val.waveform, val.waveform_lengths)
    torch.testing.assert_close(ours, module.val_mel, rtol=0, atol=0)
    assert torch.equal(ours_lengths, module.val_lengths)


def test_augmented_copies_are_rendered_once_and_reproducibly(tmp_path):
    from synesthesia.training.embed import SpokenDigitsDataModule

    augment = [
        {"name": "speed", "p": 0.5, "factor": [0.9, 1.1]},
        {"name": "noise", "snr_db": [10, 30]},
        {"name": "freq_mask", "max_width": 2},
    ]
    config = _config(tmp_path, trim_db=40, normalize="utterance", augment=augment)["data"]
    for key in ("loss", "mining", "margin", "distance"):
        config.pop(key)
    config.update(train_voices=["en-us+f1"], augment_copies=2)
    first = SpokenDigitsDataModule(seed=3, **config)
    again = SpokenDigitsDataModule(seed=3, **config)
    clean = len(first.train_set.waveform)
    assert first.train_mel.shape[0] == 3 * clean == len(first.train_labels)
    assert torch.equal(first.train_labels, first.train_set.audio_labels.repeat(3))
    assert torch.equal(first.train_mel, again.train_mel)  # a resumed run rebuilds the same
    assert not torch.equal(first.train_mel[:clean], first.train_mel[clean : 2 * clean])
    on_waveform, on_mel = first.augment
    assert on_waveform is None and on_mel is not None  # only the masks stay per batch


def test_pair_sampler_pairs_same_digits():
    images = torch.arange(40, dtype=torch.float32).view(40, 1, 1, 1)
    image_labels = torch.arange(40) % 10
    sampler = PairSampler(
        torch.randn(20, 4, 6),
        torch.full((20,), 6),
        torch.arange(20) % 10,
        images,
        image_labels,
        batch_size=16,
    )
    batch = sampler(torch.Generator().manual_seed(0))
    picked = batch["image"].view(-1).long()
    assert torch.equal(image_labels[picked], batch["label"])
    again = sampler(torch.Generator().manual_seed(0))
    assert all(torch.equal(batch[k], again[k]) for k in batch)


def test_config_errors(tmp_path):
    config = _config(tmp_path)
    config["data"]["lr"] = 1.0
    with pytest.raises(ParameterError, match="unknown config key 'data.lr'"):
        train_dual_encoder(config)
    config = _config(tmp_path, loss="arcface")
    with pytest.raises(ParameterError, match="data.loss='arcface'"):
        train_dual_encoder(config)
