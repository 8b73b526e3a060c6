"""Silence trimming against librosa.effects.trim (float64, exact sample indices)."""

import librosa
import numpy as np
import pytest
import torch

from synesthesia.errors import ParameterError
from synesthesia.functional.trim import frame_rms, trim_bounds, trim_silence


def _clip(rng: np.random.Generator) -> np.ndarray:
    length = int(rng.integers(100, 20000))
    x = np.zeros(length)
    a = int(rng.integers(0, length))
    b = int(rng.integers(a, length + 1))
    x[a:b] = rng.standard_normal(b - a) * rng.uniform(0.01, 1.0)
    return x + rng.standard_normal(length) * 1e-4 * int(rng.integers(0, 2))


def test_frame_rms_matches_librosa():
    rng = np.random.default_rng(0)
    for frame_length, hop_length in ((2048, 512), (511, 128), (256, 300)):
        x = rng.standard_normal(5000)
        expected = librosa.feature.rms(y=x, frame_length=frame_length, hop_length=hop_length)
        ours = frame_rms(torch.from_numpy(x), frame_length=frame_length, hop_length=hop_length)
        # librosa.feature.rms computes in float32 (its dtype argument)
        np.testing.assert_allclose(ours.numpy(), expected[0], rtol=2e-6, atol=1e-7)


def test_trim_bounds_match_librosa_on_random_clips():
    rng = np.random.default_rng(0)
    for _ in range(200):
        x = _clip(rng)
        frame_length = int(rng.choice([256, 511, 512, 1024, 2048]))
        hop_length = int(rng.choice([64, 128, 256, 512]))
        top_db = float(rng.choice([20, 40, 60]))
        _, index = librosa.effects.trim(
            x, top_db=top_db, frame_length=frame_length, hop_length=hop_length
        )
        start, end = trim_bounds(
            torch.from_numpy(x), top_db=top_db, frame_length=frame_length, hop_length=hop_length
        )
        assert (int(start), int(end)) == tuple(index)


def test_padded_batch_equals_clips_one_by_one():
    rng = np.random.default_rng(1)
    clips = [_clip(rng) for _ in range(6)]
    lengths = torch.tensor([len(c) for c in clips])
    batch = torch.zeros(len(clips), int(lengths.max()), dtype=torch.float64)
    for row, clip in enumerate(clips):
        batch[row, : len(clip)] = torch.from_numpy(clip)
    start, end = trim_bounds(batch, top_db=40, hop_length=128, waveform_lengths=lengths)
    trimmed, new_lengths = trim_silence(batch, lengths, top_db=40, hop_length=128)
    for row, clip in enumerate(clips):
        s, e = trim_bounds(torch.from_numpy(clip), top_db=40, hop_length=128)
        assert (int(start[row]), int(end[row])) == (int(s), int(e))
        alone, alone_length = trim_silence(torch.from_numpy(clip), top_db=40, hop_length=128)
        assert int(new_lengths[row]) == int(alone_length)
        assert torch.equal(trimmed[row, : int(alone_length)], alone[: int(alone_length)])
        assert not trimmed[row, int(alone_length) :].any()


def test_silent_clip_is_kept_whole():
    silence = torch.zeros(4000, dtype=torch.float64)
    _, index = librosa.effects.trim(silence.numpy(), top_db=30)
    assert tuple(int(v) for v in trim_bounds(silence, top_db=30)) == tuple(index) == (0, 4000)
    out, length = trim_silence(silence, top_db=30)
    assert int(length) == 4000 and torch.equal(out, silence)


def test_bad_arguments():
    with pytest.raises(ParameterError, match="top_db"):
        trim_bounds(torch.zeros(100), top_db=0)
    with pytest.raises(ParameterError, match="top_db"):
        trim_bounds(torch.zeros(100), top_db=float("nan"))
    with pytest.raises(ParameterError, match="waveform_lengths"):
        trim_bounds(torch.zeros(2, 100), waveform_lengths=torch.tensor([10, 101]))
    with pytest.raises(ParameterError, match="hop_length"):
        trim_bounds(torch.zeros(100), hop_length=0)
