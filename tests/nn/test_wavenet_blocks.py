"""WaveNet blocks: causal conv (parity, causality, streaming), gated block, upsampler."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from synesthesia.errors import ParameterError
from synesthesia.nn.wavenet_blocks import (
    CausalConv1d,
    ConditioningUpsampler,
    GatedResidualBlock,
    upsample_frames,
)


def _reference_causal_conv(x, weight, bias, dilation):
    """y[o, t] = b[o] + sum_{i, j} w[o, i, j] x[i, t - (k - 1 - j) d], zeros before t = 0."""
    c_out, c_in, k = weight.shape
    steps = x.shape[-1]
    y = np.tile(bias[:, None], (1, steps)).astype(np.float64)
    for o in range(c_out):
        for i in range(c_in):
            for j in range(k):
                shift = (k - 1 - j) * dilation
                if shift < steps:
                    y[o, shift:] += weight[o, i, j] * x[i, : steps - shift]
    return y


@pytest.mark.parametrize("kernel_size,dilation", [(2, 1), (3, 4), (2, 8)])
def test_causal_conv_matches_explicit_sum_and_streaming(kernel_size, dilation):
    torch.manual_seed(0)
    conv = CausalConv1d(3, 5, kernel_size=kernel_size, dilation=dilation).double()
    x = torch.randn(2, 3, 40, dtype=torch.float64)
    y = conv(x)
    for b in range(2):
        ref = _reference_causal_conv(
            x[b].numpy(), conv.weight.detach().numpy(), conv.bias.detach().numpy(), dilation
        )
        np.testing.assert_allclose(y[b].detach().numpy(), ref, rtol=1e-12, atol=1e-12)
    state = conv.init_state(2)
    storage = state.buffer.data_ptr()
    outputs = []
    with torch.no_grad():
        for t in range(40):
            before = state.buffer.clone()
            outputs.append(conv.step(x[:, :, t], state))
            # a ring buffer: the same storage, and exactly one column (t mod S) rewritten
            assert state.buffer.data_ptr() == storage
            changed = (state.buffer != before).any(dim=(0, 1)).nonzero().flatten().tolist()
            assert changed == [t % state.buffer.shape[-1]], (t, changed)
    torch.testing.assert_close(torch.stack(outputs, dim=-1), y.detach(), rtol=1e-12, atol=1e-12)
    assert state.buffer.shape == (2, 3, (kernel_size - 1) * dilation)


def test_causal_conv_is_causal():
    torch.manual_seed(1)
    conv = CausalConv1d(2, 2, kernel_size=3, dilation=2).double()
    x = torch.randn(1, 2, 30, dtype=torch.float64)
    x2 = x.clone()
    x2[:, :, 17:] = torch.randn(1, 2, 13, dtype=torch.float64)
    torch.testing.assert_close(conv(x)[:, :, :17], conv(x2)[:, :, :17], rtol=0, atol=0)
    assert not torch.allclose(conv(x)[:, :, 17:], conv(x2)[:, :, 17:])


@pytest.mark.parametrize("global_dim", [0, 3])
def test_gated_block_step_equals_forward_and_formula(global_dim):
    torch.manual_seed(2)
    block = GatedResidualBlock(
        residual_channels=4,
        gate_channels=6,
        skip_channels=5,
        kernel_size=3,
        dilation=2,
        cond_channels=2,
        global_cond_dim=global_dim,
    ).double()
    x = torch.randn(2, 4, 20, dtype=torch.float64)
    cond = torch.randn(2, 2, 20, dtype=torch.float64)
    glob = torch.randn(2, global_dim, dtype=torch.float64) if global_dim else None
    res, skip = block(x, cond, glob)
    # the documented formula, written out
    h = block.conv(x) + block.cond_proj(cond)
    if global_dim:
        h = h + block.global_proj(glob)[:, :, None]
    z = torch.tanh(h[:, :3]) * torch.sigmoid(h[:, 3:])
    torch.testing.assert_close(skip, block.skip_proj(z))
    torch.testing.assert_close(res, (block.res_proj(z) + x) * math.sqrt(0.5))
    state = block.conv.init_state(2)
    with torch.no_grad():
        cond_bias = block.cond_proj(cond)
        if global_dim:
            cond_bias = cond_bias + block.global_proj(glob)[:, :, None]
        for t in range(20):
            r_t, s_t = block.step(x[:, :, t], state, cond_bias=cond_bias[:, :, t])
            torch.testing.assert_close(r_t, res[:, :, t], rtol=1e-12, atol=1e-12)
            torch.testing.assert_close(s_t, skip[:, :, t], rtol=1e-12, atol=1e-12)


def test_linear_upsampling_matches_numpy_interp_at_frame_centres():
    hop = 4
    feats = torch.randn(2, 3, 6, dtype=torch.float64)
    lengths = torch.tensor([6, 4])
    up = upsample_frames(feats, hop_length=hop, frame_lengths=lengths)
    assert up.shape == (2, 3, 24)
    t = np.arange(24)
    for b, n in enumerate(lengths.tolist()):
        for c in range(3):
            # frame n is centred on sample n * hop (center=True); hold the last frame after it
            ref = np.interp(t, np.arange(n) * hop, feats[b, c, :n].numpy())
            np.testing.assert_allclose(up[b, c].numpy(), ref, rtol=1e-12, atol=1e-12)


def test_nearest_upsampling_picks_the_closest_frame_centre():
    hop = 4
    feats = torch.arange(5, dtype=torch.float64).view(1, 1, 5)
    up = upsample_frames(feats, hop_length=hop, interpolation="nearest")
    t = np.arange(20)
    expected = np.minimum(np.floor((t + hop // 2) / hop), 4)
    np.testing.assert_array_equal(up[0, 0].numpy(), expected)


def test_upsampling_commutes_with_a_pointwise_projection():
    torch.manual_seed(3)
    proj = torch.nn.Conv1d(3, 7, 1).double()
    feats = torch.randn(2, 3, 5, dtype=torch.float64)
    lengths = torch.tensor([5, 3])
    a = proj(upsample_frames(feats, hop_length=8, frame_lengths=lengths))
    b = upsample_frames(proj(feats), hop_length=8, frame_lengths=lengths)
    torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_upsampler_row_in_padded_batch_equals_row_alone():
    torch.manual_seed(4)
    up = ConditioningUpsampler(3, hop_length=5, kernel_size=3).double()
    mel = torch.randn(2, 3, 7, dtype=torch.float64)
    lengths = torch.tensor([7, 4])
    batched = up(mel, mel_lengths=lengths)
    alone = up(mel[1:, :, :4])
    torch.testing.assert_close(batched[1:, :, :20], alone, rtol=1e-12, atol=1e-12)
    assert batched.shape == (2, 3, 35)


def test_residual_upsampler_row_in_padded_batch_equals_row_alone():
    torch.manual_seed(5)
    up = ConditioningUpsampler(3, hop_length=5, kernel_size=3, num_layers=2, hidden_channels=4)
    with torch.no_grad():
        for conv in up.res_out:  # zero at initialisation: make the blocks matter
            conv.weight.normal_(0.0, 0.5)
            conv.bias.normal_(0.0, 0.5)
    up = up.double()
    mel = torch.randn(2, 3, 7, dtype=torch.float64)
    lengths = torch.tensor([7, 4])
    batched = up(mel, mel_lengths=lengths)
    alone = up(mel[1:, :, :4])
    torch.testing.assert_close(batched[1:, :, :20], alone, rtol=1e-12, atol=1e-12)
    plain = ConditioningUpsampler(3, hop_length=5, kernel_size=3).double()
    plain.frame_conv.load_state_dict(up.frame_conv.state_dict())
    assert (up(mel) - plain(mel)).abs().max() > 1e-3  # the blocks change the features


def test_residual_upsampler_starts_as_the_plain_conv():
    torch.manual_seed(6)
    up = ConditioningUpsampler(3, hop_length=4, kernel_size=3, num_layers=3).double()
    plain = ConditioningUpsampler(3, hop_length=4, kernel_size=3).double()
    plain.frame_conv.load_state_dict(up.frame_conv.state_dict())
    mel = torch.randn(2, 3, 6, dtype=torch.float64)
    torch.testing.assert_close(up(mel), plain(mel), rtol=0, atol=0)
    conv3, conv1 = 3 * 3 * 3 + 3, 3 * 3 + 3  # weights + biases of a 3-frame and a 1x1 conv
    assert sum(p.numel() for p in up.parameters()) == conv3 + 3 * (conv3 + conv1)
    assert len(list(up.parameters())) == 2 + 3 * 4


def test_bad_block_arguments():
    with pytest.raises(ParameterError, match="dilation"):
        CausalConv1d(2, 2, kernel_size=2, dilation=0)
    with pytest.raises(ParameterError, match="gate_channels"):
        GatedResidualBlock(residual_channels=2, gate_channels=5, skip_channels=2)
    with pytest.raises(ParameterError, match="interpolation"):
        upsample_frames(torch.zeros(1, 1, 2), hop_length=2, interpolation="cubic")
    with pytest.raises(ParameterError, match="hop_length"):
        ConditioningUpsampler(2, hop_length=0)
    with pytest.raises(ParameterError, match="num_layers=2 needs kernel_size"):
        ConditioningUpsampler(2, hop_length=2, kernel_size=0, num_layers=2)
    with pytest.raises(ParameterError, match="hidden_channels"):
        ConditioningUpsampler(2, hop_length=2, num_layers=1, hidden_channels=0)
    block = GatedResidualBlock(
        residual_channels=2, gate_channels=4, skip_channels=2, cond_channels=1
    )
    with pytest.raises(ParameterError, match="cond"):
        block(torch.zeros(1, 2, 3))
