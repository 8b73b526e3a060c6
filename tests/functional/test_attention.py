"""scaled_dot_product_attention (plain path) against torch's SDPA, masks and properties."""

import pytest
import torch
import torch.nn.functional as F

from synesthesia.errors import ParameterError
from synesthesia.functional import (
    attend,
    causal_mask,
    combine_masks,
    lengths_to_mask,
    masked_softmax,
    scaled_dot_product_attention,
)

D64 = torch.float64


def _qkv(batch=2, heads=3, length_q=5, length_k=7, dim=4, value_dim=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(batch, heads, length_q, dim, generator=g, dtype=D64, requires_grad=True)
    k = torch.randn(batch, heads, length_k, dim, generator=g, dtype=D64, requires_grad=True)
    v = torch.randn(batch, heads, length_k, value_dim, generator=g, dtype=D64, requires_grad=True)
    return q, k, v


def _grads(out, *inputs):
    return torch.autograd.grad(out.square().sum(), inputs)


@pytest.mark.parametrize("mask_kind", ["none", "bool", "float"])
@pytest.mark.parametrize("scale", [None, 0.3])
def test_matches_torch_sdpa_outputs_and_gradients(mask_kind, scale):
    q, k, v = _qkv()
    g = torch.Generator().manual_seed(1)
    mask = None
    if mask_kind == "bool":
        mask = torch.rand(2, 1, 5, 7, generator=g) > 0.3
        mask[..., 0] = True  # no fully masked row (torch gives NaN there)
    elif mask_kind == "float":
        mask = torch.randn(2, 3, 5, 7, generator=g, dtype=D64)
    ours = scaled_dot_product_attention(
        q, k, v, mask=mask, causal=False, dropout_p=0.0, scale=scale
    )
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=0.0, scale=scale)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-12)
    for a, b in zip(_grads(ours, q, k, v), _grads(ref, q, k, v)):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_causal_matches_torch_when_lengths_are_equal():
    q, k, v = _qkv(length_q=6, length_k=6)
    ours = scaled_dot_product_attention(q, k, v, causal=True, dropout_p=0.0, scale=None)
    ref = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=0.0, scale=None)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-12)


def test_causal_is_aligned_lower_right_for_cached_queries():
    # the last 3 queries of a causal 8x8 attention == 3 queries against all 8 keys
    q, k, v = _qkv(length_q=8, length_k=8)
    full = scaled_dot_product_attention(q, k, v, causal=True)
    tail = scaled_dot_product_attention(q[:, :, -3:], k, v, causal=True)
    torch.testing.assert_close(tail, full[:, :, -3:], rtol=1e-12, atol=1e-12)
    assert causal_mask(2, 4).tolist() == [[True, True, True, False], [True, True, True, True]]
    assert causal_mask(3, 2).tolist() == [[False, False], [True, False], [True, True]]


def test_weights_rows_sum_to_one_and_masked_keys_get_zero():
    q, k, v = _qkv()
    mask = lengths_to_mask(torch.tensor([4, 7]), max_length=7)[:, None, None, :]  # (B,1,1,L_k)
    out, weights = scaled_dot_product_attention(q, k, v, mask=mask, return_weights=True)
    assert weights.shape == (2, 3, 5, 7)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3, 5, dtype=D64))
    assert (weights[0, :, :, 4:] == 0).all()
    torch.testing.assert_close(out, weights @ v, rtol=1e-12, atol=1e-12)


def test_fully_masked_rows_give_zero_output_zero_weights_and_finite_gradients():
    q, k, v = _qkv(length_q=4, length_k=3)
    mask = torch.ones(2, 1, 4, 3, dtype=torch.bool)
    mask[0, :, 1] = False  # row 1 of item 0 sees no key
    for m in (mask, torch.zeros(2, 1, 4, 3, dtype=D64).masked_fill(~mask, float("-inf"))):
        out, weights = scaled_dot_product_attention(q, k, v, mask=m, return_weights=True)
        assert (out[0, :, 1] == 0).all() and (weights[0, :, 1] == 0).all()
        assert torch.isfinite(out).all()
        for grad in _grads(out, q, k, v):
            assert torch.isfinite(grad).all()
    # causal with L_q > L_k: the first query sees nothing
    out = scaled_dot_product_attention(q, k, v, causal=True)
    assert (out[:, :, 0] == 0).all() and torch.isfinite(out).all()


def test_dropout_uses_the_generator_and_keeps_the_expectation_shape():
    q, k, v = _qkv()
    a = scaled_dot_product_attention(
        q, k, v, dropout_p=0.5, generator=torch.Generator().manual_seed(3)
    )
    b = scaled_dot_product_attention(
        q, k, v, dropout_p=0.5, generator=torch.Generator().manual_seed(3)
    )
    plain = scaled_dot_product_attention(q, k, v)
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not torch.allclose(a, plain)


def test_float32_and_broadcast_leading_dims():
    q = torch.randn(2, 1, 5, 4)
    k = torch.randn(1, 3, 6, 4)
    v = torch.randn(1, 3, 6, 2)
    out = scaled_dot_product_attention(q, k, v)
    assert out.shape == (2, 3, 5, 2) and out.dtype == torch.float32
    ref = F.scaled_dot_product_attention(
        q.expand(2, 3, 5, 4), k.expand(2, 3, 6, 4), v.expand(2, 3, 6, 2)
    )
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6)


def test_masks_helpers():
    assert lengths_to_mask(torch.tensor([2, 0, 3]), max_length=4).tolist() == [
        [True, True, False, False],
        [False, False, False, False],
        [True, True, True, False],
    ]
    assert lengths_to_mask(torch.tensor([1, 2])).shape == (2, 2)
    both = combine_masks(torch.tensor([True, False]), torch.tensor([0.0, 1.0]))
    assert both.tolist() == [0.0, float("-inf")]
    assert combine_masks(None, None) is None


def test_bad_inputs_raise_parameter_error():
    q, k, v = _qkv()
    with pytest.raises(ParameterError, match="query width D=4 must equal key width D=5"):
        scaled_dot_product_attention(q, torch.randn(2, 3, 7, 5, dtype=D64), v)
    with pytest.raises(ParameterError, match="key length L_k=7 must equal value length 6"):
        scaled_dot_product_attention(q, k, torch.randn(2, 3, 6, 6, dtype=D64))
    with pytest.raises(ParameterError, match="mask with shape \\(5, 6\\)"):
        scaled_dot_product_attention(q, k, v, mask=torch.ones(5, 6, dtype=torch.bool))
    with pytest.raises(ParameterError, match="mask dtype=torch.int64"):
        scaled_dot_product_attention(q, k, v, mask=torch.ones(5, 7, dtype=torch.long))
    with pytest.raises(ParameterError, match="mask dtype=torch.float32"):
        scaled_dot_product_attention(q, k, v, mask=torch.ones(5, 7))
    with pytest.raises(ParameterError, match="empty sequence"):
        scaled_dot_product_attention(q, k[:, :, :0], v[:, :, :0])
    with pytest.raises(ParameterError, match="dtypes"):
        scaled_dot_product_attention(q, k.float(), v)
    with pytest.raises(ParameterError, match="query dtype=torch.int64"):
        scaled_dot_product_attention(q.long(), k.long(), v.long())
    with pytest.raises(ParameterError, match="dropout_p=1.0"):
        scaled_dot_product_attention(q, k, v, dropout_p=1.0)
    with pytest.raises(ParameterError, match="lengths max=5 must not exceed max_length=4"):
        lengths_to_mask(torch.tensor([5]), max_length=4)
    with pytest.raises(ParameterError, match="lengths dtype=torch.float32"):
        lengths_to_mask(torch.tensor([1.0]))
    with pytest.raises(ParameterError, match="query_length=-1"):
        causal_mask(-1)


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_attend_fused_equals_plain_including_fully_masked_rows(kind):
    g = torch.Generator().manual_seed(5)
    q = torch.randn(2, 3, 4, 8, generator=g, dtype=torch.float64, requires_grad=True)
    k = torch.randn(2, 3, 6, 8, generator=g, dtype=torch.float64, requires_grad=True)
    v = torch.randn(2, 3, 6, 5, generator=g, dtype=torch.float64, requires_grad=True)
    keep = torch.rand(2, 1, 4, 6, generator=g) > 0.4
    keep[1, 0, 2] = False  # a query row with no key
    mask = (
        keep
        if kind == "bool"
        else torch.zeros(keep.shape, dtype=torch.float64).masked_fill(~keep, float("-inf"))
    )
    for kwargs in (dict(mask=mask), dict(causal=True), dict()):
        fused, none = attend(q, k[..., :4, :], v[..., :4, :], **_square(kwargs))
        plain, weights = attend(
            q, k[..., :4, :], v[..., :4, :], need_weights=True, **_square(kwargs)
        )
        assert none is None and weights.shape == (2, 3, 4, 4)
        torch.testing.assert_close(fused, plain, rtol=1e-10, atol=1e-10, msg=str(kwargs))
        grads_fused = torch.autograd.grad(fused.square().sum(), (q, k, v), allow_unused=True)
        grads_plain = torch.autograd.grad(plain.square().sum(), (q, k, v), allow_unused=True)
        for a, b in zip(grads_fused, grads_plain, strict=True):
            assert torch.isfinite(a).all()
            torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-10, msg=str(kwargs))
    fused, _ = attend(q, k, v, mask=mask)
    assert torch.equal(fused[1, :, 2], torch.zeros(3, 5, dtype=torch.float64))


def _square(kwargs):
    """Restrict a (.., 4, 6) mask to the first 4 keys (L_q == L_k for the causal case)."""
    if "mask" in kwargs:
        return dict(mask=kwargs["mask"][..., :4])
    return kwargs


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_masked_softmax_zero_rows_and_equals_softmax_over_valid_entries(kind):
    g = torch.Generator().manual_seed(6)
    scores = torch.randn(3, 5, generator=g, dtype=torch.float64, requires_grad=True)
    keep = torch.tensor([[True] * 5, [False] * 5, [True, False, True, False, False]])
    mask = (
        keep
        if kind == "bool"
        else torch.zeros(3, 5, dtype=torch.float64).masked_fill(~keep, float("-inf"))
    )
    weights = masked_softmax(scores, mask)
    torch.testing.assert_close(weights[0], torch.softmax(scores[0], -1), rtol=0, atol=0)
    assert torch.equal(weights[1], torch.zeros(5, dtype=torch.float64))
    torch.testing.assert_close(
        weights[2, [0, 2]], torch.softmax(scores[2, [0, 2]], -1), rtol=1e-15, atol=1e-15
    )
    assert (weights[2, [1, 3, 4]] == 0).all()
    (grad,) = torch.autograd.grad((weights * torch.arange(5.0)).sum(), scores)
    assert torch.isfinite(grad).all() and (grad[1] == 0).all()
    assert torch.equal(masked_softmax(scores), torch.softmax(scores, -1))
