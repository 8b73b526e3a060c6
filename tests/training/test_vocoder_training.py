"""Vocoder training data: hop-aligned crops match the whole-utterance analysis, batches are
reproducible from (seed, index), and folders without split.json hold out their last files."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile
import torch

from synesthesia.config import AudioConfig
from synesthesia.data.vocoder import VocoderDataset
from synesthesia.errors import ParameterError
from synesthesia.training.data import batch_generator
from synesthesia.training.vocoder import CropSampler, VocoderDataModule, _with_mels

CONFIG = AudioConfig(
    sample_rate=8000, n_fft=256, hop_length=64, win_length=256, n_mels=20, f_max=4000.0
)


def _utterances(count: int = 3) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return [0.3 * torch.randn(1000 + 500 * i, generator=generator) for i in range(count)]


def test_crops_are_slices_of_the_whole_utterance_analysis():
    pairs = _with_mels(_utterances(), CONFIG)
    sampler = CropSampler(pairs, hop_length=64, segment_length=512, batch_size=8)
    reference = VocoderDataset(_utterances(), audio_config=CONFIG, segment_length=None)
    for index in range(3):
        whole_wave, whole_mel = reference[index]
        for first in (0, 3):
            wave, mel = sampler.crop(index, first)
            start = first * 64
            torch.testing.assert_close(wave, whole_wave[start : start + 512], rtol=0, atol=0)
            assert mel.shape == (20, 1 + 512 // 64)
            torch.testing.assert_close(mel, whole_mel[:, first : first + 9], rtol=0, atol=1e-6)


def test_batches_depend_only_on_seed_and_index():
    pairs = _with_mels(_utterances(), CONFIG)
    sampler = CropSampler(pairs, hop_length=64, segment_length=512, batch_size=4)
    a, b = sampler(batch_generator(0, 7)), sampler(batch_generator(0, 7))
    c = sampler(batch_generator(0, 8))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["waveform"], c["waveform"])
    assert a["waveform"].shape == (4, 512) and a["mel"].shape == (4, 20, 9)
    assert (a["waveform_lengths"] == 512).all() and (a["mel_lengths"] == 9).all()


def test_folder_without_split_holds_out_last_files(tmp_path):
    for i, wave in enumerate(_utterances(5)):
        soundfile.write(str(tmp_path / f"clip{i}.wav"), wave.numpy().clip(-1, 1), 8000)
    data = VocoderDataModule(
        tmp_path, audio_config=CONFIG, val_fraction=0.2, segment_length=256,
        val_segment_length=512, batch_size=2,
    )  # fmt: skip
    assert len(data.train_pairs) == 4 and len(data.val_pairs) == 1
    assert data.val_pairs[0][0].numel() == 3000  # clip4, the last file
    batches = data.val_batches()
    assert len(batches) == 1 and batches[0]["waveform"].shape == (1, 512)
    with pytest.raises(ParameterError, match="segment_length"):
        VocoderDataModule(tmp_path, audio_config=CONFIG, segment_length=100)
    assert np.isfinite(batches[0]["mel"].numpy()).all()


def test_corpus_with_empty_validation_split_holds_out_last_training_files(tmp_path):
    # `synesthesia data espeak --voices en-us` writes a split.json whose val split is empty
    # (one voice cannot be held out): the last val_fraction of the train split validates
    import json

    (tmp_path / "wavs").mkdir()
    ids = [f"ES-{i:05d}" for i in range(5)]
    for name, wave in zip(ids, _utterances(5)):
        soundfile.write(str(tmp_path / "wavs" / f"{name}.wav"), wave.numpy().clip(-1, 1), 8000)
    (tmp_path / "metadata.csv").write_text("".join(f"{i}|a b|a b\n" for i in ids))
    splits = {"train": {"ids": ids[:4], "voices": ["en-us"]}, "val": {"ids": [], "voices": []},
              "test": {"ids": ids[4:], "voices": []}}  # fmt: skip
    (tmp_path / "split.json").write_text(json.dumps(splits))
    data = VocoderDataModule(
        tmp_path, audio_config=CONFIG, val_fraction=0.25, segment_length=256,
        val_segment_length=512, batch_size=2,
    )  # fmt: skip
    # train split = clips 0-3 (1000, 1500, 2000, 2500 samples); clip 3 validates, 4 is test
    assert [w.numel() for w, _ in data.train_pairs] == [1000, 1500, 2000]
    assert [w.numel() for w, _ in data.val_pairs] == [2500]
