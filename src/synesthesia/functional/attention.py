"""Attention masks, the masked softmax and scaled dot-product attention (plain and fused).

This module is the package's one mask path: :func:`lengths_to_mask` turns lengths into a
padding mask (a stack computes it once and hands it to every layer), :func:`masked_softmax`
is the one softmax over masked scores (used by the plain dot-product path and by the additive
/ location attentions), and :func:`attend` is the one dot-product entry point, choosing the
fused ``torch.nn.functional.scaled_dot_product_attention`` or the plain path.

Mask convention for the whole package: a **boolean mask is True where a query may attend to
a key (valid / keep) and False where it is masked out** — the convention of
``torch.nn.functional.scaled_dot_product_attention``. It is the *opposite* of
``torch.nn.MultiheadAttention``'s ``key_padding_mask`` and boolean ``attn_mask`` (True =
ignore there); convert with ``~mask``. Floating masks are additive (0 keeps, ``-inf`` removes).

A query row whose keys are all masked out gets zero weights and a zero output (never NaN),
and gradients stay finite.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from synesthesia.errors import ParameterError

__all__ = [
    "attend",
    "causal_mask",
    "combine_masks",
    "lengths_to_mask",
    "masked_softmax",
    "scaled_dot_product_attention",
]


def lengths_to_mask(
    lengths: Tensor, *, max_length: int | None = None, device: torch.device | None = None
) -> Tensor:
    """Boolean padding mask from sequence lengths: True = valid position.

    Args:
        lengths: LongTensor (B,) of lengths, each in ``[0, max_length]``.
        max_length: width L of the mask; defaults to ``lengths.max()``.
        device: device of the mask (defaults to that of ``lengths``).

    Returns:
        BoolTensor (B, L) with ``mask[b, i] = i < lengths[b]``.

    Raises:
        ParameterError: ``lengths`` is not a 1-D integer tensor, has negative entries or
            entries above ``max_length``.

    References:
        ESPnet ``make_non_pad_mask`` (the complement of its ``make_pad_mask``).
    """
    if not isinstance(lengths, Tensor) or lengths.ndim != 1:
        shape = tuple(lengths.shape) if isinstance(lengths, Tensor) else type(lengths).__name__
        raise ParameterError(f"lengths with shape {shape} must be a 1-D tensor (B,)")
    if lengths.dtype.is_floating_point or lengths.dtype.is_complex or lengths.dtype == torch.bool:
        raise ParameterError(f"lengths dtype={lengths.dtype} must be an integer dtype")
    device = lengths.device if device is None else device
    if lengths.numel() and int(lengths.min()) < 0:
        raise ParameterError(f"lengths={lengths.tolist()} must be non-negative")
    longest = int(lengths.max()) if lengths.numel() else 0
    if max_length is None:
        max_length = longest
    elif not isinstance(max_length, int) or max_length < 0:
        raise ParameterError(f"max_length={max_length!r} must be a non-negative integer")
    elif longest > max_length:
        raise ParameterError(f"lengths max={longest} must not exceed max_length={max_length}")
    positions = torch.arange(max_length, device=device)
    return positions.unsqueeze(0) < lengths.to(device).unsqueeze(1)


def causal_mask(
    query_length: int, key_length: int | None = None, *, device: torch.device | None = None
) -> Tensor:
    """Boolean causal mask aligned to the lower right: True = may attend.

    Query ``i`` may attend to keys ``j <= i + L_k - L_q``: with ``L_q == L_k`` this is the
    usual lower-triangular mask; with ``L_q < L_k`` (new queries after ``L_k - L_q`` cached
    keys) the last query sees every key. With ``L_q > L_k`` the first rows see no key.

    Args:
        query_length: L_q.
        key_length: L_k (defaults to L_q).
        device: device of the mask.

    Returns:
        BoolTensor (L_q, L_k).

    References:
        Vaswani et al., "Attention Is All You Need", 2017; the lower-right alignment of
        ``torch.nn.attention.bias.causal_lower_right`` and FlashAttention-2.
    """
    key_length = query_length if key_length is None else key_length
    for name, value in (("query_length", query_length), ("key_length", key_length)):
        if not isinstance(value, int) or value < 0:
            raise ParameterError(f"{name}={value!r} must be a non-negative integer")
    rows = torch.arange(query_length, device=device).unsqueeze(1)
    cols = torch.arange(key_length, device=device).unsqueeze(0)
    return cols <= rows + (key_length - query_length)


def combine_masks(first: Tensor | None, second: Tensor | None) -> Tensor | None:
    """Combine two attention masks (boolean True = keep, or additive float) into one.

    Two boolean masks are combined with AND; when either is floating the result is additive
    (a boolean mask becomes 0 / ``-inf``). ``None`` stands for "no mask".

    Args:
        first: mask broadcastable to (..., L_q, L_k), or None.
        second: mask broadcastable to (..., L_q, L_k), or None.

    Returns:
        The combined mask (broadcast shape) or None when both are None.
    """
    if first is None:
        return second
    if second is None:
        return first
    if first.dtype == torch.bool and second.dtype == torch.bool:
        return first & second
    dtype = first.dtype if first.dtype != torch.bool else second.dtype
    return _as_additive(first, dtype) + _as_additive(second, dtype)


def _as_additive(mask: Tensor, dtype: torch.dtype) -> Tensor:
    if mask.dtype != torch.bool:
        return mask.to(dtype)
    zero = torch.zeros((), dtype=dtype, device=mask.device)
    return torch.where(mask, zero, torch.tensor(float("-inf"), dtype=dtype, device=mask.device))


def _open_empty_rows(mask: Tensor) -> tuple[Tensor, Tensor]:
    """Let rows with no valid key see every key (so no kernel divides by zero).

    Returns the opened mask and ``row_valid`` (..., L_q, 1), True where the row had a valid
    key; callers multiply their result by ``row_valid`` so that empty rows come out zero.
    """
    keep = mask if mask.dtype == torch.bool else torch.isfinite(mask)
    row_valid = keep.any(dim=-1, keepdim=True)
    if mask.dtype == torch.bool:
        return mask | ~row_valid, row_valid
    return torch.where(row_valid, mask, torch.zeros((), dtype=mask.dtype)), row_valid


def masked_softmax(scores: Tensor, mask: Tensor | None = None) -> Tensor:
    """Softmax over the last dimension of ``scores`` restricted to the unmasked entries.

    Args:
        scores: (..., L_k) attention scores (energies).
        mask: boolean (True = valid) or additive float mask broadcastable to ``scores``;
            None for no mask.

    Returns:
        weights shaped like ``scores``: rows sum to 1 over valid entries and are 0 at masked
        ones; a row with no valid entry is all zeros (never NaN) and its gradients are finite.
    """
    if mask is None:
        return torch.softmax(scores, dim=-1)
    opened, row_valid = _open_empty_rows(mask)
    if opened.dtype == torch.bool:
        scores = scores.masked_fill(~opened, float("-inf"))
    else:
        scores = scores + opened
    return torch.softmax(scores, dim=-1) * row_valid.to(scores.dtype)


def _check_inputs(q: Tensor, k: Tensor, v: Tensor) -> None:
    for name, x in (("query", q), ("key", k), ("value", v)):
        if not isinstance(x, Tensor):
            raise ParameterError(f"{name} of type {type(x).__name__} must be a tensor")
        if x.ndim < 2:
            raise ParameterError(f"{name} with shape {tuple(x.shape)} must be (..., L, D)")
        if not x.dtype.is_floating_point:
            raise ParameterError(f"{name} dtype={x.dtype} must be a floating dtype")
    if not (q.dtype == k.dtype == v.dtype):
        raise ParameterError(
            f"query, key and value dtypes ({q.dtype}, {k.dtype}, {v.dtype}) must be equal"
        )
    if q.shape[-1] != k.shape[-1]:
        raise ParameterError(
            f"query width D={q.shape[-1]} must equal key width D={k.shape[-1]} "
            f"(query {tuple(q.shape)}, key {tuple(k.shape)})"
        )
    if k.shape[-2] != v.shape[-2]:
        raise ParameterError(
            f"key length L_k={k.shape[-2]} must equal value length {v.shape[-2]} "
            f"(key {tuple(k.shape)}, value {tuple(v.shape)})"
        )
    if q.shape[-2] == 0 or k.shape[-2] == 0:
        raise ParameterError(
            f"empty sequence: query length L_q={q.shape[-2]} and key length "
            f"L_k={k.shape[-2]} must be positive"
        )
    try:
        torch.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except RuntimeError:
        raise ParameterError(
            f"leading dimensions of query {tuple(q.shape)}, key {tuple(k.shape)} and value "
            f"{tuple(v.shape)} must broadcast"
        ) from None


def check_mask(mask: Tensor, scores_shape: torch.Size, *, dtype: torch.dtype, name: str) -> None:
    """Raise ParameterError unless ``mask`` is bool or ``dtype`` and broadcasts to scores."""
    if not isinstance(mask, Tensor):
        raise ParameterError(f"{name} of type {type(mask).__name__} must be a tensor")
    if mask.dtype != torch.bool and mask.dtype != dtype:
        raise ParameterError(
            f"{name} dtype={mask.dtype} must be torch.bool (True = may attend) or the "
            f"attention dtype {dtype} (additive)"
        )
    try:
        ok = torch.broadcast_shapes(mask.shape, scores_shape) == scores_shape
    except RuntimeError:
        ok = False
    if not ok:
        raise ParameterError(
            f"{name} with shape {tuple(mask.shape)} must broadcast to the attention scores "
            f"(..., L_q, L_k) = {tuple(scores_shape)}"
        )


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    *,
    mask: Tensor | None = None,
    causal: bool = False,
    dropout_p: float = 0.0,
    scale: float | None = None,
    return_weights: bool = False,
    generator: torch.Generator | None = None,
) -> Tensor | tuple[Tensor, Tensor]:
    """softmax(Q Kᵀ · scale + mask) V, written out so that the weights can be returned.

    Args:
        query: (..., L_q, D).
        key: (..., L_k, D).
        value: (..., L_k, D_v). Leading dimensions of the three broadcast.
        mask: boolean (True = may attend) or additive float mask broadcastable to
            (..., L_q, L_k) without enlarging the scores; None for no mask.
        causal: also apply :func:`causal_mask` (lower-right aligned when L_q != L_k).
        dropout_p: dropout probability on the attention weights (applied whenever > 0; the
            caller passes 0 in evaluation).
        scale: factor on the scores; defaults to ``1 / sqrt(D)``.
        return_weights: also return the attention weights.
        generator: random generator for the dropout.

    Returns:
        output (..., L_q, D_v), and if ``return_weights`` the weights (..., L_q, L_k) before
        dropout. Rows sum to 1 over the keys, except rows whose keys are all masked out,
        which are zero (and give a zero output).

    Raises:
        ParameterError: non-floating or mixed dtypes, mismatched widths or lengths, an empty
            sequence, a mask of wrong dtype or shape, dropout_p outside [0, 1).

    References:
        Vaswani et al., "Attention Is All You Need", 2017, Eq. 1; matches
        ``torch.nn.functional.scaled_dot_product_attention`` where that is defined.
    """
    _check_inputs(query, key, value)
    if not 0.0 <= dropout_p < 1.0:
        raise ParameterError(f"dropout_p={dropout_p!r} must be in [0, 1)")
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    elif not math.isfinite(scale):
        raise ParameterError(f"scale={scale!r} must be a finite number")
    length_q, length_k = query.shape[-2], key.shape[-2]
    batch_shape = torch.broadcast_shapes(query.shape[:-2], key.shape[:-2])
    scores_shape = torch.Size((*batch_shape, length_q, length_k))
    if mask is not None:
        check_mask(mask, scores_shape, dtype=query.dtype, name="mask")
    if causal:
        mask = combine_masks(mask, causal_mask(length_q, length_k, device=query.device))

    scores = torch.matmul(query * scale, key.transpose(-2, -1))  # (..., L_q, L_k)
    weights = masked_softmax(scores, mask)  # (..., L_q, L_k)
    attended = weights
    if dropout_p > 0.0:
        keep = torch.rand(weights.shape, generator=generator, device=weights.device) >= dropout_p
        attended = weights * keep.to(weights.dtype) / (1.0 - dropout_p)
    output = torch.matmul(attended, value)  # (..., L_q, D_v)
    if return_weights:
        return output, weights
    return output


def attend(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    *,
    mask: Tensor | None = None,
    causal: bool = False,
    dropout_p: float = 0.0,
    need_weights: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """Dot-product attention through the fused kernel, or the plain path when weights are needed.

    ``need_weights=False`` calls ``torch.nn.functional.scaled_dot_product_attention`` (fused);
    ``need_weights=True`` calls :func:`scaled_dot_product_attention` (plain), which returns
    the weights. Both give the same output, and both give a zero output for a query row whose
    keys are all masked out. Inputs are trusted (callers such as
    :class:`~synesthesia.nn.MultiHeadAttention` validate them).

    Args:
        query: (B, H, L_q, D_h).
        key: (B, H, L_k, D_h).
        value: (B, H, L_k, D_v).
        mask: boolean (True = may attend) or additive mask broadcastable to
            (B, H, L_q, L_k), already combined with any causal mask; None for no mask.
        causal: causal attention with L_q == L_k and no ``mask`` (the fused kernel's
            ``is_causal``; with a mask, combine :func:`causal_mask` into it instead).
        dropout_p: dropout on the weights (pass 0 in evaluation).
        need_weights: use the plain path and return the weights (B, H, L_q, L_k).

    Returns:
        output (B, H, L_q, D_v) and the weights or None.
    """
    if need_weights:
        out, weights = scaled_dot_product_attention(
            query, key, value, mask=mask, causal=causal, dropout_p=dropout_p, return_weights=True
        )
        return out, weights
    row_valid = None
    if mask is not None:
        # fused kernels give NaN for rows with no valid key: open such rows, then zero them
        mask, row_valid = _open_empty_rows(mask)
    out = F.scaled_dot_product_attention(
        query, key, value, attn_mask=mask, dropout_p=dropout_p, is_causal=causal
    )
    if row_valid is not None:
        out = out * row_valid.to(out.dtype)
    return out, None
