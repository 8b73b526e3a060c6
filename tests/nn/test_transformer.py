"""Transformer layers against torch.nn.TransformerEncoderLayer / DecoderLayer (copied weights,
float64), cached decoding == full recomputation, positional encodings."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from synesthesia.errors import ParameterError
from synesthesia.functional import lengths_to_mask
from synesthesia.nn import (
    LearnedPositionalEncoding,
    SinusoidalPositionalEncoding,
    SinusoidalPositionalEncoding2D,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
    sinusoidal_positional_encoding,
)

D64 = torch.float64
TOL = dict(rtol=1e-6, atol=1e-6)


def _copy_attention(ours, ref):
    ref_attn = ref
    if ref_attn._qkv_same_embed_dim:
        ref_attn.in_proj_weight.copy_(
            torch.cat([ours.q_proj.weight, ours.k_proj.weight, ours.v_proj.weight])
        )
    else:
        ref_attn.q_proj_weight.copy_(ours.q_proj.weight)
        ref_attn.k_proj_weight.copy_(ours.k_proj.weight)
        ref_attn.v_proj_weight.copy_(ours.v_proj.weight)
    ref_attn.in_proj_bias.copy_(torch.cat([ours.q_proj.bias, ours.k_proj.bias, ours.v_proj.bias]))
    ref_attn.out_proj.weight.copy_(ours.out_proj.weight)
    ref_attn.out_proj.bias.copy_(ours.out_proj.bias)


def _randomize(module):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn_like(p) * 0.3)


@pytest.mark.parametrize("norm_first", [True, False])
@pytest.mark.parametrize("activation", ["gelu", "relu"])
def test_encoder_layer_matches_torch(norm_first, activation):
    torch.manual_seed(0)
    kw = dict(dropout=0.0, activation=activation, norm_first=norm_first)
    ours = TransformerEncoderLayer(16, 4, ff_dim=24, **kw).double()
    ref = nn.TransformerEncoderLayer(16, 4, dim_feedforward=24, batch_first=True, **kw).double()
    _randomize(ours)
    with torch.no_grad():
        _copy_attention(ours.self_attn, ref.self_attn)
        for name in ("linear1", "linear2", "norm1", "norm2"):
            getattr(ref, name).load_state_dict(getattr(ours, name).state_dict())
    x = torch.randn(3, 6, 16, dtype=D64, requires_grad=True)
    lengths = torch.tensor([6, 4, 2])
    future = torch.triu(torch.ones(6, 6, dtype=torch.bool), diagonal=1)
    ours.train(), ref.train()  # dropout is 0; training mode keeps torch off its fast path
    out = ours(x, lengths=lengths, causal=True)
    ref_out = ref(x, src_mask=future, src_key_padding_mask=~lengths_to_mask(lengths))
    torch.testing.assert_close(out, ref_out, **TOL)
    (g,) = torch.autograd.grad(out.square().sum(), x)
    (ref_g,) = torch.autograd.grad(ref_out.square().sum(), x)
    torch.testing.assert_close(g, ref_g, **TOL)


@pytest.mark.parametrize("norm_first", [True, False])
def test_decoder_layer_matches_torch(norm_first):
    torch.manual_seed(1)
    kw = dict(dropout=0.0, activation="relu", norm_first=norm_first)
    ours = TransformerDecoderLayer(16, 4, ff_dim=24, **kw).double()
    ref = nn.TransformerDecoderLayer(16, 4, dim_feedforward=24, batch_first=True, **kw).double()
    _randomize(ours)
    with torch.no_grad():
        _copy_attention(ours.self_attn, ref.self_attn)
        _copy_attention(ours.cross_attn, ref.multihead_attn)
        for name in ("linear1", "linear2", "norm1", "norm2", "norm3"):
            getattr(ref, name).load_state_dict(getattr(ours, name).state_dict())
    x = torch.randn(3, 5, 16, dtype=D64, requires_grad=True)
    memory = torch.randn(3, 7, 16, dtype=D64, requires_grad=True)
    memory_lengths = torch.tensor([7, 3, 5])
    future = torch.triu(torch.ones(5, 5, dtype=torch.bool), diagonal=1)
    out = ours(x, memory, memory_lengths=memory_lengths, causal=True)
    ref_out = ref(
        x, memory, tgt_mask=future, memory_key_padding_mask=~lengths_to_mask(memory_lengths)
    )
    torch.testing.assert_close(out, ref_out, **TOL)
    grads = torch.autograd.grad(out.square().sum(), (x, memory))
    ref_grads = torch.autograd.grad(ref_out.square().sum(), (x, memory))
    for a, b in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(a, b, **TOL)


def test_decoder_cached_equals_full_and_returns_cross_weights():
    torch.manual_seed(2)
    decoder = TransformerDecoder(2, 16, 4, memory_dim=10, ff_dim=32, dropout=0.0).double().eval()
    x = torch.randn(2, 9, 16, dtype=D64)
    memory = torch.randn(2, 6, 10, dtype=D64)
    memory_lengths = torch.tensor([6, 4])
    with torch.no_grad():
        full, weights = decoder(x, memory, memory_lengths=memory_lengths, need_weights=True)
        cache = decoder.new_cache(2, 9)
        steps = [decoder(x[:, :3], memory, memory_lengths=memory_lengths, cache=cache)]
        steps += [decoder(x[:, i : i + 1], None, cache=cache) for i in range(3, 9)]
    torch.testing.assert_close(torch.cat(steps, 1), full, rtol=1e-10, atol=1e-10)
    assert cache.length == 9
    assert len(weights) == 2 and weights[0].shape == (2, 9, 6)
    assert (weights[1][1, :, 4:] == 0).all()


def test_encoder_stack_cached_causal_equals_full_and_batched_equals_per_item():
    torch.manual_seed(3)
    encoder = TransformerEncoder(2, 16, 2, dropout=0.0, norm_first=False).double().eval()
    assert encoder.norm is None
    x = torch.randn(2, 8, 16, dtype=D64)
    with torch.no_grad():
        full = encoder(x, causal=True)
        cache = encoder.new_cache(2, 8)
        steps = [encoder(x[:, i : i + 1], causal=True, cache=cache) for i in range(8)]
        torch.testing.assert_close(torch.cat(steps, 1), full, rtol=1e-10, atol=1e-10)
        lengths = torch.tensor([8, 5])
        padded = encoder(x, lengths=lengths)
        single = encoder(x[1:, :5])
    torch.testing.assert_close(padded[1:, :5], single, rtol=1e-10, atol=1e-10)


def test_stacks_make_each_padding_mask_once_and_give_every_layer_the_same(monkeypatch):
    import synesthesia.nn.attention as attention_module

    calls = []
    original = attention_module.lengths_to_mask

    def counting(lengths, **kwargs):
        calls.append(lengths)
        return original(lengths, **kwargs)

    monkeypatch.setattr(attention_module, "lengths_to_mask", counting)
    torch.manual_seed(4)
    x = torch.randn(2, 6, 16, dtype=D64)
    memory = torch.randn(2, 5, 10, dtype=D64)
    lengths, memory_lengths = torch.tensor([6, 4]), torch.tensor([5, 2])
    encoder = TransformerEncoder(3, 16, 2, dropout=0.0).double().eval()
    with torch.no_grad():
        from_lengths = encoder(x, lengths=lengths)
        assert len(calls) == 1  # once for the stack, not once per layer
        from_mask = encoder(x, padding_mask=lengths_to_mask(lengths))
    torch.testing.assert_close(from_lengths, from_mask, rtol=0, atol=0)
    calls.clear()
    decoder = TransformerDecoder(3, 16, 2, memory_dim=10, dropout=0.0).double().eval()
    with torch.no_grad():
        from_lengths = decoder(x, memory, lengths=lengths, memory_lengths=memory_lengths)
        assert len(calls) == 2  # self-attention keys and memory, once each
        from_masks = decoder(
            x,
            memory,
            padding_mask=lengths_to_mask(lengths),
            memory_padding_mask=lengths_to_mask(memory_lengths),
        )
    torch.testing.assert_close(from_lengths, from_masks, rtol=0, atol=0)
    with pytest.raises(ParameterError, match="not both"):
        encoder(x, lengths=lengths, padding_mask=lengths_to_mask(lengths))


def test_sinusoidal_encoding_matches_the_formula():
    length, dim = 11, 8
    pe = sinusoidal_positional_encoding(length, dim, offset=3, dtype=D64).numpy()
    expected = np.zeros((length, dim))
    for pos in range(length):
        for i in range(dim // 2):
            angle = (pos + 3) / 10000 ** (2 * i / dim)
            expected[pos, 2 * i] = math.sin(angle)
            expected[pos, 2 * i + 1] = math.cos(angle)
    np.testing.assert_allclose(pe, expected, rtol=0, atol=1e-12)
    module = SinusoidalPositionalEncoding(8)
    x = torch.zeros(2, 11, 8, dtype=D64)
    torch.testing.assert_close(module(x, offset=3)[0], torch.from_numpy(expected))


def test_2d_encoding_splits_channels_between_rows_and_columns():
    module = SinusoidalPositionalEncoding2D(8)
    out = module(torch.zeros(1, 6, 8, dtype=D64), height=2, width=3)[0]  # (P, D)
    rows = sinusoidal_positional_encoding(2, 4, dtype=D64)
    cols = sinusoidal_positional_encoding(3, 4, dtype=D64)
    for y in range(2):
        for x in range(3):
            torch.testing.assert_close(out[y * 3 + x, :4], rows[y])
            torch.testing.assert_close(out[y * 3 + x, 4:], cols[x])
    with pytest.raises(ParameterError, match="height=2 × width=2"):
        module(torch.zeros(1, 6, 8), height=2, width=2)
    with pytest.raises(ParameterError, match="embed_dim=6 must be a positive multiple of 4"):
        SinusoidalPositionalEncoding2D(6)


def test_learned_encoding_offsets_and_limits():
    module = LearnedPositionalEncoding(10, 4)
    x = torch.zeros(1, 3, 4)
    torch.testing.assert_close(module(x, offset=2)[0], module.embedding.weight[2:5])
    with pytest.raises(ParameterError, match="max_length=10"):
        module(torch.zeros(1, 4, 4), offset=7)


def test_layer_errors():
    with pytest.raises(ParameterError, match="activation='tanh'"):
        TransformerEncoderLayer(8, 2, activation="tanh")
    with pytest.raises(ParameterError, match="num_layers=0"):
        TransformerEncoder(0, 8, 2)
    with pytest.raises(ParameterError, match="embed_dim=9 must be divisible by num_heads=2"):
        TransformerDecoderLayer(9, 2)
    layer = TransformerDecoderLayer(8, 2)
    with pytest.raises(ParameterError, match="memory=None"):
        layer(torch.zeros(1, 2, 8), None)


def test_cache_reorder_follows_rows_like_decoding_the_reordered_batch():
    """Reordering (and expanding) a decoder cache == having decoded the reordered batch."""
    torch.manual_seed(3)
    decoder = TransformerDecoder(2, 16, 4, memory_dim=10, ff_dim=32, dropout=0.0).double().eval()
    x = torch.randn(3, 5, 16, dtype=D64)
    memory = torch.randn(3, 6, 10, dtype=D64)
    rows = torch.tensor([2, 0, 0, 1, 2])  # B' = 5 > B = 3: expand and permute
    with torch.no_grad():
        cache = decoder.new_cache(3, 8)
        decoder(x[:, :3], memory, cache=cache)
        cache.reorder(rows)
        moved = decoder(x[rows, 3:], None, cache=cache)
        again = decoder.new_cache(5, 8)
        decoder(x[rows, :3], memory[rows], cache=again)
        fresh = decoder(x[rows, 3:], None, cache=again)
        same = torch.tensor([4, 3, 2, 1, 0])  # same batch size: in place
        cache.reorder(same)
        again.reorder(same)
        step = x[rows][same, 4:]
        torch.testing.assert_close(
            decoder(step, None, cache=cache), decoder(step, None, cache=again), rtol=0, atol=1e-12
        )
    torch.testing.assert_close(moved, fresh, rtol=1e-12, atol=1e-12)
    assert cache.length == 6 and cache.self_attention[0].keys.shape[0] == 5


def test_decoder_weights_per_head_and_from_one_layer():
    torch.manual_seed(4)
    decoder = TransformerDecoder(3, 16, 4, ff_dim=32, dropout=0.0).double().eval()
    x, memory = torch.randn(2, 5, 16, dtype=D64), torch.randn(2, 7, 16, dtype=D64)
    with torch.no_grad():
        out, every = decoder(x, memory, need_weights=True, average_attn_weights=False)
        only, one = decoder(
            x, memory, need_weights=True, average_attn_weights=False, weights_layer=-1
        )
        _, averaged = decoder(x, memory, need_weights=True)
    assert every[2].shape == (2, 4, 5, 7)
    torch.testing.assert_close(every[2].mean(dim=1), averaged[2])
    assert one[0] is None and one[1] is None
    torch.testing.assert_close(one[2], every[2], rtol=0, atol=1e-12)
    torch.testing.assert_close(only, out, rtol=1e-12, atol=1e-12)  # fused layers, same output
    with pytest.raises(ParameterError, match="weights_layer=3"):
        decoder(x, memory, need_weights=True, weights_layer=3)


def test_head_dropout_drops_whole_heads_in_training_only():
    from synesthesia.nn import MultiHeadAttention

    torch.manual_seed(5)
    attention = MultiHeadAttention(8, 4, head_dropout=0.5).double()
    query, memory = torch.randn(64, 3, 8, dtype=D64), torch.randn(64, 5, 8, dtype=D64)
    with torch.no_grad():
        attention.out_proj.weight.copy_(torch.eye(8, dtype=D64))
        attention.out_proj.bias.zero_()
        attention.eval()
        plain, _ = attention(query, memory)
        attention.train()
        dropped, _ = attention(query, memory)
    heads = dropped.view(64, 3, 4, 2)  # (B, L, H, D_h): the identity output keeps heads apart
    reference = plain.view(64, 3, 4, 2)
    zero = (heads == 0).all(dim=(1, 3))  # (B, H): a head is dropped for the whole sequence
    assert 0.3 < float(zero.double().mean()) < 0.7
    kept = heads.permute(0, 2, 1, 3)[~zero]  # (kept, L, D_h)
    torch.testing.assert_close(kept, 2.0 * reference.permute(0, 2, 1, 3)[~zero])
    with pytest.raises(ParameterError, match="head_dropout=1.0"):
        MultiHeadAttention(8, 4, head_dropout=1.0)
