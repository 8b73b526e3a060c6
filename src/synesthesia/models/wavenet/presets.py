"""The registered WaveNet presets (``create_model("wavenet_tiny")`` ...)."""

from __future__ import annotations

from typing import Any

from synesthesia.config import AudioConfig
from synesthesia.models.registry import register_model
from synesthesia.models.wavenet.model import WaveNet

_AUDIO_22K = AudioConfig(sample_rate=22050, n_fft=1024, hop_length=256, win_length=1024, n_mels=80)
_AUDIO_TINY = AudioConfig(
    sample_rate=16000, n_fft=256, hop_length=64, win_length=256, n_mels=20, f_max=8000.0
)

_MOL = {"output": "mol", "num_mixtures": 10}
_PRESETS: dict[str, dict[str, Any]] = {
    "wavenet_tiny": dict(
        audio_config=_AUDIO_TINY, cond_channels=20, num_layers=4, num_stacks=2, kernel_size=2,
        residual_channels=8, gate_channels=16, skip_channels=8, output="mulaw",
    ),
    "wavenet_small": dict(
        audio_config=_AUDIO_22K, num_layers=12, num_stacks=2, residual_channels=32,
        gate_channels=64, skip_channels=32, **_MOL,
    ),
    "wavenet_base": dict(
        audio_config=_AUDIO_22K, num_layers=24, num_stacks=4, residual_channels=128,
        gate_channels=256, skip_channels=128, **_MOL,
    ),
    # Benchmark configurations (a) and (b) of docs/benchmarks.md, "## WaveNet".
    "wavenet_mulaw_16x2": dict(
        audio_config=_AUDIO_22K, num_layers=16, num_stacks=2, residual_channels=64,
        gate_channels=128, skip_channels=64, output="mulaw",
    ),
    "wavenet_mol_24x4": dict(
        audio_config=_AUDIO_22K, num_layers=24, num_stacks=4, residual_channels=128,
        gate_channels=256, skip_channels=128, **_MOL,
    ),
}  # fmt: skip
for _name, _kwargs in _PRESETS.items():
    register_model(_name, WaveNet, **_kwargs)
