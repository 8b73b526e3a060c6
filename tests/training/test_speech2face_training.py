"""Speech2Face training: the voice stage's loss falls; the systems; bad data settings."""

from __future__ import annotations

import pytest
import torch

from synesthesia.errors import ParameterError
from synesthesia.functional.distillation import distillation_kl_loss
from synesthesia.models import create_model
from synesthesia.training.config import load_config
from synesthesia.training.speech2face import (
    SPEECH2FACE_DEFAULTS,
    SPEECH2FACE_TASK,
    DecoderSystem,
    VoiceSystem,
    train_speech2face,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _voice_batch(encoder, classifier, generator):
    """Four speakers, each with a distinct pitch (a sine) and a fixed random face feature."""
    rate = encoder.sample_rate
    t = torch.arange(2 * encoder.min_length) / rate
    speakers = torch.arange(8) % 4
    waveform = 0.3 * torch.sin(2 * torch.pi * (150 + 120 * speakers[:, None]) * t)
    waveform = waveform + 0.01 * torch.randn(waveform.shape, generator=generator)
    faces = torch.randn(4, encoder.embedding_dim, generator=generator)
    target = faces[speakers]
    return {
        "waveform": waveform,
        "waveform_lengths": torch.full((8,), waveform.shape[-1]),
        "target": target,
        "target_logits": classifier(target).detach(),
    }


def test_voice_stage_loss_falls():
    torch.manual_seed(0)
    system = VoiceSystem(
        model_name="voice_encoder_tiny", model_kwargs={}, l1_weight=1.0, distill_weight=1.0
    )
    classifier = create_model("face_encoder_tiny", num_classes=4).classifier
    system.attach_face_classifier(classifier)
    batch = _voice_batch(system.model, system.face_classifier, torch.Generator().manual_seed(0))
    optimizer = torch.optim.Adam(system.model.parameters(), lr=1e-2)
    losses = []
    for _ in range(60):
        loss, parts = system.compute_loss(batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0], losses[::10]
    assert parts["cosine"].item() > 0.8


def test_decoder_stage_loss_falls():
    torch.manual_seed(0)
    system = DecoderSystem(model_name="face_decoder_tiny", model_kwargs={})
    features = torch.randn(6, 8)
    target = torch.rand(6, 3, 1, 1).expand(6, 3, 16, 16).contiguous()
    optimizer = torch.optim.Adam(system.model.parameters(), lr=1e-2)
    first = None
    for _ in range(80):
        loss, _ = system.compute_loss({"features": features, "target": target})
        first = loss.item() if first is None else first
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.4 * first


def test_voice_system_needs_the_classifier_for_distillation():
    system = VoiceSystem(model_name="voice_encoder_tiny", model_kwargs={})
    batch = _voice_batch(system.model, torch.nn.Linear(8, 4), torch.Generator().manual_seed(1))
    with pytest.raises(ParameterError, match="attach_face_classifier"):
        system.compute_loss(batch)


@pytest.mark.parametrize(
    "override, message",
    [
        ("data.face_steps=0", "data.face_steps=0"),
        ("data.temperature=0", "data.temperature=0"),
        ("data.l1_weight=-1", "data.l1_weight=-1"),
        ("data.faces_steps=3", "data.faces_steps"),
    ],
)
def test_bad_data_settings_fail_before_any_data_work(tmp_path, override, message):
    config = load_config(None, [override], defaults=SPEECH2FACE_DEFAULTS)
    config["out_dir"] = str(tmp_path / "run")
    with pytest.raises(ParameterError, match=message):
        train_speech2face(config)
    assert not (tmp_path / "run" / "corpus").exists()
    assert SPEECH2FACE_TASK.name == "face"


def test_face_system_adds_the_attribute_heads_loss():
    from synesthesia.training.speech2face import FaceSystem

    torch.manual_seed(0)
    kwargs = {"num_classes": 4, "attribute_classes": [2, 3]}
    system = FaceSystem(model_name="face_encoder_tiny", model_kwargs=kwargs, attribute_weight=0.5)
    plain = FaceSystem(model_name="face_encoder_tiny", model_kwargs=kwargs)
    plain.model.load_state_dict(system.model.state_dict())
    system.eval(), plain.eval()
    batch = {
        "image": torch.rand(4, 3, 16, 16),
        "label": torch.tensor([0, 1, 2, 3]),
        "attributes": torch.tensor([[0, 1], [1, -1], [-1, 2], [0, 0]]),  # -1: unknown
    }
    loss, parts = system.compute_loss(batch)
    base, base_parts = plain.compute_loss(batch)
    assert "attribute_ce" in parts and "attribute_ce" not in base_parts
    features, _ = system.model(batch["image"])
    heads = system.model.classify_attributes(features)
    expected = torch.stack(
        [
            torch.nn.functional.cross_entropy(h, batch["attributes"][:, a], ignore_index=-1)
            for a, h in enumerate(heads)
        ]
    ).mean()
    torch.testing.assert_close(parts["attribute_ce"], expected)
    torch.testing.assert_close(loss, base + 0.5 * expected)
    # an attribute unknown for the whole batch is left out, not a NaN
    batch["attributes"][:, 1] = -1
    loss, parts = system.compute_loss(batch)
    only_first = torch.nn.functional.cross_entropy(
        heads[0], batch["attributes"][:, 0], ignore_index=-1
    )
    torch.testing.assert_close(parts["attribute_ce"], only_first)
    batch["attributes"][:] = -1
    loss, parts = system.compute_loss(batch)
    assert "attribute_ce" not in parts and torch.isfinite(loss)
    torch.testing.assert_close(loss, base)


def test_voice_system_distills_the_attribute_heads():
    torch.manual_seed(0)
    face = create_model("face_encoder_tiny", num_classes=4, attribute_classes=[2, 3])
    system = VoiceSystem(
        model_name="voice_encoder_tiny",
        model_kwargs={},
        distill_weight=1.0,
        attribute_distill_weight=2.0,
    )
    system.attach_face_classifier(face.classifier, attribute_heads=list(face.attribute_heads))
    batch = _voice_batch(system.model, system.face_classifier, torch.Generator().manual_seed(0))
    loss, parts = system.compute_loss(batch)
    predicted = system.model(batch["waveform"], batch["waveform_lengths"])
    expected = torch.stack(
        [
            distillation_kl_loss(head(predicted), head(batch["target"]), temperature=2.0)
            for head in face.attribute_heads
        ]
    ).mean()
    torch.testing.assert_close(parts["attribute_distill"], expected)
    torch.testing.assert_close(loss, parts["l1"] + parts["distill"] + 2.0 * expected)
    # the heads are frozen copies in buffers: saved with the system, never trained
    assert "attribute_weight_0" in dict(system.named_buffers())
    assert all(not n.startswith("attribute_") for n, _ in system.named_parameters())
