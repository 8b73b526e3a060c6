"""Location-sensitive attention (Chorowski et al. 2015) as used by Tacotron 2.

``e_{i,l} = vᵀ tanh(W s_i + V h_l + U f_{i,l} + b)`` with location features
``f_i = F * [α_{i-1}; Σ_{j<i} α_j]`` (a 1-D convolution over the previous and cumulative
attention weights), ``α_i = softmax(e_i)`` over valid tokens, context ``Σ_l α_{i,l} h_l``.

References:
    Chorowski et al., "Attention-Based Models for Speech Recognition", 2015; Shen et al.,
    "Natural TTS Synthesis by Conditioning WaveNet on Mel Spectrogram Predictions", 2018;
    NVIDIA/tacotron2 ``model.py`` (Attention, LocationLayer), whose layout this follows.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from synesthesia.errors import ParameterError
from synesthesia.functional.attention import masked_softmax

__all__ = ["LocationSensitiveAttention"]


class LocationSensitiveAttention(nn.Module):
    """Additive attention with location features from previous and cumulative weights.

    Args:
        query_dim: width of the query (the attention LSTM state).
        memory_dim: width of the encoder outputs h_l.
        attention_dim: width of the scoring layer.
        location_channels: channels of the location convolution.
        location_kernel_size: odd kernel size of the location convolution.
    """

    def __init__(
        self, *, query_dim: int, memory_dim: int, attention_dim: int = 128,
        location_channels: int = 32, location_kernel_size: int = 31,
    ) -> None:  # fmt: skip
        super().__init__()
        for name, value in (("query_dim", query_dim), ("memory_dim", memory_dim),
                            ("attention_dim", attention_dim),
                            ("location_channels", location_channels),
                            ("location_kernel_size", location_kernel_size)):  # fmt: skip
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ParameterError(f"{name}={value!r} must be a positive integer")
        if location_kernel_size % 2 == 0:
            raise ParameterError(f"location_kernel_size={location_kernel_size} must be odd")
        self.query_layer = nn.Linear(query_dim, attention_dim, bias=False)
        self.memory_layer = nn.Linear(memory_dim, attention_dim, bias=False)
        self.location_conv = nn.Conv1d(
            2, location_channels, location_kernel_size, padding=location_kernel_size // 2,
            bias=False,
        )  # fmt: skip
        self.location_layer = nn.Linear(location_channels, attention_dim, bias=False)
        self.score = nn.Linear(attention_dim, 1, bias=True)

    def project_memory(self, memory: Tensor) -> Tensor:
        """V h_l, once per utterance: memory (B, L, D) → (B, L, attention_dim)."""
        return self.memory_layer(memory)

    def forward(
        self, query: Tensor, memory: Tensor, *, projected_memory: Tensor,
        previous_weights: Tensor, cumulative_weights: Tensor, mask: Tensor,
    ) -> tuple[Tensor, Tensor]:  # fmt: skip
        """One attention step.

        Args:
            query: (B, query_dim).
            memory: encoder outputs (B, L, D).
            projected_memory: ``project_memory(memory)`` (B, L, attention_dim).
            previous_weights: α_{i-1} (B, L).
            cumulative_weights: Σ_{j<i} α_j (B, L).
            mask: BoolTensor (B, L), True = valid token.

        Returns:
            context (B, D) and weights α_i (B, L) (rows sum to 1, zero at masked tokens; a
            row with no valid token gives zero weights and a zero context).
        """
        location = torch.stack([previous_weights, cumulative_weights], dim=1)  # (B, 2, L)
        location = self.location_layer(self.location_conv(location).transpose(1, 2))  # (B, L, A)
        hidden = torch.tanh(self.query_layer(query).unsqueeze(1) + projected_memory + location)
        energies = self.score(hidden).squeeze(-1)  # (B, L)
        weights = masked_softmax(energies, mask)  # (B, L)
        context = torch.bmm(weights.unsqueeze(1), memory).squeeze(1)  # (B, D)
        return context, weights
