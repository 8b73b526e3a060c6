"""Speech2Face networks: shapes, masks (a padded clip == the clip alone), config round trips."""

from __future__ import annotations

import pytest
import torch

from synesthesia.errors import ParameterError
from synesthesia.models import create_model, load_pretrained


def test_voice_encoder_padded_clip_equals_unpadded():
    torch.manual_seed(0)
    model = create_model("voice_encoder_tiny").eval()
    short, long = 2 * model.min_length + 37, 4 * model.min_length + 5
    clips = [torch.randn(short) * 0.1, torch.randn(long) * 0.1]
    padded = torch.zeros(2, long)
    padded[0, :short] = clips[0]
    padded[0, short:] = 0.7  # garbage after the end must not matter
    padded[1] = clips[1]
    lengths = torch.tensor([short, long])
    with torch.no_grad():
        batched = model(padded, lengths)
        alone = torch.cat([model(c[None]) for c in clips])
    torch.testing.assert_close(batched, alone, rtol=1e-5, atol=1e-6)


def test_voice_encoder_shapes_and_frame_lengths():
    model = create_model("voice_encoder_small")
    assert model.sample_rate == 16000
    lengths = torch.tensor([16000, 48000])
    frames = model.frame_lengths(lengths)
    # frames whose centred 512-sample window ends inside the clip: (T - 256) // 160 + 1
    assert frames.tolist() == [(16000 - 256) // 160 + 1, (48000 - 256) // 160 + 1]
    out = model.eval()(torch.randn(2, 48000) * 0.1, lengths)
    assert out.shape == (2, model.embedding_dim)


def test_voice_encoder_bad_input():
    model = create_model("voice_encoder_tiny")
    with pytest.raises(ParameterError, match="too short"):
        model(torch.zeros(1, model.min_length - 1))
    with pytest.raises(ParameterError, match=r"must be \(B, T\)"):
        model(torch.zeros(model.min_length))
    with pytest.raises(ParameterError, match="freq_pools"):
        create_model("voice_encoder_tiny", freq_pools=(2,))


def test_face_encoder_and_decoder_shapes():
    encoder = create_model("face_encoder_small", num_classes=5).eval()
    decoder = create_model("face_decoder_small").eval()
    images = torch.rand(3, 3, 64, 64)
    with torch.no_grad():
        features, logits = encoder(images)
        faces = decoder(features)
    assert features.shape == (3, 64) and logits.shape == (3, 5)
    assert faces.shape == (3, 3, 64, 64) and decoder.image_size == 64
    assert float(faces.min()) >= 0 and float(faces.max()) <= 1
    with pytest.raises(ParameterError, match="must be \\(B, E=64\\)"):
        decoder(torch.zeros(2, 8))


def test_bundle_checks_widths_and_keeps_attribute_order(tmp_path):
    with pytest.raises(ParameterError, match="embedding widths"):
        create_model("speech2face_tiny", face_decoder={"embedding_dim": 9, "channels": [4, 4]})
    model = create_model(
        "speech2face_tiny", attributes={"skin": ["a", "b", "c"], "age": ["x", "y"]}
    )
    labels = torch.tensor([[0, 1], [2, 0], [1, 1]])
    joint = model.joint_attribute_index(labels)
    assert joint.tolist() == [1, 4, 3]
    assert torch.equal(model.split_attribute_index(joint), labels)
    reloaded = load_pretrained(model.save_pretrained(tmp_path / "m"))
    assert list(reloaded.attributes) == ["skin", "age"]  # not sorted by the JSON writer


def test_bundle_infer_shapes():
    model = create_model("speech2face_tiny").eval()
    inputs = model.example_inputs(batch_size=2)
    features, faces = model.infer(inputs["waveform"], inputs["waveform_lengths"])
    assert features.shape == (2, 8) and faces.shape == (2, 3, 16, 16)
    attributes = model.predict_attributes(faces)
    assert attributes.shape == (2, 2)


def test_face_encoder_grid_and_attribute_heads_round_trip(tmp_path):
    torch.manual_seed(0)
    encoder = create_model(
        "face_encoder_small", num_classes=5, grid=4, attribute_classes=[2, 3, 4]
    ).eval()
    assert encoder.encoder.output_dim == 64 * 16  # 64 channels x 4 x 4 cells
    images = torch.rand(3, 3, 64, 64)
    with torch.no_grad():
        features, logits = encoder(images)
        heads = encoder.classify_attributes(features)
    assert features.shape == (3, 64) and logits.shape == (3, 5)
    assert [tuple(h.shape) for h in heads] == [(3, 2), (3, 3), (3, 4)]
    # the grid keeps the layout: a mirrored image gives another feature (the mean would not)
    mirrored = torch.zeros(1, 3, 64, 64)
    mirrored[..., :32] = 1.0
    with torch.no_grad():
        left, right = encoder.features(mirrored), encoder.features(mirrored.flip(-1))
    assert not torch.allclose(left, right)
    encoder.save_pretrained(tmp_path / "face")
    again = load_pretrained(tmp_path / "face")
    assert again.get_config() == encoder.get_config()
    with torch.no_grad():
        assert torch.equal(again.features(images), features)
        assert all(torch.equal(a, b) for a, b in zip(again.classify_attributes(features), heads))
    for bad in ([1], [2, True], [2.5]):
        with pytest.raises(ParameterError, match="attribute_classes"):
            create_model("face_encoder_small", num_classes=5, attribute_classes=bad)
    for bad in (0, True, 2.0):
        with pytest.raises(ParameterError, match="grid"):
            create_model("face_encoder_small", num_classes=5, grid=bad)
