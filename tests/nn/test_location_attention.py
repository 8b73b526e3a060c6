"""LocationSensitiveAttention: the formula in float64 written out by hand, masking, errors."""

from __future__ import annotations

import pytest
import torch

from synesthesia.errors import ParameterError
from synesthesia.nn.location_attention import LocationSensitiveAttention


def test_matches_the_written_out_formula_in_float64():
    torch.manual_seed(0)
    attention = LocationSensitiveAttention(
        query_dim=6, memory_dim=4, attention_dim=5, location_channels=3, location_kernel_size=3
    ).double()
    batch, num_tokens = 2, 7
    query = torch.randn(batch, 6, dtype=torch.float64)
    memory = torch.randn(batch, num_tokens, 4, dtype=torch.float64)
    previous = torch.softmax(torch.randn(batch, num_tokens, dtype=torch.float64), -1)
    cumulative = previous + torch.rand(batch, num_tokens, dtype=torch.float64)
    mask = torch.tensor([[True] * 7, [True] * 4 + [False] * 3])
    context, weights = attention(
        query, memory, projected_memory=attention.project_memory(memory),
        previous_weights=previous, cumulative_weights=cumulative, mask=mask,
    )  # fmt: skip
    # reference: explicit loops over tokens and the location-convolution taps
    conv = attention.location_conv.weight  # (channels, 2, K)
    for b in range(batch):
        energies = []
        for token in range(num_tokens):
            features = torch.zeros(3, dtype=torch.float64)
            for tap in range(3):
                source = token + tap - 1
                if 0 <= source < num_tokens:
                    stacked = torch.stack([previous[b, source], cumulative[b, source]])
                    features += conv[:, :, tap] @ stacked
            hidden = torch.tanh(
                attention.query_layer.weight @ query[b]
                + attention.memory_layer.weight @ memory[b, token]
                + attention.location_layer.weight @ features
            )
            energy = attention.score.weight[0] @ hidden + attention.score.bias[0]
            energies.append(energy if mask[b, token] else torch.tensor(float("-inf")))
        expected = torch.softmax(torch.stack(energies).double(), 0)
        torch.testing.assert_close(weights[b], expected, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(context[b], expected @ memory[b], rtol=1e-12, atol=1e-12)
    assert (weights[1, 4:] == 0).all()
    torch.testing.assert_close(weights.sum(-1), torch.ones(batch, dtype=torch.float64))


def test_fully_masked_row_gives_zero_weights_zero_context_and_finite_gradients():
    # issue #21: a row with no valid token (e.g. an attention window that excludes every
    # token) gave NaN; it now gives zeros like every other attention in the package
    torch.manual_seed(0)
    attention = LocationSensitiveAttention(
        query_dim=6, memory_dim=4, attention_dim=5, location_channels=3, location_kernel_size=3
    ).double()
    batch, num_tokens = 3, 5
    query = torch.randn(batch, 6, dtype=torch.float64, requires_grad=True)
    memory = torch.randn(batch, num_tokens, 4, dtype=torch.float64, requires_grad=True)
    previous = torch.softmax(torch.randn(batch, num_tokens, dtype=torch.float64), -1)
    mask = torch.tensor([[True] * 5, [False] * 5, [True] * 2 + [False] * 3])
    context, weights = attention(
        query, memory, projected_memory=attention.project_memory(memory),
        previous_weights=previous, cumulative_weights=previous, mask=mask,
    )  # fmt: skip
    assert torch.equal(weights[1], torch.zeros(num_tokens, dtype=torch.float64))
    assert torch.equal(context[1], torch.zeros(4, dtype=torch.float64))
    torch.testing.assert_close(weights[[0, 2]].sum(-1), torch.ones(2, dtype=torch.float64))
    assert (weights[2, 2:] == 0).all()
    grads = torch.autograd.grad(context.square().sum() + weights.sum(), (query, memory))
    assert all(torch.isfinite(grad).all() for grad in grads)
    # the other rows are those of the batch without the empty row
    alone_context, alone_weights = attention(
        query[[0, 2]], memory[[0, 2]], projected_memory=attention.project_memory(memory[[0, 2]]),
        previous_weights=previous[[0, 2]], cumulative_weights=previous[[0, 2]], mask=mask[[0, 2]],
    )  # fmt: skip
    torch.testing.assert_close(weights[[0, 2]], alone_weights, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(context[[0, 2]], alone_context, rtol=1e-12, atol=1e-12)


def test_errors():
    with pytest.raises(ParameterError, match="location_kernel_size"):
        LocationSensitiveAttention(query_dim=4, memory_dim=4, location_kernel_size=4)
    with pytest.raises(ParameterError, match="attention_dim"):
        LocationSensitiveAttention(query_dim=4, memory_dim=4, attention_dim=0)
