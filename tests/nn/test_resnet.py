"""ResNet encoders: torchvision layouts, torchvision-format state-dict loading, fine-tuning."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

from synesthesia.errors import ParameterError
from synesthesia.nn.resnet import ImageEncoder, ResNet, read_state_dict


def _bn(prefix: str, channels: int, gen: torch.Generator) -> dict[str, torch.Tensor]:
    return {
        f"{prefix}.weight": torch.rand(channels, generator=gen) + 0.5,
        f"{prefix}.bias": torch.randn(channels, generator=gen) * 0.1,
        f"{prefix}.running_mean": torch.randn(channels, generator=gen) * 0.1,
        f"{prefix}.running_var": torch.rand(channels, generator=gen) + 0.5,
        f"{prefix}.num_batches_tracked": torch.tensor(7),
    }


def torchvision_resnet18_state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    """Names and shapes exactly as torchvision.models.resnet18().state_dict() (written out
    by hand from torchvision's definition, independently of our module)."""
    gen = torch.Generator().manual_seed(seed)
    state = {"conv1.weight": torch.randn(64, 3, 7, 7, generator=gen) * 0.05}
    state.update(_bn("bn1", 64, gen))
    in_channels = 64
    for stage, width in enumerate((64, 128, 256, 512), start=1):
        for block in range(2):
            p = f"layer{stage}.{block}"
            state[f"{p}.conv1.weight"] = torch.randn(width, in_channels, 3, 3, generator=gen) * 0.05
            state.update(_bn(f"{p}.bn1", width, gen))
            state[f"{p}.conv2.weight"] = torch.randn(width, width, 3, 3, generator=gen) * 0.05
            state.update(_bn(f"{p}.bn2", width, gen))
            if block == 0 and stage > 1:
                state[f"{p}.downsample.0.weight"] = (
                    torch.randn(width, in_channels, 1, 1, generator=gen) * 0.05
                )
                state.update(_bn(f"{p}.downsample.1", width, gen))
            in_channels = width
    state["fc.weight"] = torch.randn(1000, 512, generator=gen) * 0.01
    state["fc.bias"] = torch.zeros(1000)
    return state


def test_parameter_counts_match_torchvision():
    # torchvision: resnet18 11,689,512 / resnet34 21,797,672 / resnet50 25,557,032 parameters
    for layout, expected in (
        ("resnet18", 11_689_512),
        ("resnet34", 21_797_672),
        ("resnet50", 25_557_032),
    ):
        model = ResNet(layout, num_classes=1000)
        assert sum(p.numel() for p in model.parameters()) == expected, layout


def test_state_dict_names_match_torchvision_resnet18():
    reference = torchvision_resnet18_state_dict()
    assert len(reference) == 122
    ours = ResNet("resnet18", num_classes=1000).state_dict()
    assert {k: tuple(v.shape) for k, v in ours.items()} == {
        k: tuple(v.shape) for k, v in reference.items()
    }


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_load_torchvision_file_into_encoder(tmp_path, suffix):
    reference = torchvision_resnet18_state_dict(seed=1)
    path = tmp_path / f"resnet18{suffix}"
    if suffix == ".pth":
        torch.save(reference, path)
    else:
        save_file(reference, str(path))
    encoder = ImageEncoder("resnet18", grid_size=2)
    encoder.load_torchvision_state_dict(path)
    loaded = encoder.trunk.state_dict()
    for key, value in reference.items():
        if not key.startswith("fc."):
            torch.testing.assert_close(loaded[key], value, rtol=0, atol=0)
    # the classifier copy sees the same features: fc(mean of annotations) == ResNet logits
    classifier = ResNet("resnet18", num_classes=1000)
    classifier.load_torchvision_state_dict(path)
    classifier.eval(), encoder.eval()
    images = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        annotations = encoder(images)  # 64 / 32 = 2 = grid: pooling is the identity
        logits = classifier(images)
    assert annotations.shape == (2, 4, 512)
    expected = annotations.mean(1) @ reference["fc.weight"].T + reference["fc.bias"]
    torch.testing.assert_close(logits, expected, rtol=1e-4, atol=1e-4)


def test_bad_state_dicts_are_named(tmp_path):
    reference = torchvision_resnet18_state_dict()
    del reference["layer1.0.conv1.weight"]
    with pytest.raises(ParameterError, match="layer1.0.conv1.weight"):
        ResNet("resnet18").load_torchvision_state_dict(reference)
    reference = torchvision_resnet18_state_dict()
    with pytest.raises(ParameterError, match="shapes=.*conv1.weight"):
        ResNet("resnet34").load_torchvision_state_dict(
            {**reference, "conv1.weight": torch.zeros(64, 1, 7, 7)}, strict=False
        )
    # a pickle holding arbitrary objects is refused by weights_only loading
    torch.save({"weights": torch.zeros(1), "obj": ResNet}, tmp_path / "evil.pth")
    with pytest.raises(ParameterError, match="weights_only"):
        read_state_dict(tmp_path / "evil.pth")
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(ParameterError, match="junk.pth"):
        read_state_dict(tmp_path / "junk.pth")


def test_encoder_grid_and_fine_tune():
    encoder = ImageEncoder("tiny", grid_size=(2, 8))
    annotations = encoder(torch.rand(3, 3, 32, 128, dtype=torch.float32))
    assert annotations.shape == (3, 16, encoder.encoder_dim) == (3, 16, 64)
    encoder64 = ImageEncoder("tiny", grid_size=3).double()
    assert encoder64(torch.rand(1, 3, 20, 20, dtype=torch.float64)).dtype == torch.float64
    encoder.fine_tune(stages=(3,))
    trainable = {n.split(".")[1] for n, p in encoder.named_parameters() if p.requires_grad}
    assert trainable == {"layer3"}
    encoder.fine_tune(stages=())
    assert not any(p.requires_grad for p in encoder.parameters())
    with pytest.raises(ParameterError, match="stage"):
        encoder.fine_tune(stages=(4,))
    with pytest.raises(ParameterError, match="grid_size"):
        ImageEncoder("tiny", grid_size=0)
    with pytest.raises(ParameterError, match="layout"):
        ImageEncoder("resnet101")
