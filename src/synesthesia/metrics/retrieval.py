"""Retrieval metrics for joint embeddings: Recall@K, median rank, mAP, in both directions.

Each query ranks the whole gallery by similarity (highest first; ties broken by gallery
index, lower first, so results are deterministic). A gallery item is *relevant* to a query
when their labels are equal; without labels, query ``i`` has exactly one relevant item,
gallery item ``i`` (paired data, as in audio↔image retrieval of matching clips).

- ``R@K``: fraction of queries with at least one relevant item among the first K.
- ``median_rank``: median over queries of the 1-based rank of the first relevant item
  (numpy's median: the mean of the two middle values for an even count).
- ``mAP``: mean over queries of average precision,
  ``AP = (1 / R) * sum_k precision@k * relevant_k`` over all ranks k, R relevant items.

Queries without any relevant gallery item are left out (with a warning).

References:
    Manning, Raghavan & Schütze, "Introduction to Information Retrieval", 2008, ch. 8
    (precision at k, average precision); Karpathy & Fei-Fei 2015 and Harwath et al. 2016
    (R@K and median rank for cross-modal retrieval).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from synesthesia.errors import ParameterError

__all__ = ["cross_modal_retrieval", "retrieval_metrics", "similarity_matrix"]

SIMILARITIES = ("cosine", "dot", "euclidean")


def _as_matrix(name: str, x: Any) -> Tensor:
    x = torch.as_tensor(x)
    if x.dim() != 2 or x.is_complex():
        raise ParameterError(f"{name} of shape {tuple(x.shape)} must be a 2-D array (B, E)")
    return x.detach().to(torch.float64)


def similarity_matrix(query: Any, gallery: Any, *, similarity: str = "cosine") -> Tensor:
    """Similarities (Q, G) between query embeddings (Q, E) and gallery embeddings (G, E).

    Args:
        query: embeddings (Q, E) (tensor or array).
        gallery: embeddings (G, E).
        similarity: "cosine", "dot" or "euclidean" (negative Euclidean distance).

    Returns:
        float64 tensor (Q, G), larger = more similar.
    """
    if similarity not in SIMILARITIES:
        raise ParameterError(f"similarity={similarity!r} must be one of {list(SIMILARITIES)}")
    q, g = _as_matrix("query", query), _as_matrix("gallery", gallery)
    if q.shape[1] != g.shape[1]:
        raise ParameterError(f"gallery of width E={g.shape[1]} must match query E={q.shape[1]}")
    if similarity == "cosine":
        q = torch.nn.functional.normalize(q, dim=1)
        g = torch.nn.functional.normalize(g, dim=1)
    if similarity == "euclidean":
        return -torch.cdist(q.unsqueeze(0), g.unsqueeze(0)).squeeze(0)
    return q @ g.transpose(0, 1)


def _relevance(num_query: int, num_gallery: int, query_labels: Any, gallery_labels: Any) -> Tensor:
    if (query_labels is None) != (gallery_labels is None):
        raise ParameterError("query_labels and gallery_labels must be given together or neither")
    if query_labels is None:
        if num_query != num_gallery:
            raise ParameterError(
                f"without labels query i matches gallery i, so Q={num_query} must equal "
                f"G={num_gallery}"
            )
        return torch.eye(num_query, dtype=torch.bool)
    ql, gl = torch.as_tensor(query_labels), torch.as_tensor(gallery_labels)
    if ql.shape != (num_query,):
        raise ParameterError(f"query_labels of shape {tuple(ql.shape)} must be ({num_query},)")
    if gl.shape != (num_gallery,):
        raise ParameterError(f"gallery_labels of shape {tuple(gl.shape)} must be ({num_gallery},)")
    return ql.unsqueeze(1) == gl.unsqueeze(0)


def retrieval_metrics(
    query: Any,
    gallery: Any,
    *,
    query_labels: Any = None,
    gallery_labels: Any = None,
    ks: Sequence[int] = (1, 5, 10),
    similarity: str = "cosine",
) -> dict[str, float]:
    """Recall@K, median rank and mAP of retrieving ``gallery`` items with ``query`` items.

    Args:
        query: query embeddings (Q, E).
        gallery: gallery embeddings (G, E).
        query_labels: labels (Q,); ``None`` (with ``gallery_labels=None``) pairs i with i.
        gallery_labels: labels (G,).
        ks: the K of each Recall@K.
        similarity: "cosine", "dot" or "euclidean".

    Returns:
        ``{"R@1": ..., "R@5": ..., "R@10": ..., "median_rank": ..., "mAP": ...,
        "num_queries": ...}`` (floats; ``num_queries`` counts the queries scored).
    """
    ks = tuple(ks)
    if not ks or any(isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in ks):
        raise ParameterError(f"ks={ks!r} must be a non-empty sequence of positive integers")
    scores = similarity_matrix(query, gallery, similarity=similarity)
    relevant = _relevance(scores.shape[0], scores.shape[1], query_labels, gallery_labels)
    has_relevant = relevant.any(dim=1)
    if not has_relevant.all():
        missing = int((~has_relevant).sum())
        if missing == len(has_relevant):
            raise ParameterError("no query has a relevant gallery item (check the labels)")
        warnings.warn(
            f"{missing} of {len(has_relevant)} queries have no relevant gallery item and are "
            "left out",
            stacklevel=2,
        )
        scores, relevant = scores[has_relevant], relevant[has_relevant]
    order = torch.sort(scores, dim=1, descending=True, stable=True).indices
    hits = relevant.gather(1, order).to(torch.float64)  # (Q, G) relevance in ranked order
    first_rank = hits.argmax(dim=1).to(torch.float64) + 1.0
    ranks = torch.arange(1, hits.shape[1] + 1, dtype=torch.float64)
    precision_at = hits.cumsum(dim=1) / ranks
    average_precision = (precision_at * hits).sum(dim=1) / hits.sum(dim=1)
    result = {f"R@{k}": float((first_rank <= k).to(torch.float64).mean()) for k in ks}
    result["median_rank"] = float(torch.quantile(first_rank, 0.5))
    result["mAP"] = float(average_precision.mean())
    result["num_queries"] = float(hits.shape[0])
    return result


def cross_modal_retrieval(
    first: Any,
    second: Any,
    *,
    first_labels: Any = None,
    second_labels: Any = None,
    ks: Sequence[int] = (1, 5, 10),
    similarity: str = "cosine",
    names: tuple[str, str] = ("audio", "image"),
) -> dict[str, dict[str, float]]:
    """:func:`retrieval_metrics` in both directions between two modalities.

    Args:
        first: embeddings of the first modality (Q, E), e.g. audio.
        second: embeddings of the second modality (G, E), e.g. images.
        first_labels: labels (Q,) or ``None`` (row i pairs with row i).
        second_labels: labels (G,) or ``None``.
        ks: the K of each Recall@K.
        similarity: "cosine", "dot" or "euclidean".
        names: names of the two modalities, used in the keys.

    Returns:
        ``{"audio_to_image": {...}, "image_to_audio": {...}}`` with the default names.
    """
    a, b = names
    return {
        f"{a}_to_{b}": retrieval_metrics(
            first,
            second,
            query_labels=first_labels,
            gallery_labels=second_labels,
            ks=ks,
            similarity=similarity,
        ),
        f"{b}_to_{a}": retrieval_metrics(
            second,
            first,
            query_labels=second_labels,
            gallery_labels=first_labels,
            ks=ks,
            similarity=similarity,
        ),
    }
