"""AudioImageRetriever prepares audio exactly as embed training does."""

from __future__ import annotations

import torch

from synesthesia.data.spoken_digits import SpokenDigits
from synesthesia.models import create_model
from synesthesia.pipelines.retrieval import AudioImageRetriever


def test_log_mel_equals_training_features():
    features = {"sample_rate": 16000, "n_mels": 16, "n_fft": 512, "hop_length": 256,
                "num_frames": 20, "mean": -4.0, "std": 2.5}  # fmt: skip
    g = torch.Generator().manual_seed(0)
    waveform = torch.randn(3, 8000, generator=g, dtype=torch.float64) * 0.1
    lengths = torch.tensor([8000, 3000, 1200])
    waveform[1, 3000:] = 0
    waveform[2, 1200:] = 0
    zeros = torch.zeros(3, dtype=torch.long)
    data = SpokenDigits(waveform, lengths, zeros, ["v"] * 3, 16000, torch.zeros(1, 1, 8, 8),
                        zeros[:1], "test")  # fmt: skip
    mel, mel_lengths = data.log_mel(n_mels=16, n_fft=512, hop_length=256)
    expected = (mel[..., :20] - features["mean"]) / features["std"]  # the datamodule's cut
    model = create_model("dual_encoder_tiny", n_mels=16, image_in_channels=1)
    ours, our_lengths = AudioImageRetriever(model, features).log_mel(waveform, lengths)
    torch.testing.assert_close(ours, expected, rtol=1e-12, atol=1e-12)
    assert torch.equal(our_lengths, mel_lengths.clamp(max=20))


def test_one_clip_path_equals_batched_path():
    features = {"sample_rate": 8000, "n_mels": 16, "n_fft": 256, "hop_length": 128,
                "num_frames": 40, "mean": 0.0, "std": 1.0}  # fmt: skip
    model = create_model("dual_encoder_tiny", n_mels=16, image_in_channels=1)
    retriever = AudioImageRetriever(model, features)
    clip = torch.randn(3000)
    single, single_lengths = retriever.prepare_audio(clip, 8000)
    batch, batch_lengths = retriever.log_mel(clip[None], torch.tensor([3000]))
    torch.testing.assert_close(single, batch)
    assert torch.equal(single_lengths, batch_lengths)
