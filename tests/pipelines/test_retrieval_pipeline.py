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


def _robust_features(**extra):
    return {"sample_rate": 16000, "n_mels": 16, "n_fft": 512, "hop_length": 256,
            "num_frames": 24, "mean": 0.1, "std": 1.7, "trim_db": 40, "normalize": "utterance",
            **extra}  # fmt: skip


def test_trimmed_utterance_features_ignore_leading_silence_and_gain():
    """The same clip after 0.1 s or 0.4 s of silence, the second 10 dB quieter, gives the
    same features: trimming cuts both to the frame grid before the onset, and the per-band
    utterance mean removes the gain."""
    model = create_model("dual_encoder_tiny", n_mels=16, image_in_channels=1)
    retriever = AudioImageRetriever(model, _robust_features())
    g = torch.Generator().manual_seed(0)
    t = torch.arange(4096, dtype=torch.float64) / 16000
    clip = torch.sin(2 * torch.pi * 440 * t) * (0.5 + 0.4 * torch.sin(2 * torch.pi * 3 * t))
    clip = clip + 0.3 * torch.randn(4096, generator=g, dtype=torch.float64)
    early = torch.cat([torch.zeros(1600, dtype=torch.float64), clip])
    late = torch.cat([torch.zeros(6400, dtype=torch.float64), 10 ** (-10 / 20) * clip])
    clean, clean_lengths = retriever.log_mel(early[None], torch.tensor([len(early)]))
    other, other_lengths = retriever.log_mel(late[None], torch.tensor([len(late)]))
    assert torch.equal(clean_lengths, other_lengths)
    torch.testing.assert_close(other, clean, rtol=0, atol=1e-9)
    untrimmed = AudioImageRetriever(model, _robust_features(trim_db=None))
    assert not torch.allclose(
        untrimmed.log_mel(late[None], torch.tensor([len(late)]))[0], clean, atol=0.1
    )


def test_utterance_normalisation_centres_each_band():
    features = _robust_features(mean=0.0, std=1.0, trim_db=None)
    model = create_model("dual_encoder_tiny", n_mels=16, image_in_channels=1)
    g = torch.Generator().manual_seed(1)
    waveform = torch.randn(2, 5000, generator=g, dtype=torch.float64)
    lengths = torch.tensor([5000, 2600])
    waveform[1, 2600:] = 0
    mel, mel_lengths = AudioImageRetriever(model, features).log_mel(waveform, lengths)
    for row in range(2):
        n = int(mel_lengths[row])
        torch.testing.assert_close(mel[row, :, :n].mean(-1), torch.zeros(16, dtype=mel.dtype))
        assert not mel[row, :, n:].any()


def test_embed_waveforms_equals_one_clip_at_a_time():
    model = create_model("dual_encoder_tiny", n_mels=16, image_in_channels=1).double()
    retriever = AudioImageRetriever(model, _robust_features())
    g = torch.Generator().manual_seed(2)
    lengths = torch.tensor([9000, 5000, 7000])
    waveform = torch.randn(3, 9000, generator=g, dtype=torch.float64) * 0.2
    for row, n in enumerate(lengths.tolist()):
        waveform[row, n:] = 0
    batched = retriever.embed_waveforms(waveform, lengths, sample_rate=16000)
    for row, n in enumerate(lengths.tolist()):
        audio, audio_lengths = retriever.prepare_audio(waveform[row, :n], 16000)
        alone = model.encode_audio(audio, audio_lengths)
        torch.testing.assert_close(batched[row : row + 1], alone, rtol=1e-10, atol=1e-10)
