"""Transformer encoder/decoder layers and stacks with a KV cache for incremental decoding.

Layers follow ``torch.nn.TransformerEncoderLayer`` / ``TransformerDecoderLayer`` (same
sub-module names and order of operations; ``norm_first`` selects pre-norm or post-norm), but
take batch-first (B, L, D) inputs, package-convention masks (True = valid) and a cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from synesthesia.errors import ParameterError
from synesthesia.nn.attention import (
    KVCache,
    MultiHeadAttention,
    StaticKVCache,
    resolve_key_mask,
)

__all__ = [
    "TransformerCache",
    "TransformerEncoderLayer",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerDecoder",
]

_ACTIVATIONS = {"gelu": F.gelu, "relu": F.relu}


def _activation(name: str):
    if name not in _ACTIVATIONS:
        raise ParameterError(f"activation={name!r} must be one of {sorted(_ACTIVATIONS)}")
    return _ACTIVATIONS[name]


@dataclass
class TransformerCache:
    """Per-layer caches of a Transformer stack for incremental decoding.

    Attributes:
        self_attention: one :class:`KVCache` per layer.
        cross_attention: one :class:`StaticKVCache` per layer (decoders), or None.
    """

    self_attention: list[KVCache]
    cross_attention: list[StaticKVCache] | None = field(default=None)

    @property
    def length(self) -> int:
        """Number of positions cached so far."""
        return self.self_attention[0].length

    @property
    def max_length(self) -> int:
        """Capacity in positions."""
        return self.self_attention[0].max_length

    def reset(self) -> None:
        """Forget every cached position and memory."""
        for cache in self.self_attention:
            cache.reset()
        for cache in self.cross_attention or []:
            cache.reset()

    def reorder(self, rows: Tensor) -> None:
        """Keep row ``rows[i]`` of every layer's caches as row ``i``.

        Beam search calls it after each step with the parent row of every surviving beam
        (and once at the start to expand B images to B·K beams).

        Args:
            rows: LongTensor (B',) of row indices.
        """
        for cache in self.self_attention:
            cache.reorder(rows)
        for cache in self.cross_attention or []:
            cache.reorder(rows)


class TransformerEncoderLayer(nn.Module):
    """Self-attention + feed-forward block (pre-norm or post-norm).

    Used with ``causal=True`` it is also the decoder-only (GPT) block.

    Args:
        embed_dim: D.
        num_heads: H.
        ff_dim: hidden width of the feed-forward part (default 4·D).
        dropout: dropout on residual branches and inside the feed-forward part.
        attention_dropout: dropout on attention weights (defaults to ``dropout``).
        activation: "gelu" or "relu".
        norm_first: pre-norm (x + f(LN(x))) if True, post-norm (LN(x + f(x))) if False.
        bias: biases in linear layers and layer norms.
        layer_norm_eps: epsilon of the layer norms.

    References:
        Vaswani et al., 2017 (post-norm); Xiong et al., "On Layer Normalization in the
        Transformer Architecture", 2020 (pre-norm); ``torch.nn.TransformerEncoderLayer``.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        *,
        ff_dim: int | None = None,
        dropout: float = 0.1,
        attention_dropout: float | None = None,
        activation: str = "gelu",
        norm_first: bool = True,
        bias: bool = True,
        layer_norm_eps: float = 1e-5,
    ) -> None:
        super().__init__()
        ff_dim = 4 * embed_dim if ff_dim is None else ff_dim
        if isinstance(ff_dim, bool) or not isinstance(ff_dim, int) or ff_dim <= 0:
            raise ParameterError(f"ff_dim={ff_dim!r} must be a positive integer")
        attention_dropout = dropout if attention_dropout is None else attention_dropout
        self.self_attn = MultiHeadAttention(
            embed_dim, num_heads, dropout=attention_dropout, bias=bias
        )
        self.linear1 = nn.Linear(embed_dim, ff_dim, bias=bias)
        self.linear2 = nn.Linear(ff_dim, embed_dim, bias=bias)
        self.norm1 = nn.LayerNorm(embed_dim, eps=layer_norm_eps, bias=bias)
        self.norm2 = nn.LayerNorm(embed_dim, eps=layer_norm_eps, bias=bias)
        self.dropout = nn.Dropout(dropout)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.activation = _activation(activation)
        self.norm_first = norm_first

    def _attention(self, x: Tensor, **kwargs) -> Tensor:
        return self.dropout1(self.self_attn(x, **kwargs)[0])

    def _feed_forward(self, x: Tensor) -> Tensor:
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(
        self,
        x: Tensor,
        *,
        lengths: Tensor | None = None,
        padding_mask: Tensor | None = None,
        attn_mask: Tensor | None = None,
        causal: bool = False,
        cache: KVCache | None = None,
    ) -> Tensor:
        """(B, L, D) → (B, L, D).

        Args:
            x: (B, L, D).
            lengths: LongTensor (B,) valid lengths (keys past them are ignored).
            padding_mask: BoolTensor (B, L_k), True = valid key (exclusive with lengths).
            attn_mask: bool (True = may attend) or additive mask, (L, L_k) or (B, L, L_k).
            causal: causal self-attention.
            cache: self-attention :class:`KVCache` for incremental decoding.
        """
        kwargs = dict(
            key_lengths=lengths,
            key_padding_mask=padding_mask,
            attn_mask=attn_mask,
            causal=causal,
            cache=cache,
        )
        if self.norm_first:
            x = x + self._attention(self.norm1(x), **kwargs)
            x = x + self._feed_forward(self.norm2(x))
        else:
            x = self.norm1(x + self._attention(x, **kwargs))
            x = self.norm2(x + self._feed_forward(x))
        return x


class TransformerDecoderLayer(nn.Module):
    """Causal self-attention + cross-attention to a memory + feed-forward.

    Args:
        embed_dim: D.
        num_heads: H.
        memory_dim: width of the memory (defaults to D).
        ff_dim: hidden width of the feed-forward part (default 4·D).
        dropout: dropout on residual branches and inside the feed-forward part.
        attention_dropout: dropout on attention weights (defaults to ``dropout``).
        activation: "gelu" or "relu".
        norm_first: pre-norm if True, post-norm if False.
        bias: biases in linear layers and layer norms.
        layer_norm_eps: epsilon of the layer norms.
        cross_head_dropout: DropHead on the cross-attention (see
            :class:`~synesthesia.nn.attention.MultiHeadAttention`'s ``head_dropout``).

    References:
        Vaswani et al., "Attention Is All You Need", 2017; ``torch.nn.TransformerDecoderLayer``.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        *,
        memory_dim: int | None = None,
        ff_dim: int | None = None,
        dropout: float = 0.1,
        attention_dropout: float | None = None,
        activation: str = "gelu",
        norm_first: bool = True,
        bias: bool = True,
        layer_norm_eps: float = 1e-5,
        cross_head_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        ff_dim = 4 * embed_dim if ff_dim is None else ff_dim
        if isinstance(ff_dim, bool) or not isinstance(ff_dim, int) or ff_dim <= 0:
            raise ParameterError(f"ff_dim={ff_dim!r} must be a positive integer")
        attention_dropout = dropout if attention_dropout is None else attention_dropout
        self.self_attn = MultiHeadAttention(
            embed_dim, num_heads, dropout=attention_dropout, bias=bias
        )
        self.cross_attn = MultiHeadAttention(
            embed_dim,
            num_heads,
            kdim=memory_dim,
            vdim=memory_dim,
            dropout=attention_dropout,
            bias=bias,
            head_dropout=cross_head_dropout,
        )
        self.linear1 = nn.Linear(embed_dim, ff_dim, bias=bias)
        self.linear2 = nn.Linear(ff_dim, embed_dim, bias=bias)
        self.norm1 = nn.LayerNorm(embed_dim, eps=layer_norm_eps, bias=bias)
        self.norm2 = nn.LayerNorm(embed_dim, eps=layer_norm_eps, bias=bias)
        self.norm3 = nn.LayerNorm(embed_dim, eps=layer_norm_eps, bias=bias)
        self.dropout = nn.Dropout(dropout)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.dropout3 = nn.Dropout(dropout)
        self.activation = _activation(activation)
        self.norm_first = norm_first

    def _feed_forward(self, x: Tensor) -> Tensor:
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(
        self,
        x: Tensor,
        memory: Tensor | None,
        *,
        lengths: Tensor | None = None,
        padding_mask: Tensor | None = None,
        memory_lengths: Tensor | None = None,
        memory_padding_mask: Tensor | None = None,
        memory_position: Tensor | None = None,
        attn_mask: Tensor | None = None,
        causal: bool = True,
        cache: tuple[KVCache, StaticKVCache] | None = None,
        need_weights: bool = False,
        average_attn_weights: bool = True,
    ) -> Tensor | tuple[Tensor, Tensor]:
        """(B, L, D) attending to memory (B, L_m, memory_dim) → (B, L, D).

        Args:
            x: (B, L, D).
            memory: (B, L_m, memory_dim); may be None once ``cache`` holds it.
            lengths: LongTensor (B,) valid lengths of x (self-attention keys).
            padding_mask: BoolTensor (B, L_k), True = valid self-attention key.
            memory_lengths: LongTensor (B,) valid lengths of the memory.
            memory_padding_mask: BoolTensor (B, L_m), True = valid memory position.
            memory_position: (B or 1, L_m, memory_dim) position code added to the memory's
                keys only (DETR's way: where a region is steers the attention, while the
                values carry only what the region holds); None adds nothing.
            attn_mask: self-attention mask, bool (True = may attend) or additive.
            causal: causal self-attention (default True).
            cache: (self-attention KVCache, cross-attention StaticKVCache).
            need_weights: also return the cross-attention weights (B, L, L_m), head-averaged.
            average_attn_weights: average the weights over heads; False returns them per
                head, (B, H, L, L_m).
        """
        self_cache, cross_cache = (None, None) if cache is None else cache
        self_kwargs = dict(
            key_lengths=lengths,
            key_padding_mask=padding_mask,
            attn_mask=attn_mask,
            causal=causal,
            cache=self_cache,
        )
        cross_kwargs = dict(
            key_lengths=memory_lengths,
            key_padding_mask=memory_padding_mask,
            need_weights=need_weights,
            average_attn_weights=average_attn_weights,
            cache=cross_cache,
            static_kv=cross_cache is not None,
        )
        if memory is None and (cross_cache is None or not cross_cache.is_set):
            raise ParameterError("memory=None needs a cache that already holds the memory")
        key = memory
        if memory is not None and memory_position is not None:
            key = memory + memory_position
        if self.norm_first:
            x = x + self.dropout1(self.self_attn(self.norm1(x), **self_kwargs)[0])
            attended, weights = self.cross_attn(self.norm2(x), key, memory, **cross_kwargs)
            x = x + self.dropout2(attended)
            x = x + self._feed_forward(self.norm3(x))
        else:
            x = self.norm1(x + self.dropout1(self.self_attn(x, **self_kwargs)[0]))
            attended, weights = self.cross_attn(x, key, memory, **cross_kwargs)
            x = self.norm2(x + self.dropout2(attended))
            x = self.norm3(x + self._feed_forward(x))
        return (x, weights) if need_weights else x


def _stack_key_mask(
    x: Tensor,
    lengths: Tensor | None,
    padding_mask: Tensor | None,
    cache: TransformerCache | None,
) -> Tensor | None:
    """Self-attention key mask (B, cached + L) of a stack, once for all its layers."""
    if not isinstance(x, Tensor) or x.ndim != 3:
        return padding_mask if lengths is None else None  # the first layer raises the error
    cached = 0 if cache is None else cache.length
    return resolve_key_mask(
        lengths, padding_mask, batch_size=x.shape[0], length=cached + x.shape[1], device=x.device
    )


def _check_layers(num_layers: object) -> int:
    if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers <= 0:
        raise ParameterError(f"num_layers={num_layers!r} must be a positive integer")
    return num_layers


class _LayerStack(nn.Module):
    """``num_layers`` copies of ``layer_class`` and, for pre-norm, a final layer norm."""

    layer_class: type[nn.Module]

    def __init__(
        self,
        num_layers: int,
        embed_dim: int,
        num_heads: int,
        *,
        final_norm: bool | None = None,
        **layer_kwargs,
    ) -> None:
        super().__init__()
        _check_layers(num_layers)
        self.layers = nn.ModuleList(
            self.layer_class(embed_dim, num_heads, **layer_kwargs) for _ in range(num_layers)
        )
        norm_first = layer_kwargs.get("norm_first", True)
        use_norm = norm_first if final_norm is None else final_norm
        eps = layer_kwargs.get("layer_norm_eps", 1e-5)
        self.norm = (
            nn.LayerNorm(embed_dim, eps=eps, bias=layer_kwargs.get("bias", True))
            if use_norm
            else None
        )


class TransformerEncoder(_LayerStack):
    """A stack of :class:`TransformerEncoderLayer` with a final layer norm for pre-norm.

    Args:
        num_layers: number of layers.
        embed_dim: D.
        num_heads: H.
        final_norm: apply a final LayerNorm (default: ``norm_first``).
        **layer_kwargs: keyword arguments of :class:`TransformerEncoderLayer`.
    """

    layer_class = TransformerEncoderLayer

    def new_cache(
        self,
        batch_size: int,
        max_length: int,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> TransformerCache:
        """Preallocated self-attention caches, one per layer."""
        return TransformerCache(
            [
                layer.self_attn.new_cache(batch_size, max_length, device=device, dtype=dtype)
                for layer in self.layers
            ]
        )

    def forward(
        self,
        x: Tensor,
        *,
        lengths: Tensor | None = None,
        padding_mask: Tensor | None = None,
        attn_mask: Tensor | None = None,
        causal: bool = False,
        cache: TransformerCache | None = None,
    ) -> Tensor:
        """(B, L, D) → (B, L, D); arguments as :meth:`TransformerEncoderLayer.forward`.

        The padding mask is computed once (from ``lengths`` or ``padding_mask``) and passed to
        every layer."""
        padding_mask = _stack_key_mask(x, lengths, padding_mask, cache)
        for index, layer in enumerate(self.layers):
            x = layer(
                x,
                padding_mask=padding_mask,
                attn_mask=attn_mask,
                causal=causal,
                cache=None if cache is None else cache.self_attention[index],
            )
        return x if self.norm is None else self.norm(x)


class TransformerDecoder(_LayerStack):
    """A stack of :class:`TransformerDecoderLayer` with a final layer norm for pre-norm.

    Args:
        num_layers: number of layers.
        embed_dim: D.
        num_heads: H.
        final_norm: apply a final LayerNorm (default: ``norm_first``).
        **layer_kwargs: keyword arguments of :class:`TransformerDecoderLayer`.
    """

    layer_class = TransformerDecoderLayer

    def new_cache(
        self,
        batch_size: int,
        max_length: int,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> TransformerCache:
        """Preallocated self-attention caches and empty memory caches, one per layer."""
        return TransformerCache(
            [
                layer.self_attn.new_cache(batch_size, max_length, device=device, dtype=dtype)
                for layer in self.layers
            ],
            [StaticKVCache() for _ in self.layers],
        )

    def forward(
        self,
        x: Tensor,
        memory: Tensor | None,
        *,
        lengths: Tensor | None = None,
        padding_mask: Tensor | None = None,
        memory_lengths: Tensor | None = None,
        memory_padding_mask: Tensor | None = None,
        memory_position: Tensor | None = None,
        attn_mask: Tensor | None = None,
        causal: bool = True,
        cache: TransformerCache | None = None,
        need_weights: bool = False,
        average_attn_weights: bool = True,
        weights_layer: int | None = None,
    ) -> Tensor | tuple[Tensor, list[Tensor]]:
        """(B, L, D) attending to memory → (B, L, D), and with ``need_weights`` the list of
        per-layer cross-attention weights (B, L, L_m) — per head (B, H, L, L_m) with
        ``average_attn_weights=False``. With ``weights_layer`` only that layer computes its
        weights (the plain path); the others keep the fused kernel and give None. Arguments as
        :meth:`TransformerDecoderLayer.forward`; with a cache, ``memory`` is projected on the
        first call and may be None afterwards. The self-attention and memory padding masks
        are computed once and passed to every layer."""
        padding_mask = _stack_key_mask(x, lengths, padding_mask, cache)
        if isinstance(memory, Tensor) and memory.ndim == 3:
            memory_padding_mask = resolve_key_mask(
                memory_lengths,
                memory_padding_mask,
                batch_size=memory.shape[0],
                length=memory.shape[1],
                device=memory.device,
            )
            memory_lengths = None
        if weights_layer is not None and not -len(self.layers) <= weights_layer < len(self.layers):
            raise ParameterError(
                f"weights_layer={weights_layer!r} must be a layer index below {len(self.layers)}"
            )
        wanted = None if weights_layer is None else weights_layer % len(self.layers)
        all_weights = []
        for index, layer in enumerate(self.layers):
            layer_weights = need_weights and (wanted is None or index == wanted)
            layer_cache = None
            if cache is not None:
                layer_cache = (cache.self_attention[index], cache.cross_attention[index])
            result = layer(
                x,
                memory,
                padding_mask=padding_mask,
                memory_lengths=memory_lengths,
                memory_padding_mask=memory_padding_mask,
                memory_position=memory_position,
                attn_mask=attn_mask,
                causal=causal,
                cache=layer_cache,
                need_weights=layer_weights,
                average_attn_weights=average_attn_weights,
            )
            if layer_weights:
                x, weights = result
                all_weights.append(weights)
            else:
                x = result
                if need_weights:
                    all_weights.append(None)
        x = x if self.norm is None else self.norm(x)
        return (x, all_weights) if need_weights else x
