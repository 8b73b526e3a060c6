"""Attention modules: multi-head (self / cross, with a KV cache) and additive (soft) attention.

Boolean masks follow the package convention: **True = may attend / valid**. This is the
opposite of ``torch.nn.MultiheadAttention``'s ``key_padding_mask`` and boolean ``attn_mask``
(True = ignore there): pass ``~torch_mask`` to this module.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from synesthesia.errors import ParameterError
from synesthesia.functional.attention import (
    attend,
    causal_mask,
    check_mask,
    combine_masks,
    lengths_to_mask,
)

__all__ = [
    "KVCache",
    "StaticKVCache",
    "MultiHeadAttention",
    "AdditiveAttention",
    "resolve_key_mask",
]

_PACKED_MIN_ROWS = 32


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ParameterError(f"{name}={value!r} must be a positive integer")
    return value


def _probability(name: str, value: object) -> float:
    if not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ParameterError(f"{name}={value!r} must be a probability in [0, 1)")
    return float(value)


def resolve_key_mask(
    key_lengths: Tensor | None,
    key_padding_mask: Tensor | None,
    *,
    batch_size: int,
    length: int,
    device: torch.device,
) -> Tensor | None:
    """The key padding mask (B, L_k) from lengths or a given mask (True = valid key), or None.

    The one place lengths become a key mask for the modules of this package: a Transformer
    stack calls it once and passes the result to every layer.

    Args:
        key_lengths: LongTensor (B,) of valid key lengths, or None.
        key_padding_mask: BoolTensor (B, L_k), True = valid key, or None (exclusive with
            ``key_lengths``).
        batch_size: B.
        length: L_k, every key (cached + new with a KV cache).
        device: device of a mask made from lengths.

    Raises:
        ParameterError: both given, or a wrong shape or dtype.
    """
    if key_lengths is not None and key_padding_mask is not None:
        raise ParameterError("pass key_lengths or key_padding_mask, not both")
    if key_lengths is not None:
        if not isinstance(key_lengths, Tensor) or key_lengths.shape != (batch_size,):
            shape = tuple(getattr(key_lengths, "shape", ()))
            raise ParameterError(f"key_lengths with shape {shape} must be ({batch_size},)")
        return lengths_to_mask(key_lengths, max_length=length, device=device)
    if key_padding_mask is not None:
        if not isinstance(key_padding_mask, Tensor) or key_padding_mask.dtype != torch.bool:
            dtype = getattr(key_padding_mask, "dtype", type(key_padding_mask).__name__)
            raise ParameterError(
                f"key_padding_mask dtype={dtype} must be torch.bool (True = valid)"
            )
        if key_padding_mask.shape != (batch_size, length):
            raise ParameterError(
                f"key_padding_mask with shape {tuple(key_padding_mask.shape)} must be "
                f"(B, L_k) = ({batch_size}, {length})"
            )
        return key_padding_mask
    return None


class KVCache:
    """Keys and values of past positions for incremental (autoregressive) self-attention.

    Storage is preallocated once, (B, H, max_length, D_h); each step writes the new keys and
    values in place and attention reads a view of the filled prefix, so decoding never
    concatenates the whole cache. Meant for inference under ``torch.no_grad()``.

    Args:
        batch_size: B.
        num_heads: H.
        max_length: capacity in positions.
        head_dim: per-head key width D_h.
        value_head_dim: per-head value width (defaults to ``head_dim``).
        device: device of the storage.
        dtype: dtype of the storage.
    """

    def __init__(
        self,
        batch_size: int,
        num_heads: int,
        max_length: int,
        head_dim: int,
        *,
        value_head_dim: int | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        for name, value in (
            ("batch_size", batch_size),
            ("num_heads", num_heads),
            ("max_length", max_length),
            ("head_dim", head_dim),
        ):
            _positive_int(name, value)
        value_head_dim = head_dim if value_head_dim is None else value_head_dim
        self.keys = torch.zeros(
            batch_size, num_heads, max_length, head_dim, device=device, dtype=dtype
        )
        self.values = torch.zeros(
            batch_size, num_heads, max_length, value_head_dim, device=device, dtype=dtype
        )
        self.length = 0

    @property
    def max_length(self) -> int:
        """Capacity in positions."""
        return self.keys.shape[2]

    @property
    def remaining(self) -> int:
        """Positions that can still be appended."""
        return self.max_length - self.length

    def reset(self) -> None:
        """Forget every cached position (the storage is kept)."""
        self.length = 0

    def append(self, keys: Tensor, values: Tensor) -> tuple[Tensor, Tensor]:
        """Write new keys/values (B, H, L, D_h) after the cached ones.

        Returns:
            Views of every cached key and value so far, (B, H, length, D_h).

        Raises:
            ParameterError: the new positions do not fit or the shapes do not match.
        """
        new = keys.shape[2]
        if keys.shape[:2] != self.keys.shape[:2] or keys.shape[3] != self.keys.shape[3]:
            raise ParameterError(
                f"keys with shape {tuple(keys.shape)} do not fit the cache of shape "
                f"{tuple(self.keys.shape)} (B, H, max_length, D_h)"
            )
        if new > self.remaining:
            raise ParameterError(
                f"cache overflow: {new} new positions after length={self.length} exceed "
                f"max_length={self.max_length}"
            )
        end = self.length + new
        self.keys[:, :, self.length : end].copy_(keys)
        self.values[:, :, self.length : end].copy_(values)
        self.length = end
        return self.keys[:, :, :end], self.values[:, :, :end]

    def reorder(self, rows: Tensor) -> None:
        """Keep cache row ``rows[i]`` as row ``i`` (beam search: follow each beam's parent).

        Args:
            rows: LongTensor (B',) of row indices; B' may differ from B (expanding B images
                to B·K beams). Only the filled prefix is copied.
        """
        if not isinstance(rows, Tensor) or rows.ndim != 1 or rows.dtype != torch.long:
            shape = tuple(rows.shape) if isinstance(rows, Tensor) else type(rows).__name__
            raise ParameterError(f"rows with shape {shape} must be a 1-D LongTensor")
        filled = self.length
        if rows.shape[0] == self.keys.shape[0]:
            # same batch: rewrite the filled prefix in place (the gather copies first)
            self.keys[:, :, :filled] = self.keys[rows, :, :filled]
            self.values[:, :, :filled] = self.values[rows, :, :filled]
            return
        keys = self.keys.new_zeros((rows.shape[0], *self.keys.shape[1:]))
        values = self.values.new_zeros((rows.shape[0], *self.values.shape[1:]))
        keys[:, :, :filled] = self.keys[rows, :, :filled]
        values[:, :, :filled] = self.values[rows, :, :filled]
        self.keys, self.values = keys, values


class StaticKVCache:
    """Projected keys/values of a fixed memory (cross-attention), computed once and reused."""

    def __init__(self) -> None:
        self.keys: Tensor | None = None
        self.values: Tensor | None = None
        self.key_mask: Tensor | None = None

    @property
    def is_set(self) -> bool:
        """Whether the memory has been projected already."""
        return self.keys is not None

    def reset(self) -> None:
        """Forget the memory."""
        self.keys = self.values = self.key_mask = None

    def reorder(self, rows: Tensor) -> None:
        """Keep memory row ``rows[i]`` as row ``i`` (a no-op while nothing is cached)."""
        if self.keys is None:
            return
        self.keys, self.values = self.keys[rows], self.values[rows]
        if self.key_mask is not None:
            self.key_mask = self.key_mask[rows]


class MultiHeadAttention(nn.Module):
    """Multi-head scaled dot-product attention, batch first, self or cross.

    With ``need_weights=False`` it calls the fused
    ``torch.nn.functional.scaled_dot_product_attention``; with ``need_weights=True`` the plain
    :func:`synesthesia.functional.scaled_dot_product_attention`, which returns the weights.
    Both give the same output (tested). Rows whose keys are all masked give zeros.

    Args:
        embed_dim: D, width of queries and of the output.
        num_heads: H; must divide ``embed_dim``.
        kdim: width of the key input (defaults to D).
        vdim: width of the value input (defaults to D).
        dropout: dropout on the attention weights (training only).
        bias: add biases to the projections.
        output_dropout: dropout on the output projection (training only).
        head_dropout: DropHead: the probability that a whole head's output is dropped for one
            sequence (training only; the kept heads are scaled by 1 / (1 - p)), so that every
            head learns to find what the layer needs on its own.

    References:
        Vaswani et al., "Attention Is All You Need", 2017; parameters and results match
        ``torch.nn.MultiheadAttention(batch_first=True)`` (tested with copied weights);
        Zhou et al., "Scheduled DropHead: A Regularization Method for Transformer Models",
        Findings of EMNLP 2020 (head_dropout).
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        *,
        kdim: int | None = None,
        vdim: int | None = None,
        dropout: float = 0.0,
        bias: bool = True,
        output_dropout: float = 0.0,
        head_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        _positive_int("embed_dim", embed_dim)
        _positive_int("num_heads", num_heads)
        if embed_dim % num_heads:
            raise ParameterError(
                f"embed_dim={embed_dim} must be divisible by num_heads={num_heads}"
            )
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.head_dim = embed_dim // num_heads
        self.kdim = embed_dim if kdim is None else _positive_int("kdim", kdim)
        self.vdim = embed_dim if vdim is None else _positive_int("vdim", vdim)
        self.dropout = _probability("dropout", dropout)
        self.output_dropout = _probability("output_dropout", output_dropout)
        self.head_dropout = _probability("head_dropout", head_dropout)
        self.q_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.k_proj = nn.Linear(self.kdim, embed_dim, bias=bias)
        self.v_proj = nn.Linear(self.vdim, embed_dim, bias=bias)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier-uniform projections and zero biases, as torch.nn.MultiheadAttention."""
        for proj in (self.q_proj, self.k_proj, self.v_proj):
            nn.init.xavier_uniform_(proj.weight)
            if proj.bias is not None:
                nn.init.zeros_(proj.bias)
        if self.out_proj.bias is not None:
            nn.init.zeros_(self.out_proj.bias)

    def new_cache(
        self,
        batch_size: int,
        max_length: int,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> KVCache:
        """A preallocated :class:`KVCache` for incremental self-attention."""
        weight = self.q_proj.weight
        return KVCache(
            batch_size,
            self.num_heads,
            max_length,
            self.head_dim,
            device=weight.device if device is None else device,
            dtype=weight.dtype if dtype is None else dtype,
        )

    def _split(self, x: Tensor) -> Tensor:
        batch, length, _ = x.shape
        return x.view(batch, length, self.num_heads, self.head_dim).transpose(1, 2)  # (B,H,L,Dh)

    def _project_qkv(self, query: Tensor, key: Tensor, value: Tensor, project_kv: bool):
        rows = query.shape[0] * query.shape[1]
        if project_kv and key is query and value is query and rows >= _PACKED_MIN_ROWS:
            # self-attention: one packed matmul for Q, K and V (for a few rows, as in
            # step-by-step decoding, concatenating the weights would cost more than it saves)
            weight = torch.cat([self.q_proj.weight, self.k_proj.weight, self.v_proj.weight])
            bias = None
            if self.q_proj.bias is not None:
                bias = torch.cat([self.q_proj.bias, self.k_proj.bias, self.v_proj.bias])
            q, k, v = F.linear(query, weight, bias).chunk(3, dim=-1)
            return self._split(q), self._split(k), self._split(v)
        q = self._split(self.q_proj(query))
        if not project_kv:
            return q, None, None
        return q, self._split(self.k_proj(key)), self._split(self.v_proj(value))

    def _check(self, query: Tensor, key: Tensor, value: Tensor) -> None:
        if not isinstance(query, Tensor) or query.ndim != 3 or query.shape[-1] != self.embed_dim:
            shape = tuple(query.shape) if isinstance(query, Tensor) else type(query).__name__
            raise ParameterError(
                f"query with shape {shape} must be (B, L_q, embed_dim={self.embed_dim})"
            )
        for name, x, dim in (("key", key, self.kdim), ("value", value, self.vdim)):
            if not isinstance(x, Tensor) or x.ndim != 3 or x.shape[-1] != dim:
                shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
                raise ParameterError(f"{name} with shape {shape} must be (B, L_k, {dim})")
            if x.shape[0] != query.shape[0]:
                raise ParameterError(
                    f"{name} batch size {x.shape[0]} must equal query batch size {query.shape[0]}"
                )
        if key.shape[1] != value.shape[1]:
            raise ParameterError(
                f"key length L_k={key.shape[1]} must equal value length {value.shape[1]}"
            )
        if query.shape[1] == 0 or key.shape[1] == 0:
            raise ParameterError(
                f"empty sequence: query length L_q={query.shape[1]} and key length "
                f"L_k={key.shape[1]} must be positive"
            )

    def forward(
        self,
        query: Tensor,
        key: Tensor | None = None,
        value: Tensor | None = None,
        *,
        key_lengths: Tensor | None = None,
        key_padding_mask: Tensor | None = None,
        attn_mask: Tensor | None = None,
        causal: bool = False,
        need_weights: bool = False,
        average_attn_weights: bool = True,
        cache: KVCache | StaticKVCache | None = None,
        static_kv: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """Attend from ``query`` to ``key``/``value`` (self-attention when they are None).

        Args:
            query: (B, L_q, D).
            key: (B, L_k, kdim); defaults to ``query``.
            value: (B, L_k, vdim); defaults to ``key``.
            key_lengths: LongTensor (B,) of valid key lengths (keys past it are padding).
            key_padding_mask: BoolTensor (B, L_k), True = valid key. Exclusive with
                ``key_lengths``. With a :class:`KVCache` both cover every key so far
                (cached + new), e.g. a left-padded prompt's mask extended by True.
            attn_mask: bool (True = may attend) or additive float mask, (L_q, L_k),
                (B, L_q, L_k) or (B, H, L_q, L_k).
            causal: causal self-attention, aligned lower-right (cached queries see every
                cached key).
            need_weights: also return the attention weights (uses the plain path).
            average_attn_weights: average the weights over heads.
            cache: a :class:`KVCache` (incremental self-attention: the new keys/values are
                appended and attention covers all cached positions) or, with
                ``static_kv=True``, a :class:`StaticKVCache` for cross-attention.
            static_kv: ``key``/``value`` are a fixed memory; project them on the first call
                and reuse the cached projection afterwards (``key`` may then be None).

        Returns:
            output (B, L_q, D) and the weights — (B, L_q, L_k) averaged, (B, H, L_q, L_k)
            per head — or None.

        Raises:
            ParameterError: bad shapes, dtypes or masks, an empty sequence, a cache overflow.
        """
        reuse_static = static_kv and isinstance(cache, StaticKVCache) and cache.is_set
        if static_kv and not isinstance(cache, (StaticKVCache, type(None))):
            raise ParameterError(
                f"cache of type {type(cache).__name__} must be a StaticKVCache when static_kv=True"
            )
        if isinstance(cache, StaticKVCache) and not static_kv:
            raise ParameterError("a StaticKVCache needs static_kv=True")
        if reuse_static:
            k, v = cache.keys, cache.values
            if (
                not isinstance(query, Tensor)
                or query.ndim != 3
                or query.shape[-1] != self.embed_dim
            ):
                shape = tuple(query.shape) if isinstance(query, Tensor) else type(query).__name__
                raise ParameterError(
                    f"query with shape {shape} must be (B, L_q, embed_dim={self.embed_dim})"
                )
            if query.shape[1] == 0:
                raise ParameterError("empty sequence: query length L_q=0 must be positive")
            q, _, _ = self._project_qkv(query, query, query, project_kv=False)
            key_mask = cache.key_mask
        else:
            key = query if key is None else key
            value = key if value is None else value
            self._check(query, key, value)
            q, k, v = self._project_qkv(query, key, value, project_kv=True)
            cached = cache.length if isinstance(cache, KVCache) else 0
            key_mask = resolve_key_mask(
                key_lengths,
                key_padding_mask,
                batch_size=key.shape[0],
                length=cached + key.shape[1],
                device=key.device,
            )
            if isinstance(cache, StaticKVCache):
                cache.keys, cache.values, cache.key_mask = k, v, key_mask
            elif isinstance(cache, KVCache):
                if key is not query:
                    raise ParameterError("a KVCache is for self-attention: key must be None")
                k, v = cache.append(k, v)
        batch, length_q, length_k = q.shape[0], q.shape[2], k.shape[2]
        if key_mask is not None and key_mask.shape[-1] != length_k:
            raise ParameterError(
                f"key mask covers {key_mask.shape[-1]} keys but there are L_k={length_k}"
            )
        mask = None if key_mask is None else key_mask[:, None, None, :]  # (B, 1, 1, L_k)
        if attn_mask is not None:
            scores_shape = torch.Size((batch, self.num_heads, length_q, length_k))
            if attn_mask.ndim == 3:
                attn_mask = attn_mask.unsqueeze(1)
            check_mask(attn_mask, scores_shape, dtype=q.dtype, name="attn_mask")
            mask = combine_masks(mask, attn_mask)
        use_is_causal = causal and mask is None and length_q == length_k
        if causal and length_q > 1 and not use_is_causal:
            mask = combine_masks(mask, causal_mask(length_q, length_k, device=q.device))
        dropout = self.dropout if self.training else 0.0
        out, weights = attend(
            q,
            k,
            v,
            mask=mask,
            causal=use_is_causal and length_q > 1,
            dropout_p=dropout,
            need_weights=need_weights,
        )  # (B, H, L_q, D_h), (B, H, L_q, L_k) or None
        if weights is not None and average_attn_weights:
            weights = weights.mean(dim=1)
        if self.head_dropout and self.training:  # DropHead: one draw per (sequence, head)
            keep = torch.rand(batch, self.num_heads, 1, 1, device=out.device) >= self.head_dropout
            out = out * keep.to(out.dtype) / (1.0 - self.head_dropout)
        out = out.transpose(1, 2).reshape(batch, length_q, self.embed_dim)  # (B, L_q, D)
        out = self.out_proj(out)
        if self.output_dropout and self.training:
            out = F.dropout(out, p=self.output_dropout)
        return out, weights


class AdditiveAttention(nn.Module):
    """Additive (Bahdanau) soft attention over annotations, as in Show, Attend and Tell.

    ``e_i = wᵀ tanh(W_a a_i + W_s s + b)``, ``α = softmax(e)`` over valid annotations,
    ``context = Σ_i α_i a_i``.

    Args:
        encoder_dim: D_enc, width of the annotations a_i.
        decoder_dim: D_dec, width of the decoder state s.
        attention_dim: width of the hidden scoring layer.
        dropout: dropout on the scoring layer's hidden activations (training only).

    References:
        Bahdanau et al., "Neural Machine Translation by Jointly Learning to Align and
        Translate", 2015; Xu et al., "Show, Attend and Tell", 2015 (soft attention).
    """

    def __init__(
        self, *, encoder_dim: int, decoder_dim: int, attention_dim: int, dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.encoder_dim = _positive_int("encoder_dim", encoder_dim)
        self.decoder_dim = _positive_int("decoder_dim", decoder_dim)
        self.attention_dim = _positive_int("attention_dim", attention_dim)
        self.dropout = nn.Dropout(_probability("dropout", dropout))
        self.annotation_proj = nn.Linear(encoder_dim, attention_dim)
        self.state_proj = nn.Linear(decoder_dim, attention_dim, bias=False)
        self.score = nn.Linear(attention_dim, 1, bias=False)

    def project_annotations(self, annotations: Tensor) -> Tensor:
        """W_a a_i + b, computed once per image and passed to :meth:`forward` as ``projected``.

        Args:
            annotations: (B, P, D_enc).

        Returns:
            (B, P, attention_dim).
        """
        if annotations.ndim != 3 or annotations.shape[-1] != self.encoder_dim:
            raise ParameterError(
                f"annotations with shape {tuple(annotations.shape)} must be "
                f"(B, P, encoder_dim={self.encoder_dim})"
            )
        return self.annotation_proj(annotations)

    def forward(
        self,
        annotations: Tensor,
        state: Tensor,
        *,
        mask: Tensor | None = None,
        projected: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Weights over the P annotations and their weighted sum.

        Args:
            annotations: (B, P, D_enc).
            state: decoder state (B, D_dec).
            mask: BoolTensor (B, P), True = valid annotation; None = all valid.
            projected: ``project_annotations(annotations)`` (B, P, attention_dim), to skip
                recomputing it at every decoding step.

        Returns:
            context (B, D_enc) and weights (B, P) (rows sum to 1; zero where masked; a row
            with no valid annotation gives zero weights and a zero context).
        """
        if projected is None:
            projected = self.project_annotations(annotations)
        elif annotations.ndim != 3 or annotations.shape[-1] != self.encoder_dim:
            raise ParameterError(
                f"annotations with shape {tuple(annotations.shape)} must be "
                f"(B, P, encoder_dim={self.encoder_dim})"
            )
        batch, regions = annotations.shape[:2]
        if projected.shape != (batch, regions, self.attention_dim):
            raise ParameterError(
                f"projected with shape {tuple(projected.shape)} must be "
                f"(B, P, attention_dim) = ({batch}, {regions}, {self.attention_dim})"
            )
        if state.ndim != 2 or state.shape != (batch, self.decoder_dim):
            raise ParameterError(
                f"state with shape {tuple(state.shape)} must be (B, decoder_dim) = "
                f"({batch}, {self.decoder_dim})"
            )
        if regions == 0:
            raise ParameterError("empty sequence: annotations have P=0 regions")
        if mask is not None and (mask.dtype != torch.bool or mask.shape != (batch, regions)):
            raise ParameterError(
                f"mask with shape {tuple(mask.shape)} and dtype={mask.dtype} must be a "
                f"torch.bool tensor (B, P) = ({batch}, {regions}), True = valid"
            )
        hidden = torch.tanh(projected + self.state_proj(state).unsqueeze(1))  # (B, P, A)
        scores = self.score(self.dropout(hidden)).squeeze(-1)  # (B, P)
        # the softmax is written out, not masked_softmax: torch.softmax rounds differently
        # and the shipped caption model's outputs must stay bit-identical (issue #21)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        row_max = scores.detach().amax(dim=-1, keepdim=True)
        row_max = torch.where(torch.isfinite(row_max), row_max, torch.zeros_like(row_max))
        exp = torch.exp(scores - row_max)
        total = exp.sum(dim=-1, keepdim=True)
        weights = torch.where(total > 0, exp / torch.where(total > 0, total, 1.0), 0.0)
        context = torch.bmm(weights.unsqueeze(1), annotations).squeeze(1)  # (B, D_enc)
        return context, weights
