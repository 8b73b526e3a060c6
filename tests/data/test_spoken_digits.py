"""Spoken ↔ handwritten digits: held-out voices and scans, caching, pairing, log-mel."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from synesthesia.data.spoken_digits import (
    TEST_VOICES,
    TRAIN_VOICES,
    make_spoken_digits,
)
from synesthesia.errors import ParameterError

VOICES = ("en-us+f2", "en-us+m3")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return cache, make_spoken_digits("train", voices=VOICES, variations=1, cache_dir=cache)


def test_held_out_voices_and_scans_are_disjoint():
    assert not set(TRAIN_VOICES) & set(TEST_VOICES)
    train = make_spoken_digits("train", voices=VOICES[:1], variations=1, use_cache=False)
    test = make_spoken_digits("test", voices=VOICES[1:], variations=1, use_cache=False)
    assert len(train.images) + len(test.images) == 1797
    assert len(test.images) == round(0.2 * 1797)
    flat_train = {tuple(x.flatten().tolist()) for x in train.images}
    # the split is by scan: no test scan is a training scan (exact duplicates aside)
    shared = sum(tuple(x.flatten().tolist()) in flat_train for x in test.images)
    assert shared <= 2
    assert set(test.image_labels.tolist()) == set(range(10))


def test_clips_shapes_labels_and_audibility(small):
    _, data = small
    assert data.waveform.shape[0] == 20 and data.sample_rate == 16000
    assert data.audio_labels.tolist() == list(range(10)) * 2
    assert data.voices == ["en-us+f2"] * 10 + ["en-us+m3"] * 10
    assert data.images.shape[1:] == (1, 8, 8) and 0 <= data.images.min() <= data.images.max() <= 1
    for row, length in enumerate(data.waveform_lengths.tolist()):
        clip = data.waveform[row]
        assert 0.15 * 16000 < length < 1.5 * 16000  # one spoken word
        assert clip[:length].abs().max() > 0.05 and not clip[length:].any()


def test_cache_is_reused_and_identical(small):
    cache, data = small
    files = list(cache.glob("spoken_digits_*.npz"))
    assert len(files) == 1
    again = make_spoken_digits("train", voices=VOICES, variations=1, cache_dir=cache)
    torch.testing.assert_close(again.waveform, data.waveform, rtol=0, atol=0)
    assert again.voices == data.voices
    with np.load(files[0], allow_pickle=False) as stored:
        assert stored["waveform"].dtype == np.int16
    fresh = make_spoken_digits("train", voices=VOICES, variations=1, use_cache=False)
    torch.testing.assert_close(fresh.waveform, data.waveform, rtol=0, atol=1 / 32767)


def test_log_mel_and_image_sampling(small):
    _, data = small
    mel, lengths = data.log_mel(n_mels=32, n_fft=400, hop_length=160)
    assert mel.shape[:2] == (20, 32) and mel.shape[2] == 1 + data.waveform.shape[1] // 160
    torch.testing.assert_close(lengths, 1 + data.waveform_lengths // 160)
    assert torch.isfinite(mel).all()
    row = int(torch.argmin(lengths))
    assert (mel[row, :, lengths[row] :] == np.log(1e-5)).all()
    picks = data.sample_image_indices(data.audio_labels, generator=torch.Generator().manual_seed(0))
    assert torch.equal(data.image_labels[picks], data.audio_labels)


def test_errors(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ParameterError, match="is a file, not a folder"):
        make_spoken_digits("test", cache_dir=tmp_path / "file")
    with pytest.raises(ParameterError, match="split='val'"):
        make_spoken_digits("val")
    with pytest.raises(ParameterError, match="variations=0"):
        make_spoken_digits("train", variations=0)
    with pytest.raises(ParameterError, match="voices=()"):
        make_spoken_digits("train", voices=())
