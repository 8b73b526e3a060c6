"""VocoderDataset: hop-aligned crops whose mel frames are the utterance's own frames."""

import pytest
import torch

from synesthesia.config import AudioConfig
from synesthesia.data.vocoder import VocoderDataset, collate_vocoder
from synesthesia.errors import ParameterError
from synesthesia.transforms import LogMelSpectrogram

CONFIG = AudioConfig(sample_rate=16000, n_fft=256, hop_length=64, win_length=256, n_mels=20)


def _utterances():
    g = torch.Generator().manual_seed(0)
    return [
        {"waveform": 0.1 * torch.randn(n, generator=g), "sample_rate": 16000}
        for n in (5000, 3210, 700)
    ]


def test_crops_are_hop_aligned_slices_of_the_utterance_and_its_mel():
    items = _utterances()
    data = VocoderDataset(items, audio_config=CONFIG, segment_length=1024)
    full_mel = LogMelSpectrogram.from_config(CONFIG)
    torch.manual_seed(1)
    starts = set()
    source = items[0]["waveform"]
    source_mel = full_mel(source)
    for _ in range(8):
        waveform, mel = data[0]
        assert waveform.shape == (1024,) and mel.shape == (20, 1 + 1024 // 64)
        matches = [
            s for s in range(0, 5000 - 1024 + 1, 64) if torch.equal(source[s : s + 1024], waveform)
        ]
        assert len(matches) == 1
        start = matches[0]
        starts.add(start)
        expected = source_mel[:, start // 64 : start // 64 + 17]
        torch.testing.assert_close(mel, expected, rtol=0, atol=0)
        # interior frames (not touching the segment edges) equal a direct analysis of the crop
        direct = full_mel(waveform)
        inner = slice(2, 17 - 2)  # n_fft // 2 = 128 = 2 hops
        torch.testing.assert_close(mel[:, inner], direct[:, inner], rtol=1e-5, atol=1e-5)
    assert len(starts) > 4  # crops really are random


def test_short_and_whole_utterances_and_collate():
    items = _utterances()
    data = VocoderDataset(items, audio_config=CONFIG, segment_length=1024)
    waveform, mel = data[2]  # 700 samples: used whole, trimmed to 640
    assert waveform.shape == (640,) and mel.shape == (20, 11)
    whole = VocoderDataset(items, audio_config=CONFIG, segment_length=None)
    assert whole[1][0].shape == (3200,) and whole[1][1].shape == (20, 51)
    batch = collate_vocoder([data[0], data[2]])
    assert batch["waveform"].shape == (2, 1024) and batch["mel"].shape == (2, 20, 17)
    assert batch["waveform_lengths"].tolist() == [1024, 640]
    assert batch["mel_lengths"].tolist() == [17, 11]
    assert (batch["waveform"][1, 640:] == 0).all()
    assert torch.allclose(batch["mel"][1, :, 11:], torch.tensor(1e-5).log())
    loader = torch.utils.data.DataLoader(data, batch_size=3, collate_fn=collate_vocoder)
    assert next(iter(loader))["mel"].shape == (3, 20, 17)


def test_plain_tensors_and_errors():
    data = VocoderDataset([torch.randn(2000)], audio_config=CONFIG, segment_length=512)
    assert data[0][0].shape == (512,)
    with pytest.raises(ParameterError, match="segment_length=1000"):
        VocoderDataset([torch.randn(2000)], audio_config=CONFIG, segment_length=1000)
    bad_rate = VocoderDataset(
        [{"waveform": torch.randn(2000), "sample_rate": 22050}], audio_config=CONFIG
    )
    with pytest.raises(ParameterError, match="sample_rate=22050"):
        bad_rate[0]
    with pytest.raises(ParameterError, match="audio_config"):
        VocoderDataset([torch.randn(10)], audio_config={"hop_length": 64})
