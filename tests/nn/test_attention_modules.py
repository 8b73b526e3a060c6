"""MultiHeadAttention against torch.nn.MultiheadAttention (copied weights, float64), the
fused vs plain paths, the KV cache, batching, properties and errors; AdditiveAttention."""

import pytest
import torch
from torch import nn

from synesthesia.errors import ParameterError
from synesthesia.functional import lengths_to_mask
from synesthesia.nn import AdditiveAttention, KVCache, MultiHeadAttention, StaticKVCache

D64 = torch.float64
TOL = dict(rtol=1e-6, atol=1e-6)


def _pair(embed_dim=16, num_heads=4, kdim=None, vdim=None, bias=True, seed=0):
    """Our module and torch's with the same weights, float64."""
    torch.manual_seed(seed)
    ours = MultiHeadAttention(embed_dim, num_heads, kdim=kdim, vdim=vdim, bias=bias).double()
    ref = nn.MultiheadAttention(
        embed_dim, num_heads, kdim=kdim, vdim=vdim, bias=bias, batch_first=True, dropout=0.0
    ).double()
    with torch.no_grad():
        for p in ours.parameters():  # non-trivial biases too
            p.copy_(torch.randn_like(p) * 0.3)
        if ref._qkv_same_embed_dim:
            ref.in_proj_weight.copy_(
                torch.cat([ours.q_proj.weight, ours.k_proj.weight, ours.v_proj.weight])
            )
        else:
            ref.q_proj_weight.copy_(ours.q_proj.weight)
            ref.k_proj_weight.copy_(ours.k_proj.weight)
            ref.v_proj_weight.copy_(ours.v_proj.weight)
        if bias:
            ref.in_proj_bias.copy_(
                torch.cat([ours.q_proj.bias, ours.k_proj.bias, ours.v_proj.bias])
            )
            ref.out_proj.bias.copy_(ours.out_proj.bias)
        ref.out_proj.weight.copy_(ours.out_proj.weight)
    return ours, ref


def _inputs(batch=3, length_q=5, length_k=7, embed_dim=16, kdim=16, vdim=16, seed=1):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(batch, length_q, embed_dim, generator=g, dtype=D64, requires_grad=True)
    k = torch.randn(batch, length_k, kdim, generator=g, dtype=D64, requires_grad=True)
    v = torch.randn(batch, length_k, vdim, generator=g, dtype=D64, requires_grad=True)
    return q, k, v


def _check(ours_out, ref_out, inputs):
    torch.testing.assert_close(ours_out, ref_out, **TOL)
    ours_grads = torch.autograd.grad(ours_out.square().sum(), inputs, retain_graph=True)
    ref_grads = torch.autograd.grad(ref_out.square().sum(), inputs, retain_graph=True)
    for a, b in zip(ours_grads, ref_grads, strict=True):
        torch.testing.assert_close(a, b, **TOL)


@pytest.mark.parametrize("need_weights", [False, True])
def test_self_attention_matches_torch(need_weights):
    ours, ref = _pair()
    x, _, _ = _inputs(length_q=6)
    out, _ = ours(x, need_weights=need_weights)
    ref_out, _ = ref(x, x, x, need_weights=False)
    _check(out, ref_out, (x,))


@pytest.mark.parametrize("need_weights", [False, True])
def test_cross_attention_with_other_kdim_vdim_and_key_padding_matches_torch(need_weights):
    ours, ref = _pair(kdim=12, vdim=20)
    q, k, v = _inputs(kdim=12, vdim=20)
    lengths = torch.tensor([7, 3, 5])
    valid = lengths_to_mask(lengths, max_length=7)
    ref_out, ref_w = ref(q, k, v, key_padding_mask=~valid, need_weights=True)
    for kwargs in ({"key_lengths": lengths}, {"key_padding_mask": valid}):
        out, w = ours(q, k, v, need_weights=need_weights, **kwargs)
        _check(out, ref_out, (q, k, v))
        if need_weights:
            torch.testing.assert_close(w, ref_w, **TOL)


@pytest.mark.parametrize("need_weights", [False, True])
def test_boolean_and_float_attention_masks_match_torch(need_weights):
    ours, ref = _pair()
    q, k, v = _inputs()
    g = torch.Generator().manual_seed(5)
    allowed = torch.rand(5, 7, generator=g) > 0.4
    allowed[:, 0] = True
    out, _ = ours(q, k, v, attn_mask=allowed, need_weights=need_weights)
    ref_out, _ = ref(q, k, v, attn_mask=~allowed, need_weights=False)  # torch: True = ignore
    _check(out, ref_out, (q, k, v))
    additive = torch.randn(5, 7, generator=g, dtype=D64)
    out, _ = ours(q, k, v, attn_mask=additive, need_weights=need_weights)
    ref_out, _ = ref(q, k, v, attn_mask=additive, need_weights=False)
    _check(out, ref_out, (q, k, v))
    # per-batch 3-D mask (B, L_q, L_k) vs torch's (B·H, L_q, L_k)
    per_item = torch.rand(3, 5, 7, generator=g) > 0.4
    per_item[..., 0] = True
    out, _ = ours(q, k, v, attn_mask=per_item, need_weights=need_weights)
    ref_mask = (~per_item).repeat_interleave(4, dim=0)
    ref_out, _ = ref(q, k, v, attn_mask=ref_mask, need_weights=False)
    _check(out, ref_out, (q, k, v))


@pytest.mark.parametrize("need_weights", [False, True])
def test_causal_with_padding_matches_torch(need_weights):
    ours, ref = _pair()
    x, _, _ = _inputs(length_q=6)
    lengths = torch.tensor([6, 4, 2])
    future = torch.triu(torch.ones(6, 6, dtype=torch.bool), diagonal=1)  # torch: True = ignore
    out, _ = ours(x, causal=True, key_lengths=lengths, need_weights=need_weights)
    ref_out, _ = ref(
        x, x, x, attn_mask=future, key_padding_mask=~lengths_to_mask(lengths), need_weights=False
    )
    _check(out, ref_out, (x,))


def test_averaged_and_per_head_weights_match_torch():
    ours, ref = _pair()
    q, k, v = _inputs()
    valid = lengths_to_mask(torch.tensor([7, 2, 6]), max_length=7)
    out, w_avg = ours(q, k, v, key_padding_mask=valid, need_weights=True)
    _, w_heads = ours(
        q, k, v, key_padding_mask=valid, need_weights=True, average_attn_weights=False
    )
    _, ref_avg = ref(q, k, v, key_padding_mask=~valid, need_weights=True)
    _, ref_heads = ref(q, k, v, key_padding_mask=~valid, average_attn_weights=False)
    assert w_avg.shape == (3, 5, 7) and w_heads.shape == (3, 4, 5, 7)
    torch.testing.assert_close(w_avg, ref_avg, **TOL)
    torch.testing.assert_close(w_heads, ref_heads, **TOL)
    torch.testing.assert_close(w_heads.sum(-1), torch.ones(3, 4, 5, dtype=D64))
    assert (w_heads[1, :, :, 2:] == 0).all()


def test_without_bias_matches_torch():
    ours, ref = _pair(bias=False)
    x, _, _ = _inputs()
    _check(ours(x)[0], ref(x, x, x, need_weights=False)[0], (x,))


def test_fused_path_equals_plain_path_including_fully_masked_rows():
    ours, _ = _pair()
    q, k, v = _inputs()
    g = torch.Generator().manual_seed(9)
    mask = torch.rand(3, 5, 7, generator=g) > 0.5
    mask[0, 2] = False  # a row with no key at all
    cases = [
        dict(),
        dict(key_lengths=torch.tensor([7, 0, 3])),  # item 1 has no key
        dict(attn_mask=mask),
        dict(attn_mask=torch.zeros(3, 5, 7, dtype=D64).masked_fill(~mask, float("-inf"))),
        dict(causal=True),  # L_q < L_k: lower-right aligned
        dict(causal=True, key_lengths=torch.tensor([7, 1, 4])),
    ]
    for kwargs in cases:
        fused, _ = ours(q, k, v, need_weights=False, **kwargs)
        plain, _ = ours(q, k, v, need_weights=True, **kwargs)
        torch.testing.assert_close(fused, plain, rtol=1e-10, atol=1e-10, msg=str(kwargs))
        grads_fused = torch.autograd.grad(fused.square().sum(), (q, k, v))
        grads_plain = torch.autograd.grad(plain.square().sum(), (q, k, v))
        for a, b in zip(grads_fused, grads_plain, strict=True):
            assert torch.isfinite(a).all(), kwargs
            torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-10, msg=str(kwargs))


def test_fused_path_equals_plain_path_for_causal_self_attention_without_a_mask():
    # issue #21: with need_weights=True and no other mask the plain path used to drop causality
    ours, _ = _pair()
    x = _inputs(length_q=6, length_k=6)[0]
    fused, _ = ours(x, causal=True, need_weights=False)
    plain, weights = ours(x, causal=True, need_weights=True, average_attn_weights=False)
    torch.testing.assert_close(fused, plain, rtol=1e-10, atol=1e-10)
    assert (weights.triu(diagonal=1) == 0).all()


def test_fully_masked_item_gives_bias_only_output_and_finite_gradients():
    ours, _ = _pair()
    q, k, v = _inputs()
    for need_weights in (False, True):
        out, _ = ours(q, k, v, key_lengths=torch.tensor([7, 0, 3]), need_weights=need_weights)
        torch.testing.assert_close(out[1], ours.out_proj.bias.expand(5, 16), rtol=0, atol=0)
        for grad in torch.autograd.grad(out.sum(), (q, k, v)):
            assert torch.isfinite(grad).all()


def test_self_attention_without_positions_is_permutation_equivariant():
    ours, _ = _pair()
    x, _, _ = _inputs(length_q=8)
    perm = torch.randperm(8, generator=torch.Generator().manual_seed(4))
    out, _ = ours(x)
    out_perm, _ = ours(x[:, perm])
    torch.testing.assert_close(out_perm, out[:, perm], rtol=1e-10, atol=1e-10)


def test_batched_with_padding_equals_per_item():
    ours, _ = _pair(kdim=12, vdim=20)
    q, k, v = _inputs(kdim=12, vdim=20)
    lengths = torch.tensor([7, 3, 5])
    out, _ = ours(q, k, v, key_lengths=lengths)
    for b in range(3):
        n = int(lengths[b])
        single, _ = ours(q[b : b + 1], k[b : b + 1, :n], v[b : b + 1, :n])
        torch.testing.assert_close(out[b : b + 1], single, rtol=1e-10, atol=1e-10)


def test_kv_cache_incremental_equals_full_causal():
    ours, _ = _pair()
    x, _, _ = _inputs(length_q=12)
    with torch.no_grad():
        full, _ = ours(x, causal=True)
        cache = ours.new_cache(3, 12)
        assert isinstance(cache, KVCache) and cache.keys.dtype == D64
        steps = [ours(x[:, :4], causal=True, cache=cache)[0]]
        steps += [ours(x[:, i : i + 1], causal=True, cache=cache)[0] for i in range(4, 10)]
        steps.append(ours(x[:, 10:], causal=True, cache=cache)[0])  # two at once
        storage = cache.keys.data_ptr()
    torch.testing.assert_close(torch.cat(steps, 1), full, rtol=1e-10, atol=1e-10)
    assert cache.length == 12 and cache.keys.data_ptr() == storage  # no reallocation
    with pytest.raises(ParameterError, match="cache overflow"):
        ours(x[:, :1], causal=True, cache=cache)


def test_kv_cache_with_a_left_padding_mask_equals_full_causal():
    ours, _ = _pair()
    x, _, _ = _inputs(length_q=6)
    valid = torch.ones(3, 6, dtype=torch.bool)
    valid[1, :2] = False  # item 1: two pad tokens on the left
    with torch.no_grad():
        full, _ = ours(x, causal=True, key_padding_mask=valid)
        cache = ours.new_cache(3, 6)
        steps = [ours(x[:, :3], causal=True, cache=cache, key_padding_mask=valid[:, :3])[0]]
        for i in range(3, 6):
            step, _ = ours(
                x[:, i : i + 1], causal=True, cache=cache, key_padding_mask=valid[:, : i + 1]
            )
            steps.append(step)
    torch.testing.assert_close(torch.cat(steps, 1), full, rtol=1e-10, atol=1e-10)
    partial_cache = ours.new_cache(3, 6)
    # after 3 cached keys, a mask for the 4th step must cover 4 keys, not only the new one
    with torch.no_grad():
        ours(x[:, :3], causal=True, cache=partial_cache)
        with pytest.raises(ParameterError, match="key_padding_mask with shape \\(3, 1\\)"):
            ours(x[:, 3:4], causal=True, cache=partial_cache, key_padding_mask=valid[:, 3:4])


def test_static_kv_cache_for_cross_attention():
    ours, _ = _pair(kdim=12, vdim=20)
    q, k, v = _inputs(kdim=12, vdim=20)
    lengths = torch.tensor([7, 3, 5])
    with torch.no_grad():
        full, _ = ours(q, k, v, key_lengths=lengths)
        cache = StaticKVCache()
        first, _ = ours(q[:, :2], k, v, key_lengths=lengths, cache=cache, static_kv=True)
        assert cache.is_set
        rest, _ = ours(q[:, 2:], None, None, cache=cache, static_kv=True)
    torch.testing.assert_close(torch.cat([first, rest], 1), full, rtol=1e-12, atol=1e-12)


def test_bad_arguments_raise_parameter_error():
    with pytest.raises(ParameterError, match="embed_dim=10 must be divisible by num_heads=4"):
        MultiHeadAttention(10, 4)
    with pytest.raises(ParameterError, match="num_heads=0"):
        MultiHeadAttention(8, 0)
    with pytest.raises(ParameterError, match="dropout=1.5"):
        MultiHeadAttention(8, 2, dropout=1.5)
    ours, _ = _pair()
    q, k, v = _inputs()
    with pytest.raises(ParameterError, match="query with shape \\(3, 5, 8\\)"):
        ours(torch.randn(3, 5, 8, dtype=D64))
    with pytest.raises(ParameterError, match="key with shape \\(3, 7, 12\\)"):
        ours(q, torch.randn(3, 7, 12, dtype=D64), v)
    with pytest.raises(ParameterError, match="key batch size 2"):
        ours(q, k[:2], v[:2])
    with pytest.raises(ParameterError, match="empty sequence"):
        ours(q, k[:, :0], v[:, :0])
    with pytest.raises(ParameterError, match="attn_mask with shape \\(5, 6\\)"):
        ours(q, k, v, attn_mask=torch.ones(5, 6, dtype=torch.bool))
    with pytest.raises(ParameterError, match="attn_mask dtype=torch.int64"):
        ours(q, k, v, attn_mask=torch.ones(5, 7, dtype=torch.long))
    with pytest.raises(ParameterError, match="key_padding_mask dtype=torch.float64"):
        ours(q, k, v, key_padding_mask=torch.ones(3, 7, dtype=D64))
    with pytest.raises(ParameterError, match="key_padding_mask with shape \\(3, 6\\)"):
        ours(q, k, v, key_padding_mask=torch.ones(3, 6, dtype=torch.bool))
    with pytest.raises(ParameterError, match="key_lengths or key_padding_mask"):
        ours(q, k, v, key_lengths=torch.tensor([1, 2, 3]), key_padding_mask=torch.ones(3, 7).bool())
    with pytest.raises(ParameterError, match="lengths max=9"):
        ours(q, k, v, key_lengths=torch.tensor([1, 9, 3]))


# -- additive attention ----------------------------------------------------------------------


def _additive_reference(module, annotations, state, mask):
    """Written out per region with explicit weights (independent of the module's code path)."""
    batch, regions, _ = annotations.shape
    scores = torch.empty(batch, regions, dtype=annotations.dtype)
    for b in range(batch):
        for p in range(regions):
            hidden = torch.tanh(
                module.annotation_proj.weight @ annotations[b, p]
                + module.annotation_proj.bias
                + module.state_proj.weight @ state[b]
            )
            scores[b, p] = module.score.weight[0] @ hidden
    scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return (weights.unsqueeze(-1) * annotations).sum(1), weights


def test_additive_attention_matches_the_formula_and_masks():
    torch.manual_seed(0)
    module = AdditiveAttention(encoder_dim=6, decoder_dim=5, attention_dim=7).double()
    annotations = torch.randn(3, 4, 6, dtype=D64, requires_grad=True)
    state = torch.randn(3, 5, dtype=D64, requires_grad=True)
    mask = lengths_to_mask(torch.tensor([4, 2, 3]), max_length=4)
    context, weights = module(annotations, state, mask=mask)
    ref_context, ref_weights = _additive_reference(module, annotations, state, mask)
    torch.testing.assert_close(context, ref_context, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(weights, ref_weights, rtol=1e-10, atol=1e-12)
    assert (weights[1, 2:] == 0).all()
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, dtype=D64))
    projected = module.project_annotations(annotations)
    again, _ = module(annotations, state, mask=mask, projected=projected)
    torch.testing.assert_close(again, context, rtol=0, atol=0)
    context.square().sum().backward()
    assert all(p.grad is not None for p in module.parameters())
    empty = torch.zeros(3, 4, dtype=torch.bool)
    zero_context, zero_weights = module(annotations, state, mask=empty)
    assert (zero_context == 0).all() and (zero_weights == 0).all()
    grads = torch.autograd.grad(zero_context.sum() + zero_weights.sum(), (annotations, state))
    assert all(torch.isfinite(g).all() for g in grads)


def test_additive_attention_errors():
    with pytest.raises(ParameterError, match="attention_dim=0"):
        AdditiveAttention(encoder_dim=4, decoder_dim=4, attention_dim=0)
    module = AdditiveAttention(encoder_dim=6, decoder_dim=5, attention_dim=7)
    with pytest.raises(ParameterError, match="annotations with shape \\(2, 4, 5\\)"):
        module(torch.randn(2, 4, 5), torch.randn(2, 5))
    with pytest.raises(ParameterError, match="state with shape \\(2, 6\\)"):
        module(torch.randn(2, 4, 6), torch.randn(2, 6))
    with pytest.raises(ParameterError, match="mask with shape \\(2, 4\\) and dtype=torch.float32"):
        module(torch.randn(2, 4, 6), torch.randn(2, 5), mask=torch.ones(2, 4))
    with pytest.raises(ParameterError, match="empty sequence"):
        module(torch.randn(2, 0, 6), torch.randn(2, 5))
