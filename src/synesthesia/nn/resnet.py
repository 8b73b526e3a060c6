"""ResNet image encoders (BasicBlock / Bottleneck) with torchvision-compatible parameter names.

``ResNet`` reproduces torchvision's ``resnet18/34/50`` layouts parameter for parameter
(``conv1.weight``, ``bn1.*``, ``layer1.0.conv1.weight``, ``layer2.0.downsample.0.weight``,
``fc.*``), so a torchvision state-dict file loads with :meth:`ResNet.load_torchvision_state_dict`
(``torch.load(weights_only=True)``, never a full unpickle; ``.safetensors`` too). A ``tiny``
layout (strided 3×3 stem without max-pool, three narrow stages, total stride 8) suits small
images such as digit strips. :class:`ImageEncoder` turns the last feature map into annotation
vectors for attention.

References:
    He et al., "Deep Residual Learning for Image Recognition", CVPR 2016; parameter names and
    layouts of torchvision.models.resnet (v1.5: stride on the 3×3 conv of Bottleneck).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from synesthesia.errors import ParameterError

__all__ = [
    "BasicBlock",
    "Bottleneck",
    "ResNet",
    "ImageEncoder",
    "RESNET_LAYOUTS",
    "read_state_dict",
]


class BasicBlock(nn.Module):
    """Two 3×3 convolutions with a residual connection (ResNet-18/34)."""

    expansion = 1

    def __init__(self, in_channels: int, channels: int, *, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.downsample = _downsample(in_channels, channels, stride)

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + identity)


class Bottleneck(nn.Module):
    """1×1 → 3×3 (strided) → 1×1 convolutions, 4× expansion (ResNet-50, torchvision v1.5)."""

    expansion = 4

    def __init__(self, in_channels: int, channels: int, *, stride: int = 1) -> None:
        super().__init__()
        out_channels = channels * self.expansion
        self.conv1 = nn.Conv2d(in_channels, channels, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.conv3 = nn.Conv2d(channels, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.downsample = _downsample(in_channels, out_channels, stride)

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + identity)


def _downsample(in_channels: int, out_channels: int, stride: int) -> nn.Sequential | None:
    if stride == 1 and in_channels == out_channels:
        return None
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
        nn.BatchNorm2d(out_channels),
    )


#: layout name -> (block, blocks per stage, stage widths, stem kernel, stem stride, max-pool)
RESNET_LAYOUTS: dict[str, tuple[str, tuple[int, ...], tuple[int, ...], int, int, bool]] = {
    "tiny": ("basic", (1, 1, 1), (16, 32, 64), 3, 2, False),
    "resnet18": ("basic", (2, 2, 2, 2), (64, 128, 256, 512), 7, 2, True),
    "resnet34": ("basic", (3, 4, 6, 3), (64, 128, 256, 512), 7, 2, True),
    "resnet50": ("bottleneck", (3, 4, 6, 3), (64, 128, 256, 512), 7, 2, True),
}
_BLOCKS = {"basic": BasicBlock, "bottleneck": Bottleneck}


def read_state_dict(path: str | os.PathLike) -> dict[str, Tensor]:
    """Read a state-dict file safely: ``.safetensors``, or ``.pth``/``.pt`` with weights only.

    A ``.pth`` holding ``{"state_dict": {...}}`` or ``{"model": {...}}`` is unwrapped.

    Raises:
        ParameterError: missing file, unreadable file, or content that is not a tensor dict.
    """
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"path={str(path)!r} does not exist or is not a file")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path), device="cpu")
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001  (any reader failure is a bad file for the user)
        raise ParameterError(
            f"path={str(path)!r} is not a readable state-dict file (.pth loaded with "
            f"weights_only=True, or .safetensors): {type(exc).__name__}: {exc}"
        ) from None
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise ParameterError(f"path={str(path)!r} does not hold a dict of tensors")
    return state


class ResNet(nn.Module):
    """A ResNet trunk with torchvision's parameter names.

    Args:
        layout: "tiny", "resnet18", "resnet34" or "resnet50" (see :data:`RESNET_LAYOUTS`).
        in_channels: C of the input images.
        num_classes: add the ``fc`` classifier with this many outputs (None: no classifier,
            :meth:`forward` returns the last feature map).

    Shapes:
        forward: (B, C, H, W) → features (B, D, H / s, W / s) with stride s = 32 for the
        torchvision layouts and 8 for "tiny"; (B, num_classes) logits when ``num_classes``.
    """

    def __init__(
        self, layout: str = "resnet18", *, in_channels: int = 3, num_classes: int | None = None
    ) -> None:
        super().__init__()
        if layout not in RESNET_LAYOUTS:
            raise ParameterError(f"layout={layout!r} must be one of {sorted(RESNET_LAYOUTS)}")
        if isinstance(in_channels, bool) or not isinstance(in_channels, int) or in_channels < 1:
            raise ParameterError(f"in_channels={in_channels!r} must be a positive integer")
        block_name, blocks, widths, kernel, stride, pool = RESNET_LAYOUTS[layout]
        block = _BLOCKS[block_name]
        self.layout = layout
        self.conv1 = nn.Conv2d(
            in_channels, widths[0], kernel, stride=stride, padding=kernel // 2, bias=False
        )
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1) if pool else nn.Identity()
        channels = widths[0]
        self.stage_names: list[str] = []
        for i, (num_blocks, width) in enumerate(zip(blocks, widths)):
            layers = []
            for j in range(num_blocks):
                layers.append(block(channels, width, stride=2 if (i > 0 and j == 0) else 1))
                channels = width * block.expansion
            name = f"layer{i + 1}"
            self.add_module(name, nn.Sequential(*layers))
            self.stage_names.append(name)
        self.out_channels = channels
        self.fc = nn.Linear(channels, num_classes) if num_classes else None
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def features(self, images: Tensor) -> Tensor:
        """The last feature map (B, D, H', W') of images (B, C, H, W)."""
        x = self.maxpool(F.relu(self.bn1(self.conv1(images))))
        for name in self.stage_names:
            x = getattr(self, name)(x)
        return x

    def forward(self, images: Tensor) -> Tensor:
        x = self.features(images)
        if self.fc is None:
            return x
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))

    def load_torchvision_state_dict(
        self, source: str | os.PathLike | dict[str, Tensor], *, strict: bool = True
    ) -> None:
        """Load torchvision-format weights (a file path or a state dict).

        ``fc.*`` entries are ignored when this trunk has no classifier. With ``strict``, every
        parameter and buffer of this module must be present with the same shape.

        Raises:
            ParameterError: missing keys, unexpected keys or shape mismatches (named).
        """
        state = source if isinstance(source, dict) else read_state_dict(source)
        if self.fc is None:
            state = {k: v for k, v in state.items() if not k.startswith("fc.")}
        own = self.state_dict()
        mismatched = [
            f"{k}: file {tuple(v.shape)} vs model {tuple(own[k].shape)}"
            for k, v in state.items()
            if k in own and v.shape != own[k].shape
        ]
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        if mismatched or (strict and (missing or unexpected)):
            raise ParameterError(
                f"state dict does not fit ResNet layout={self.layout!r}: "
                f"missing={missing[:5]}, unexpected={unexpected[:5]}, shapes={mismatched[:3]}"
            )
        self.load_state_dict({k: v for k, v in state.items() if k in own}, strict=strict)


def _grid_pair(grid_size: int | Sequence[int]) -> tuple[int, int]:
    pair = (grid_size, grid_size) if isinstance(grid_size, int) else tuple(grid_size)
    if len(pair) != 2 or any(isinstance(g, bool) or not isinstance(g, int) or g < 1 for g in pair):
        raise ParameterError(f"grid_size={grid_size!r} must be a positive int or (rows, columns)")
    return int(pair[0]), int(pair[1])


class ImageEncoder(nn.Module):
    """Image → annotation vectors: a ResNet trunk, adaptive average pooling to a grid.

    Args:
        layout: ResNet layout ("tiny", "resnet18", "resnet34", "resnet50").
        grid_size: the annotation grid, an int (square, P = grid_size²) or (rows, columns).
        in_channels: C of the input images.

    Shapes:
        forward: images (B, C, H, W) → annotations (B, P, D) with D = :attr:`encoder_dim`,
        regions in row-major order of the grid.

    References:
        Xu et al., "Show, Attend and Tell", ICML 2015 (annotation vectors from a CNN feature
        map); the 14 × 14 adaptive pooling of sgrvinod's a-PyTorch-Tutorial-to-Image-Captioning.
    """

    def __init__(
        self,
        layout: str = "resnet18",
        *,
        grid_size: int | Sequence[int] = 14,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        self.grid_size = _grid_pair(grid_size)
        self.trunk = ResNet(layout, in_channels=in_channels)
        self.encoder_dim = self.trunk.out_channels

    @property
    def num_regions(self) -> int:
        """P = rows × columns of the grid."""
        return self.grid_size[0] * self.grid_size[1]

    def forward(self, images: Tensor) -> Tensor:
        if images.dim() != 4:
            raise ParameterError(f"images with shape {tuple(images.shape)} must be (B, C, H, W)")
        features = F.adaptive_avg_pool2d(self.trunk.features(images), self.grid_size)
        return features.flatten(2).transpose(1, 2)  # (B, P, D)

    def load_torchvision_state_dict(
        self, source: str | os.PathLike | dict[str, Tensor], *, strict: bool = True
    ) -> None:
        """Load torchvision-format ResNet weights into the trunk (``fc.*`` ignored)."""
        self.trunk.load_torchvision_state_dict(source, strict=strict)

    @torch.no_grad()
    def recalibrate_batch_norm(self, batches: Iterable[Tensor]) -> None:
        """Re-estimate BatchNorm running statistics as plain averages over ``batches``.

        After training on few or small batches the running averages lag behind the weights,
        so evaluation mode behaves differently from training mode; this recomputes them
        (each batch (B, C, H, W) weighted equally) and restores the previous mode.
        """
        norms = [m for m in self.modules() if isinstance(m, nn.BatchNorm2d)]
        saved = [(m.momentum, m.training) for m in norms]
        was_training = self.training
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # cumulative moving average
        self.train()
        count = 0
        for images in batches:
            self(images)
            count += 1
        if count == 0:
            raise ParameterError("batches must hold at least one batch of images")
        for m, (momentum, _) in zip(norms, saved):
            m.momentum = momentum
        self.train(was_training)

    def fine_tune(self, stages: Iterable[int | str] = ()) -> None:
        """Train only the given stages; freeze the stem and every other stage.

        Args:
            stages: stage numbers (1-based, e.g. ``(3, 4)``) or names (``"layer4"``, ``"stem"``);
                ``()`` freezes the whole encoder.
        """
        names = set()
        for stage in stages:
            name = f"layer{stage}" if isinstance(stage, int) else str(stage)
            if name not in (*self.trunk.stage_names, "stem"):
                raise ParameterError(
                    f"stage={stage!r} must be one of {self.trunk.stage_names} (or 1..."
                    f"{len(self.trunk.stage_names)}, or 'stem')"
                )
            names.add(name)
        for name, param in self.trunk.named_parameters():
            top = name.split(".")[0]
            group = "stem" if top in ("conv1", "bn1") else top
            param.requires_grad_(group in names)
