"""Caption decoding for attentive captioners: greedy search and batched beam search.

Both work with any model exposing

- ``encode(images) -> annotations`` (B, P, D);
- ``project_annotations(annotations) -> projected``, computed once per image;
- ``init_state(annotations, *, max_length, use_cache) -> state`` (the decoder state of B
  images: an LSTM's (h, c), or a Transformer's KV cache / token prefix);
- ``step(tokens, state, annotations, projected) -> (logits (B, V), state, alpha)`` with
  alpha (B, P) or per head (B, H, P);
- ``reorder_state(state, rows) -> state``: row ``rows[i]`` of the state as row ``i`` (beam
  search expands B images to B·K beams and follows each beam's parent with it);
- ``start_id`` / ``end_id`` / ``pad_id``

(:class:`~synesthesia.models.show_attend_tell.ShowAttendTell` and
:class:`~synesthesia.models.transformer_captioner.TransformerCaptioner` do).

Beam search runs the whole batch × beam at once as one (B·K) decoder batch. A beam that has
produced ``<end>`` stays in the beam with its score frozen (it competes with the unfinished
ones at every later step, occupying one of the K slots); search stops when every beam is
finished or after ``max_length`` words. The result per image is the best beam by total
log-probability, or by log-probability divided by length with ``length_normalization``.

References:
    Xu et al., "Show, Attend and Tell", ICML 2015 (beam search decoding); Wu et al.,
    "Google's Neural Machine Translation System", 2016 (length normalisation, here with
    exponent 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from synesthesia.errors import ParameterError

__all__ = [
    "CaptionOutput",
    "GridCaptionerMixin",
    "beam_search",
    "beam_search_annotations",
    "check_captions",
    "decode_captions",
    "greedy_search",
]


@dataclass
class CaptionOutput:
    """Decoded captions.

    Attributes:
        tokens: (B, L) generated ids without ``<start>``; ``<end>`` included when produced;
            padded with ``pad_id``.
        lengths: (B,) number of generated tokens (``<end>`` counted).
        scores: (B,) sum of log-probabilities of the generated tokens (divided by the length
            when decoded with ``length_normalization``).
        alphas: (B, L, P) attention weights of each generated token (zero past the length;
            averaged over heads for a multi-head model).
        head_alphas: (B, L, H, P) the weights of each head, or None for a model with one
            attention (its step returns alpha (B, P)).
    """

    tokens: Tensor
    lengths: Tensor
    scores: Tensor
    alphas: Tensor
    head_alphas: Tensor | None = None


class GridCaptionerMixin:
    """What every captioner over a ResNet region grid shares (ShowAttendTell,
    TransformerCaptioner): the image check and layout before the encoder, the attention
    maps' reshape and the test inputs of the model contract. The class provides ``encoder``,
    ``encoder_layout``, ``grid_size``, ``in_channels``, ``vocab_size`` and the special ids."""

    def encode_images(self, images: Tensor) -> Tensor:
        """The encoder's annotations (B, P, D_enc) of images (B, C, H, W)."""
        if (
            not isinstance(images, Tensor)
            or images.dim() != 4
            or images.shape[1] != self.in_channels
        ):
            shape = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
            raise ParameterError(
                f"images with shape {shape} must be (B, C={self.in_channels}, H, W)"
            )
        if not self.training:
            # inference: channels-last lets oneDNN / cuDNN pick faster convolution kernels for
            # batches (1.3x for 256 digit strips on one CPU thread); same values up to float
            # rounding. Training keeps the default layout (its runs stay bit-reproducible).
            images = images.contiguous(memory_format=torch.channels_last)
        return self.encoder(images)

    def attention_maps(self, alphas: Tensor) -> Tensor:
        """Reshape alphas (..., P) into maps (..., rows, columns) of the region grid (works
        for averaged (B, L, P) and per-head (B, L, H, P) weights alike)."""
        return alphas.reshape(*alphas.shape[:-1], *self.grid_size)

    def example_inputs(self, batch_size: int = 2) -> dict[str, Tensor]:
        """Keyword arguments of ``forward`` for tests: random images, captions of
        decreasing length (model contract of docs/architecture.md)."""
        weight = next(self.parameters())
        stride = 8 if self.encoder_layout == "tiny" else 32
        size = (stride * self.grid_size[0], stride * self.grid_size[1])
        gen = torch.Generator().manual_seed(0)
        images = torch.rand(batch_size, self.in_channels, *size, generator=gen)
        length = 5
        captions = torch.randint(4, self.vocab_size, (batch_size, length), generator=gen)
        captions[:, 0] = self.start_id
        lengths = torch.tensor([max(2, length - i) for i in range(batch_size)])
        for i, n in enumerate(lengths.tolist()):
            captions[i, n - 1] = self.end_id
            captions[i, n:] = self.pad_id
        return {
            "images": images.to(weight.device, weight.dtype),
            "captions": captions.to(weight.device),
            "caption_lengths": lengths.to(weight.device),
        }

    def example_generate_inputs(self, batch_size: int = 2) -> dict[str, Any]:
        """Keyword arguments of ``generate`` for tests (beam search, short captions)."""
        return {
            "images": self.example_inputs(batch_size)["images"],
            "beam_size": 2,
            "max_length": 4,
        }


def _output(tokens: Tensor, lengths: Tensor, scores: Tensor, alphas: Tensor) -> CaptionOutput:
    """alphas (B, L, P) or per head (B, L, H, P) → a CaptionOutput (heads averaged)."""
    if alphas.dim() == 4:
        return CaptionOutput(tokens, lengths, scores, alphas.mean(dim=2), alphas)
    return CaptionOutput(tokens, lengths, scores, alphas)


def check_captions(captions: Tensor, caption_lengths: Tensor, batch: int) -> None:
    """Raise ParameterError unless captions (B, L >= 2) and caption_lengths (B,) in [2, L]
    form a teacher-forcing batch of ``batch`` captions (the check of every captioner)."""
    if captions.dim() != 2 or captions.shape[0] != batch or captions.shape[1] < 2:
        raise ParameterError(
            f"captions with shape {tuple(captions.shape)} must be (B={batch}, L >= 2)"
        )
    if caption_lengths.shape != (batch,):
        raise ParameterError(
            f"caption_lengths with shape {tuple(caption_lengths.shape)} must be ({batch},)"
        )
    if bool((caption_lengths < 2).any()) or bool((caption_lengths > captions.shape[1]).any()):
        raise ParameterError(
            f"caption_lengths={caption_lengths.tolist()} must lie in [2, L={captions.shape[1]}]"
            " (each caption holds <start> and at least one more token)"
        )


def _check(model: Any, images: Tensor, max_length: int) -> None:
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1:
        raise ParameterError(f"max_length={max_length!r} must be a positive integer")
    if not isinstance(images, Tensor) or images.dim() != 4 or images.shape[0] == 0:
        shape = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
        raise ParameterError(f"images with shape {shape} must be a non-empty (B, C, H, W) batch")


@torch.no_grad()
def greedy_search(
    model: Any,
    images: Tensor,
    *,
    max_length: int = 20,
    length_normalization: bool = False,
    use_cache: bool = True,
) -> CaptionOutput:
    """Pick the most probable word at every step (batched; finished rows emit padding).

    Args:
        model: an attentive captioner (see module docstring).
        images: (B, C, H, W).
        max_length: most words generated (``<end>`` included).
        length_normalization: divide each score by its length.
        use_cache: decode incrementally with the model's cache (False: a Transformer reruns
            the whole prefix at every step; same captions, for checking the cache).
    """
    _check(model, images, max_length)
    annotations = model.encode(images)
    projected = model.project_annotations(annotations)
    state = model.init_state(annotations, max_length=max_length, use_cache=use_cache)
    batch = annotations.shape[0]
    device = annotations.device
    tokens = torch.full((batch,), model.start_id, dtype=torch.long, device=device)
    finished = torch.zeros(batch, dtype=torch.bool, device=device)
    scores = torch.zeros(batch, dtype=annotations.dtype, device=device)
    lengths = torch.zeros(batch, dtype=torch.long, device=device)
    out_tokens, out_alphas = [], []
    for _ in range(max_length):
        logits, state, alpha = model.step(tokens, state, annotations, projected)
        log_probs = F.log_softmax(logits, dim=-1)
        best_score, best = log_probs.max(dim=-1)
        active = ~finished
        tokens = torch.where(active, best, torch.full_like(best, model.pad_id))
        scores = scores + torch.where(active, best_score, torch.zeros_like(best_score))
        lengths = lengths + active.long()
        out_tokens.append(tokens)
        shape = (-1,) + (1,) * (alpha.dim() - 1)
        out_alphas.append(alpha * active.view(shape).to(alpha.dtype))
        finished = finished | (tokens == model.end_id)
        if bool(finished.all()):
            break
    if length_normalization:
        scores = scores / lengths.to(scores.dtype)
    return _output(torch.stack(out_tokens, 1), lengths, scores, torch.stack(out_alphas, 1))


@torch.no_grad()
def beam_search(
    model: Any,
    images: Tensor,
    *,
    beam_size: int = 5,
    max_length: int = 20,
    length_normalization: bool = False,
    use_cache: bool = True,
) -> CaptionOutput:
    """Batched beam search: all B images × K beams decoded as one batch.

    Args:
        model: an attentive captioner (see module docstring).
        images: (B, C, H, W).
        beam_size: K, at most the vocabulary size.
        max_length: most words generated per beam (``<end>`` included).
        length_normalization: rank the final beams by score / length.
        use_cache: decode incrementally with the model's cache (see :func:`greedy_search`).

    Returns:
        The best beam per image as a :class:`CaptionOutput`.
    """
    _check(model, images, max_length)
    return beam_search_annotations(
        model,
        model.encode(images),
        beam_size=beam_size,
        max_length=max_length,
        length_normalization=length_normalization,
        use_cache=use_cache,
    )


@torch.no_grad()
def decode_captions(
    model: Any,
    images: Tensor,
    *,
    beam_size: int = 1,
    max_length: int = 20,
    length_normalization: bool = False,
    use_cache: bool = True,
) -> CaptionOutput:
    """A captioner's ``generate``: greedy search (``beam_size=1``) or batched beam search, in
    eval mode (the model's mode is restored afterwards), without gradients.

    Args:
        model: an attentive captioner (see module docstring).
        images: (B, C, H, W).
        beam_size: K; 1 decodes greedily.
        max_length: most words generated (``<end>`` included).
        length_normalization: rank finished captions by log-probability per word.
        use_cache: passed to the model's ``init_state`` (a Transformer's KV cache).
    """
    was_training = model.training
    model.eval()
    try:
        if beam_size == 1:
            return greedy_search(
                model,
                images,
                max_length=max_length,
                length_normalization=length_normalization,
                use_cache=use_cache,
            )
        return beam_search(
            model,
            images,
            beam_size=beam_size,
            max_length=max_length,
            length_normalization=length_normalization,
            use_cache=use_cache,
        )
    finally:
        model.train(was_training)


@torch.no_grad()
def beam_search_annotations(
    model: Any,
    annotations: Tensor,
    *,
    beam_size: int = 5,
    max_length: int = 20,
    length_normalization: bool = False,
    use_cache: bool = True,
) -> CaptionOutput:
    """:func:`beam_search` from annotations (B, P, D) already computed by ``model.encode``.

    Useful to decode one encoding with several settings, and to time the search alone.
    """
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1:
        raise ParameterError(f"max_length={max_length!r} must be a positive integer")
    if isinstance(beam_size, bool) or not isinstance(beam_size, int) or beam_size < 1:
        raise ParameterError(f"beam_size={beam_size!r} must be a positive integer")
    if not isinstance(annotations, Tensor) or annotations.dim() != 3 or annotations.shape[0] == 0:
        shape = tuple(getattr(annotations, "shape", ()))
        raise ParameterError(f"annotations with shape {shape} must be a non-empty (B, P, D) batch")
    batch = annotations.shape[0]
    k = beam_size
    device, dtype = annotations.device, annotations.dtype
    projected = model.project_annotations(annotations)
    state = model.init_state(annotations, max_length=max_length, use_cache=use_cache)
    # every (image, beam) pair is one row of the decoder batch: row = b * K + beam
    expand = torch.arange(batch, device=device).repeat_interleave(k)  # (B·K,)
    annotations = annotations.repeat_interleave(k, dim=0)  # (B·K, P, D)
    projected = projected.repeat_interleave(k, dim=0)
    state = model.reorder_state(state, expand)
    tokens = torch.full((batch * k,), model.start_id, dtype=torch.long, device=device)
    scores = torch.zeros(batch, k, dtype=dtype, device=device)
    scores[:, 1:] = float("-inf")  # all beams start identical: expand only the first
    finished = torch.zeros(batch, k, dtype=torch.bool, device=device)
    lengths = torch.zeros(batch, k, dtype=torch.long, device=device)
    history = torch.zeros(batch, k, 0, dtype=torch.long, device=device)
    alpha_history = None  # (B, K, steps, A) with A = P, or H·P for per-head weights
    alpha_shape: tuple[int, ...] = ()
    row_offset = (torch.arange(batch, device=device) * k)[:, None]  # (B, 1)
    for _ in range(max_length):
        logits, state, alpha = model.step(tokens, state, annotations, projected)
        vocab = logits.shape[-1]
        if k > vocab:
            raise ParameterError(f"beam_size={k} must not exceed the vocabulary size {vocab}")
        log_probs = F.log_softmax(logits, dim=-1).view(batch, k, vocab)
        # a finished beam may only continue with <pad> at no cost: it keeps its score
        frozen = torch.full((vocab,), float("-inf"), dtype=dtype, device=device)
        frozen[model.pad_id] = 0.0
        log_probs = torch.where(finished[..., None], frozen, log_probs)
        candidates = (scores[..., None] + log_probs).view(batch, k * vocab)
        scores, flat = candidates.topk(k, dim=1)  # (B, K), best first
        source = torch.div(flat, vocab, rounding_mode="floor")  # beam each candidate extends
        words = flat % vocab
        was_finished = finished.gather(1, source)
        rows = (row_offset + source).view(-1)  # decoder rows to continue from
        history = torch.cat(
            [history.gather(1, source[..., None].expand_as(history)), words[..., None]], 2
        )
        alpha_shape = tuple(alpha.shape[1:])  # (P,) or (H, P)
        flat_alpha = alpha.reshape(batch, k, -1)  # (B, K, A)
        width = flat_alpha.shape[-1]
        step_alpha = flat_alpha.gather(1, source[..., None].expand(-1, -1, width))
        step_alpha = step_alpha * (~was_finished)[..., None].to(dtype)
        if alpha_history is None:
            alpha_history = torch.zeros(batch, k, 0, width, dtype=dtype, device=device)
        alpha_history = torch.cat(
            [
                alpha_history.gather(1, source[..., None, None].expand_as(alpha_history)),
                step_alpha[:, :, None],
            ],
            2,
        )
        lengths = lengths.gather(1, source) + (~was_finished).long()
        finished = was_finished | (words == model.end_id)
        state = model.reorder_state(state, rows)
        tokens = words.view(-1)
        if bool(finished.all()):
            break
    ranking = scores / lengths.to(dtype) if length_normalization else scores
    best = ranking.argmax(dim=1, keepdim=True)  # (B, 1)
    out_lengths = lengths.gather(1, best).squeeze(1)
    out_scores = ranking.gather(1, best).squeeze(1)
    out_tokens = history.gather(1, best[..., None].expand(-1, -1, history.shape[2])).squeeze(1)
    out_alphas = alpha_history.gather(
        1, best[..., None, None].expand(-1, -1, *alpha_history.shape[2:])
    ).squeeze(1)
    longest = int(out_lengths.max())
    out_alphas = out_alphas[:, :longest].reshape(batch, -1, *alpha_shape)  # (B, L, [H,] P)
    return _output(out_tokens[:, :longest], out_lengths, out_scores, out_alphas)
