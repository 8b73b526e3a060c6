"""A Transformer captioner: CNN grid regions as the memory of a Transformer decoder.

The image goes through the same ResNet grid encoder as Show, Attend and Tell (P annotation
vectors, (B, P, D_enc)); a linear layer maps them to the model width D and a fixed 2-D
sinusoidal code (rows in the first D/2 channels, columns in the last D/2) tells each region
where it lies. Words are embedded (``√D · E[y]``, Vaswani et al. Sec. 3.4) with a 1-D
sinusoidal code and pass through a stack of pre-norm decoder layers, each with masked
self-attention, cross-attention to the P regions and a feed-forward block; the output layer
shares the embedding matrix (tied input/output embeddings). Training is teacher-forced
cross-entropy; decoding is greedy or batched beam search from
:mod:`~synesthesia.models.caption_search` with a KV cache (self-attention keys/values of past
words, the regions' keys/values projected once).

Per-word attention maps are the cross-attention weights of one decoder layer
(``attention_layer``, the last by default): per head (``CaptionOutput.head_alphas``,
(B, L, H, P)) and averaged over heads (``CaptionOutput.alphas``, (B, L, P)), so the
overlay figure and the pointing accuracy read them exactly as they read Show, Attend and
Tell's.

References:
    Vaswani et al., "Attention Is All You Need", NeurIPS 2017 (decoder, sinusoidal codes,
    shared embedding and pre-softmax weights); Press & Wolf, "Using the Output Embedding to
    Improve Language Models", EACL 2017 (tied embeddings); Xu et al., "Show, Attend and Tell",
    ICML 2015 (the CNN grid as annotation vectors); Carion et al., "End-to-End Object Detection
    with Transformers" (DETR), 2020 (2-D sinusoidal codes split between rows and columns).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from synesthesia.errors import ParameterError
from synesthesia.functional.attention import lengths_to_mask
from synesthesia.models.base import PretrainedModel
from synesthesia.models.caption_search import (
    CaptionOutput,
    GridCaptionerMixin,
    check_captions,
    decode_captions,
)
from synesthesia.models.registry import register_model
from synesthesia.nn.positional import SinusoidalPositionalEncoding2D, sinusoidal_positional_encoding
from synesthesia.nn.resnet import ImageEncoder
from synesthesia.nn.transformer import TransformerCache, TransformerDecoder

__all__ = ["TransformerCaptioner", "TransformerDecodingState"]

#: where the regions' 2-D position codes go (see ``TransformerCaptioner(position_code=...)``)
POSITION_CODES = ("keys_values", "keys")


@dataclass
class TransformerDecodingState:
    """What a :class:`TransformerCaptioner` carries from one decoding step to the next.

    Attributes:
        tokens: (B, t) the words fed so far (``<start>`` first).
        memory: (B, P, D) the regions (with their position codes unless
            ``position_code="keys"``).
        cache: the decoder's KV cache, or None when decoding without one (every step then
            reruns the decoder over ``tokens``).
        memory_position: (1, P, D) the regions' position codes when they go to the keys only
            (``position_code="keys"``), else None.
    """

    tokens: Tensor
    memory: Tensor
    cache: TransformerCache | None
    memory_position: Tensor | None = None


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ParameterError(f"{name}={value!r} must be a positive integer")
    return value


class TransformerCaptioner(GridCaptionerMixin, PretrainedModel):
    """Image captioner: ResNet grid encoder + Transformer decoder with cross-attention.

    Args:
        vocab_size: V, including the special tokens.
        encoder_layout: ResNet layout of the encoder ("tiny", "resnet18", "resnet34",
            "resnet50").
        grid_size: annotation grid (int or (rows, columns)); P = rows × columns.
        in_channels: C of the input images.
        embed_dim: D, the decoder width (a multiple of 4 and of ``num_heads``).
        num_layers: decoder layers.
        num_heads: H, attention heads.
        ff_dim: feed-forward width (default 4·D).
        dropout: dropout in the decoder (training only).
        head_dropout: DropHead on the cross-attention (training only): each head's reading of
            the regions is dropped for a whole caption with this probability, so every head
            must find the word's region on its own and the head-averaged map points at it.
        max_length: most positions a caption may have (``<start>`` included): the size of
            the KV cache and the longest ``generate(max_length=...)`` + 1.
        attention_layer: which decoder layer's cross-attention gives the attention maps
            (negative counts from the last).
        position_code: where the regions' 2-D codes go: "keys_values" adds them to the
            regions (the memory every layer reads), "keys" adds them to the cross-attention
            keys only (as DETR does), so a head finds a region by where it is while what it
            reads back is only what the region holds.
        position_embedding: also add a learned vector per grid region to the annotations
            (as ``ShowAttendTell(position_embedding=True)``), beside the fixed 2-D codes.
        encoder_weights: a torchvision ResNet state-dict file (``.pth`` / ``.safetensors``)
            loaded into the encoder at construction (initialisation only: not part of
            :meth:`get_config`; the trained weights come from ``model.safetensors``).
        pad_id: id of ``<pad>`` (ignored by the loss).
        start_id: id of ``<start>``.
        end_id: id of ``<end>``.

    Shapes:
        forward: images (B, C, H, W), captions (B, L) starting with ``<start>``,
        caption_lengths (B,) counting ``<start>`` and ``<end>`` → logits (B, L - 1, V)
        predicting ``captions[:, 1:]`` and head-averaged cross-attention weights alphas
        (B, L - 1, P) of ``attention_layer`` (zero past each length).
    """

    architecture = "transformer_captioner"

    def __init__(
        self,
        vocab_size: int,
        *,
        encoder_layout: str = "resnet18",
        grid_size: int | Sequence[int] = 7,
        in_channels: int = 3,
        embed_dim: int = 512,
        num_layers: int = 3,
        num_heads: int = 8,
        ff_dim: int | None = None,
        dropout: float = 0.1,
        head_dropout: float = 0.0,
        max_length: int = 64,
        attention_layer: int = -1,
        position_code: str = "keys_values",
        position_embedding: bool = False,
        encoder_weights: str | os.PathLike | None = None,
        pad_id: int = 0,
        start_id: int = 1,
        end_id: int = 2,
    ) -> None:
        super().__init__()
        for name, value in (
            ("vocab_size", vocab_size),
            ("embed_dim", embed_dim),
            ("num_layers", num_layers),
            ("num_heads", num_heads),
            ("max_length", max_length),
        ):
            _positive_int(name, value)
        if embed_dim % 4:
            raise ParameterError(f"embed_dim={embed_dim} must be a multiple of 4 (2-D codes)")
        for name, value in (("dropout", dropout), ("head_dropout", head_dropout)):
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not (0.0 <= value < 1.0)
            ):
                raise ParameterError(f"{name}={value!r} must be a probability in [0, 1)")
        if (
            isinstance(attention_layer, bool)
            or not isinstance(attention_layer, int)
            or not (-num_layers <= attention_layer < num_layers)
        ):
            raise ParameterError(
                f"attention_layer={attention_layer!r} must be a layer index in "
                f"[{-num_layers}, {num_layers})"
            )
        if position_code not in POSITION_CODES:
            raise ParameterError(f"position_code={position_code!r} must be one of {POSITION_CODES}")
        for name, value in (("pad_id", pad_id), ("start_id", start_id), ("end_id", end_id)):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < vocab_size:
                raise ParameterError(f"{name}={value!r} must be a token id below {vocab_size}")
        self.vocab_size, self.embed_dim = vocab_size, embed_dim
        self.num_layers, self.num_heads = num_layers, num_heads
        self.ff_dim = 4 * embed_dim if ff_dim is None else _positive_int("ff_dim", ff_dim)
        self.encoder_layout, self.in_channels = encoder_layout, in_channels
        self.dropout_p, self.head_dropout = float(dropout), float(head_dropout)
        self.max_length = max_length
        self.attention_layer = attention_layer % num_layers
        self.position_code = position_code
        self.pad_id, self.start_id, self.end_id = pad_id, start_id, end_id

        self.encoder = ImageEncoder(encoder_layout, grid_size=grid_size, in_channels=in_channels)
        if encoder_weights is not None:
            self.encoder.load_torchvision_state_dict(encoder_weights)
        self.grid_size = self.encoder.grid_size
        self.encoder_dim = self.encoder.encoder_dim
        self.position_embedding = None
        if position_embedding:
            self.position_embedding = nn.Parameter(
                torch.zeros(self.encoder.num_regions, self.encoder_dim)
            )
            nn.init.normal_(self.position_embedding, std=0.1)
        self.region_proj = nn.Linear(self.encoder_dim, embed_dim)
        self.region_norm = nn.LayerNorm(embed_dim)
        self.region_position = SinusoidalPositionalEncoding2D(embed_dim)
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        nn.init.normal_(self.embedding.weight, std=embed_dim**-0.5)
        self.embed_dropout = nn.Dropout(dropout)
        self.decoder = TransformerDecoder(
            num_layers,
            embed_dim,
            num_heads,
            ff_dim=self.ff_dim,
            dropout=dropout,
            norm_first=True,
            cross_head_dropout=head_dropout,
        )
        self.output_bias = nn.Parameter(torch.zeros(vocab_size))  # the weight is the embedding

    def get_config(self) -> dict[str, Any]:
        return {
            "vocab_size": self.vocab_size,
            "encoder_layout": self.encoder_layout,
            "grid_size": list(self.grid_size),
            "in_channels": self.in_channels,
            "embed_dim": self.embed_dim,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "ff_dim": self.ff_dim,
            "dropout": self.dropout_p,
            "head_dropout": self.head_dropout,
            "max_length": self.max_length,
            "attention_layer": self.attention_layer,
            "position_code": self.position_code,
            "position_embedding": self.position_embedding is not None,
            "pad_id": self.pad_id,
            "start_id": self.start_id,
            "end_id": self.end_id,
        }

    # -- pieces shared by training and decoding -------------------------------------------

    def encode(self, images: Tensor) -> Tensor:
        """Annotations (B, P, D_enc) of images (B, C, H, W), as Show, Attend and Tell's."""
        annotations = self.encode_images(images)
        if self.position_embedding is not None:
            annotations = annotations + self.position_embedding.to(annotations.dtype)
        return annotations

    def project_annotations(self, annotations: Tensor) -> Tensor:
        """The decoder's memory: annotations (B, P, D_enc) → regions (B, P, D), with their
        2-D codes added unless ``position_code="keys"`` (then see :meth:`memory_position`)."""
        if annotations.dim() != 3 or annotations.shape[-1] != self.encoder_dim:
            raise ParameterError(
                f"annotations with shape {tuple(annotations.shape)} must be "
                f"(B, P, encoder_dim={self.encoder_dim})"
            )
        rows, columns = self.grid_size
        memory = self.region_norm(self.region_proj(annotations))  # (B, P, D)
        if self.position_code == "keys":
            return memory
        return self.region_position(memory, height=rows, width=columns)

    def memory_position(self, memory: Tensor) -> Tensor | None:
        """The codes (1, P, D) added to the cross-attention keys only, or None when they are
        part of the memory (``position_code="keys_values"``)."""
        if self.position_code != "keys":
            return None
        rows, columns = self.grid_size
        zeros = memory.new_zeros(1, rows * columns, self.embed_dim)
        return self.region_position(zeros, height=rows, width=columns)

    def embed(self, tokens: Tensor, *, offset: int = 0) -> Tensor:
        """Word inputs (B, L) at positions offset … offset + L - 1 → (B, L, D)."""
        if offset + tokens.shape[1] > self.max_length:
            raise ParameterError(
                f"caption positions up to {offset + tokens.shape[1]} exceed "
                f"max_length={self.max_length} of this model"
            )
        x = self.embedding(tokens) * math.sqrt(self.embed_dim)  # (B, L, D)
        code = sinusoidal_positional_encoding(
            tokens.shape[1], self.embed_dim, offset=offset, device=x.device, dtype=x.dtype
        )
        return self.embed_dropout(x + code)

    def logits(self, hidden: Tensor) -> Tensor:
        """Decoder output (..., D) → logits (..., V) through the tied embedding."""
        return F.linear(hidden, self.embedding.weight, self.output_bias)

    # -- training -----------------------------------------------------------------------

    def forward(
        self, images: Tensor, captions: Tensor, caption_lengths: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Teacher-forced decoding of a length-masked batch, all positions at once.

        Returns:
            logits (B, L - 1, V) and alphas (B, L - 1, P); both are zero past
            ``caption_lengths - 1`` steps.
        """
        memory = self.project_annotations(self.encode(images))  # (B, P, D)
        batch = memory.shape[0]
        check_captions(captions, caption_lengths, batch)
        steps = captions.shape[1] - 1
        inputs = self.embed(captions[:, :-1])  # (B, L - 1, D)
        lengths = caption_lengths.to(captions.device) - 1
        hidden, weights = self.decoder(
            inputs,
            memory,
            lengths=lengths,
            memory_position=self.memory_position(memory),
            causal=True,
            need_weights=True,
            average_attn_weights=False,
            weights_layer=self.attention_layer,
        )  # (B, L - 1, D), (B, H, L - 1, P) at attention_layer
        alphas = weights[self.attention_layer].mean(dim=1)  # (B, L - 1, P)
        mask = lengths_to_mask(lengths, max_length=steps).unsqueeze(-1).to(hidden.dtype)
        return self.logits(hidden) * mask, alphas * mask

    def loss(
        self,
        logits: Tensor,
        alphas: Tensor,
        captions: Tensor,
        caption_lengths: Tensor,
    ) -> dict[str, Tensor]:
        """Cross-entropy over valid target words (the mean over valid tokens).

        Args:
            logits: (B, L - 1, V) from :meth:`forward`.
            alphas: (B, L - 1, P) from :meth:`forward` (no regulariser: reported as 0 so that
                the caption task logs the same quantities for every captioner).
            captions: (B, L), the same captions.
            caption_lengths: (B,).

        Returns:
            ``{"loss", "cross_entropy", "attention_regularization"}`` (scalars).
        """
        targets = captions[:, 1:]
        valid = lengths_to_mask(caption_lengths.to(targets.device) - 1, max_length=targets.shape[1])
        cross_entropy = F.cross_entropy(logits[valid], targets[valid])
        return {
            "loss": cross_entropy,
            "cross_entropy": cross_entropy,
            "attention_regularization": torch.zeros((), dtype=logits.dtype, device=logits.device),
        }

    # -- decoding (the protocol of caption_search) --------------------------------------

    def init_state(
        self, annotations: Tensor, *, max_length: int | None = None, use_cache: bool = True
    ) -> TransformerDecodingState:
        """The state before the first word: memory, an empty token prefix and (with
        ``use_cache``) a KV cache of ``max_length`` positions (default: the model's)."""
        capacity = self.max_length if max_length is None else max_length
        if capacity > self.max_length:
            raise ParameterError(
                f"max_length={capacity} must not exceed the model's max_length={self.max_length}"
            )
        memory = self.project_annotations(annotations)
        batch = memory.shape[0]
        tokens = torch.zeros(batch, 0, dtype=torch.long, device=memory.device)
        cache = None
        if use_cache:
            cache = self.decoder.new_cache(
                batch, capacity, device=memory.device, dtype=memory.dtype
            )
        return TransformerDecodingState(tokens, memory, cache, self.memory_position(memory))

    @staticmethod
    def reorder_state(state: TransformerDecodingState, rows: Tensor) -> TransformerDecodingState:
        """Rows ``rows`` (B',) of the state; the cache is reordered in place.

        As :mod:`~synesthesia.models.caption_search` calls it: a first call with more rows
        expands B images to B·K beams and copies everything; later calls keep the batch size
        and map every row to a beam of the same image (a beam's parent), so only the
        per-beam parts move (word prefix, self-attention cache) and the per-image regions
        (memory, cross-attention cache) stay where they are.
        """
        expanding = rows.shape[0] != state.tokens.shape[0]
        cache = state.cache
        if cache is not None:
            if expanding:
                cache.reorder(rows)
            else:
                for layer_cache in cache.self_attention:
                    layer_cache.reorder(rows)
        memory = state.memory[rows] if expanding else state.memory
        return TransformerDecodingState(state.tokens[rows], memory, cache, state.memory_position)

    def step(
        self,
        tokens: Tensor,
        state: TransformerDecodingState,
        annotations: Tensor | None = None,
        projected: Tensor | None = None,
    ) -> tuple[Tensor, TransformerDecodingState, Tensor]:
        """One decoding step.

        Args:
            tokens: the previous words y_{t-1} (B,).
            state: from :meth:`init_state` or the previous step.
            annotations: unused (the memory travels in ``state``); part of the protocol.
            projected: unused, likewise.

        Returns:
            logits (B, V) of y_t, the new state and the cross-attention weights of
            ``attention_layer`` per head (B, H, P).
        """
        prefix = torch.cat([state.tokens, tokens[:, None]], dim=1)  # (B, t + 1)
        cache = state.cache
        if cache is not None:  # only the new word goes through; the cache holds the past
            x = self.embed(tokens[:, None], offset=cache.length)  # (B, 1, D)
            memory = None if cache.cross_attention[0].is_set else state.memory
        else:  # no cache: rerun the whole prefix, keep its last position
            x = self.embed(prefix)  # (B, t + 1, D)
            memory = state.memory
        hidden, weights = self.decoder(
            x,
            memory,
            memory_position=None if memory is None else state.memory_position,
            causal=True,
            cache=cache,
            need_weights=True,
            average_attn_weights=False,
            weights_layer=self.attention_layer,
        )  # (B, L_x, D), (B, H, L_x, P) at attention_layer
        logits = self.logits(hidden[:, -1])  # (B, V)
        alpha = weights[self.attention_layer][:, :, -1]  # (B, H, P)
        state = TransformerDecodingState(prefix, state.memory, cache, state.memory_position)
        return logits, state, alpha

    @torch.no_grad()
    def generate(
        self,
        images: Tensor,
        *,
        beam_size: int = 1,
        max_length: int = 20,
        length_normalization: bool = False,
        use_cache: bool = True,
    ) -> CaptionOutput:
        """Caption images (B, C, H, W): greedy (``beam_size=1``) or batched beam search.

        ``use_cache=False`` reruns the decoder over the whole prefix at every step (the
        reference the cached decoding is tested against: same captions and scores).

        Returns:
            :class:`CaptionOutput`: tokens (B, L), lengths (B,), scores (B,), alphas
            (B, L, P) averaged over heads and head_alphas (B, L, H, P).
        """
        return decode_captions(
            self,
            images,
            beam_size=beam_size,
            max_length=max_length,
            length_normalization=length_normalization,
            use_cache=use_cache,
        )


register_model(
    "transformer_captioner_tiny",
    TransformerCaptioner,
    vocab_size=14,
    encoder_layout="tiny",
    grid_size=(2, 8),
    embed_dim=32,
    num_layers=2,
    num_heads=2,
    ff_dim=64,
    dropout=0.0,
    max_length=32,
)
register_model(
    "transformer_captioner_small",
    TransformerCaptioner,
    vocab_size=10000,
    encoder_layout="resnet18",
    grid_size=7,
    embed_dim=256,
    num_layers=3,
    num_heads=8,
    ff_dim=1024,
    dropout=0.1,
    max_length=64,
)
