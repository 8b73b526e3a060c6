"""Caption decoding for attentive captioners: greedy search and batched beam search.

Both work with any model exposing ``encode(images) -> annotations (B, P, D)``,
``init_state(annotations)``, ``step(tokens, state, annotations, projected) -> (logits, state,
alpha)``, ``attention.project_annotations`` and ``start_id`` / ``end_id`` / ``pad_id``
(:class:`~synesthesia.models.show_attend_tell.ShowAttendTell` does).

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

__all__ = ["CaptionOutput", "greedy_search", "beam_search", "beam_search_annotations"]


@dataclass
class CaptionOutput:
    """Decoded captions.

    Attributes:
        tokens: (B, L) generated ids without ``<start>``; ``<end>`` included when produced;
            padded with ``pad_id``.
        lengths: (B,) number of generated tokens (``<end>`` counted).
        scores: (B,) sum of log-probabilities of the generated tokens (divided by the length
            when decoded with ``length_normalization``).
        alphas: (B, L, P) attention weights of each generated token (zero past the length).
    """

    tokens: Tensor
    lengths: Tensor
    scores: Tensor
    alphas: Tensor


def _check(model: Any, images: Tensor, max_length: int) -> None:
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1:
        raise ParameterError(f"max_length={max_length!r} must be a positive integer")
    if not isinstance(images, Tensor) or images.dim() != 4 or images.shape[0] == 0:
        shape = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
        raise ParameterError(f"images with shape {shape} must be a non-empty (B, C, H, W) batch")


@torch.no_grad()
def greedy_search(
    model: Any, images: Tensor, *, max_length: int = 20, length_normalization: bool = False
) -> CaptionOutput:
    """Pick the most probable word at every step (batched; finished rows emit padding).

    Args:
        model: an attentive captioner (see module docstring).
        images: (B, C, H, W).
        max_length: most words generated (``<end>`` included).
        length_normalization: divide each score by its length.
    """
    _check(model, images, max_length)
    annotations = model.encode(images)
    projected = model.attention.project_annotations(annotations)
    state = model.init_state(annotations)
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
        out_alphas.append(alpha * active[:, None].to(alpha.dtype))
        finished = finished | (tokens == model.end_id)
        if bool(finished.all()):
            break
    if length_normalization:
        scores = scores / lengths.to(scores.dtype)
    return CaptionOutput(
        tokens=torch.stack(out_tokens, 1),
        lengths=lengths,
        scores=scores,
        alphas=torch.stack(out_alphas, 1),
    )


@torch.no_grad()
def beam_search(
    model: Any,
    images: Tensor,
    *,
    beam_size: int = 5,
    max_length: int = 20,
    length_normalization: bool = False,
) -> CaptionOutput:
    """Batched beam search: all B images × K beams decoded as one batch.

    Args:
        model: an attentive captioner (see module docstring).
        images: (B, C, H, W).
        beam_size: K, at most the vocabulary size.
        max_length: most words generated per beam (``<end>`` included).
        length_normalization: rank the final beams by score / length.

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
    )


@torch.no_grad()
def beam_search_annotations(
    model: Any,
    annotations: Tensor,
    *,
    beam_size: int = 5,
    max_length: int = 20,
    length_normalization: bool = False,
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
    batch, regions = annotations.shape[:2]
    k = beam_size
    device, dtype = annotations.device, annotations.dtype
    projected = model.attention.project_annotations(annotations)
    h, c = model.init_state(annotations)
    # every (image, beam) pair is one row of the decoder batch: row = b * K + beam
    annotations = annotations.repeat_interleave(k, dim=0)  # (B·K, P, D)
    projected = projected.repeat_interleave(k, dim=0)
    state = (h.repeat_interleave(k, dim=0), c.repeat_interleave(k, dim=0))
    tokens = torch.full((batch * k,), model.start_id, dtype=torch.long, device=device)
    scores = torch.zeros(batch, k, dtype=dtype, device=device)
    scores[:, 1:] = float("-inf")  # all beams start identical: expand only the first
    finished = torch.zeros(batch, k, dtype=torch.bool, device=device)
    lengths = torch.zeros(batch, k, dtype=torch.long, device=device)
    history = torch.zeros(batch, k, 0, dtype=torch.long, device=device)
    alpha_history = torch.zeros(batch, k, 0, regions, dtype=dtype, device=device)
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
        step_alpha = alpha.view(batch, k, regions).gather(
            1, source[..., None].expand(-1, -1, regions)
        )
        step_alpha = step_alpha * (~was_finished)[..., None].to(dtype)
        alpha_history = torch.cat(
            [
                alpha_history.gather(1, source[..., None, None].expand_as(alpha_history)),
                step_alpha[:, :, None],
            ],
            2,
        )
        lengths = lengths.gather(1, source) + (~was_finished).long()
        finished = was_finished | (words == model.end_id)
        state = (state[0][rows], state[1][rows])
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
    return CaptionOutput(
        tokens=out_tokens[:, :longest],
        lengths=out_lengths,
        scores=out_scores,
        alphas=out_alphas[:, :longest],
    )
