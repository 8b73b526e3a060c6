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


def test_folder_holds_an_audio_config_and_older_folders_still_load(tmp_path):
    """A folder written before the AudioConfig (one flat audio_features.json) and the same
    model saved again (audio_config.json + standardization.json) prepare audio and images
    identically; saving drops the old record; the analysis is an AudioConfig."""
    import json

    from synesthesia import AudioConfig
    from synesthesia.utils import atomic_write_json

    torch.manual_seed(0)
    model = create_model("dual_encoder_tiny", n_mels=16, image_in_channels=1).eval()
    old = model.save_pretrained(tmp_path / "old")
    atomic_write_json(old / "audio_features.json", _robust_features(image_size=[8, 8]))
    legacy = AudioImageRetriever.from_pretrained(old)
    new_dir = legacy.save_pretrained(tmp_path / "new")
    assert not (new_dir / "audio_features.json").exists()
    assert isinstance(AudioConfig.from_json(new_dir / "audio_config.json"), AudioConfig)
    record = json.loads((new_dir / "standardization.json").read_text())
    assert record["image_size"] == [8, 8] and record["audio"]["trim_db"] == 40
    reloaded = AudioImageRetriever.from_pretrained(new_dir)
    assert reloaded.audio_config == legacy.audio_config
    assert reloaded.standardization == legacy.standardization
    g = torch.Generator().manual_seed(2)
    waveform = torch.randn(2, 6000, generator=g, dtype=torch.float64) * 0.2
    lengths = torch.tensor([6000, 4000])
    a, a_lengths = legacy.log_mel(waveform, lengths)
    b, b_lengths = reloaded.log_mel(waveform, lengths)
    assert torch.equal(a, b) and torch.equal(a_lengths, b_lengths)
    image = torch.rand(3, 20, 20, generator=g)
    assert torch.equal(legacy.prepare_image(image), reloaded.prepare_image(image))


def test_shipped_folder_equals_its_flat_record():
    """The shipped embed_digits folder (audio_config.json + standardization.json) prepares
    audio exactly as the flat audio_features.json record it was converted from."""
    from synesthesia.pipelines import pretrained_path

    shipped = AudioImageRetriever.from_pretrained(pretrained_path("embed_digits"))
    flat = {"sample_rate": 16000, "n_mels": 32, "n_fft": 512, "hop_length": 256,
            "num_frames": 64, "mean": -8.637050186166562e-09, "std": 1.7465733289718628,
            "trim_db": 40, "normalize": "utterance", "image_size": [8, 8]}  # fmt: skip
    converted = AudioImageRetriever(shipped.model, flat)
    g = torch.Generator().manual_seed(3)
    waveform = torch.randn(2, 12000, generator=g) * 0.1
    lengths = torch.tensor([12000, 7000])
    a, a_lengths = shipped.log_mel(waveform, lengths)
    b, b_lengths = converted.log_mel(waveform, lengths)
    assert torch.equal(a, b) and torch.equal(a_lengths, b_lengths)
    assert shipped.image_size == [8, 8]


def test_incomplete_or_mismatched_folders_are_refused(tmp_path):
    import pytest

    from synesthesia.errors import CheckpointError, ParameterError
    from synesthesia.utils import atomic_write_json

    model = create_model("dual_encoder_tiny", n_mels=16, image_in_channels=1)
    folder = model.save_pretrained(tmp_path / "m")
    with pytest.raises(CheckpointError, match="audio_config.json"):
        AudioImageRetriever.from_pretrained(folder)
    retriever = AudioImageRetriever(model, _robust_features())
    retriever.audio_config.to_json(folder / "audio_config.json")
    with pytest.raises(CheckpointError, match="standardization.json"):
        AudioImageRetriever.from_pretrained(folder)
    atomic_write_json(folder / "standardization.json", {"image_size": None})
    with pytest.raises(CheckpointError, match="'audio' record"):
        AudioImageRetriever.from_pretrained(folder)
    with pytest.raises(CheckpointError, match="n_mels=32"):
        AudioImageRetriever(model, _robust_features(n_mels=32))
    with pytest.raises(ParameterError, match="not both"):
        AudioImageRetriever(
            model, _robust_features(), audio_config=retriever.audio_config,
            standardization=retriever.standardization,
        )  # fmt: skip
    with pytest.raises(ParameterError, match="lacks"):
        AudioImageRetriever(model, {"sample_rate": 16000})
