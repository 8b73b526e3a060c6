"""DualEncoder: presets, unit-norm embeddings, gradients, save/load, learning."""

from __future__ import annotations

import pytest
import torch

from synesthesia.errors import ParameterError
from synesthesia.models import create_model, list_models, load_pretrained
from synesthesia.models.dual_encoder import DualEncoder
from synesthesia.nn.losses import InfoNCELoss

PRESETS = [n for n in list_models("dual_encoder*")]


def test_presets_registered():
    assert {"dual_encoder_tiny", "dual_encoder_small", "dual_encoder_soundnet_tiny"} <= set(PRESETS)


@pytest.mark.parametrize("name", [n for n in PRESETS if n.endswith("_tiny")])
def test_tiny_presets_unit_norm_and_every_parameter_gets_a_gradient(name):
    torch.manual_seed(0)
    model = create_model(name)
    inputs = model.example_inputs(batch_size=4)
    za, zi = model(inputs["audio"], inputs["image"])
    assert za.shape == zi.shape == (4, model.embedding_dim)
    assert torch.isfinite(za).all() and torch.isfinite(zi).all()
    torch.testing.assert_close(za.norm(dim=1), torch.ones(4))
    torch.testing.assert_close(zi.norm(dim=1), torch.ones(4))
    InfoNCELoss()(za, zi).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.any()]
    assert not missing
    sims = model.eval().infer(inputs["audio"], inputs["image"])
    assert sims.shape == (4, 4) and not sims.requires_grad


def test_float64_and_audio_lengths():
    model = create_model("dual_encoder_tiny").double().eval()
    mel = torch.randn(3, 16, 24, dtype=torch.float64)
    z = model.encode_audio(mel, torch.tensor([24, 16, 8]))
    assert z.dtype == torch.float64
    torch.testing.assert_close(z.norm(dim=1), torch.ones(3, dtype=torch.float64))


def test_save_and_load_round_trip(tmp_path):
    torch.manual_seed(1)
    model = create_model("dual_encoder_soundnet_tiny").eval()
    model.save_pretrained(tmp_path / "m")
    loaded = load_pretrained(tmp_path / "m")
    assert isinstance(loaded, DualEncoder) and loaded.get_config() == model.get_config()
    inputs = model.example_inputs(batch_size=2)
    for a, b in zip(model(**inputs), loaded(**inputs)):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_short_audio_and_bad_settings_are_clear_errors():
    model = create_model("dual_encoder_soundnet_tiny")
    with pytest.raises(ParameterError, match="waveform length T=10 "):
        model.encode_audio(torch.randn(2, 10))
    with pytest.raises(ParameterError, match="audio_encoder='vggish'"):
        DualEncoder(audio_encoder="vggish")


@pytest.mark.usefixtures("one_torch_thread")
def test_learning_pairs_of_a_toy_task_lowers_the_loss():
    # audio k and image k share a class pattern: InfoNCE training must reduce the loss
    _toy_learning()  # tiny convolutions: one thread is faster on a busy machine


def _toy_learning():
    torch.manual_seed(0)
    num = 16
    mel_patterns, image_patterns = torch.randn(num, 16, 16), torch.rand(num, 3, 8, 8)
    model = create_model("dual_encoder_tiny")
    loss_fn = InfoNCELoss(temperature=0.1)
    opt = torch.optim.Adam([*model.parameters(), *loss_fn.parameters()], lr=3e-3)
    losses = []
    for _ in range(40):
        mel = mel_patterns + 0.1 * torch.randn_like(mel_patterns)
        image = image_patterns + 0.05 * torch.randn_like(image_patterns)
        loss = loss_fn(*model(mel, image))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert sum(losses[-5:]) / 5 < 0.3 * sum(losses[:5]) / 5
