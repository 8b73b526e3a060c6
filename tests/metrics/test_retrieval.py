"""Retrieval metrics against a brute-force numpy implementation and hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from synesthesia.errors import ParameterError
from synesthesia.metrics.retrieval import cross_modal_retrieval, retrieval_metrics


def _brute_force(query, gallery, query_labels, gallery_labels, ks, normalize=True):
    """Per query: python sort by (-similarity, index), then walk the ranking."""
    q, g = query, gallery
    if normalize:  # cosine
        q = query / np.linalg.norm(query, axis=1, keepdims=True)
        g = gallery / np.linalg.norm(gallery, axis=1, keepdims=True)
    first_ranks, aps = [], []
    for i in range(len(q)):
        sims = [float(np.dot(q[i], g[j])) for j in range(len(g))]
        ranking = sorted(range(len(g)), key=lambda j: (-sims[j], j))
        relevant = [gallery_labels[j] == query_labels[i] for j in ranking]
        if not any(relevant):
            continue
        first_ranks.append(relevant.index(True) + 1)
        hits, precisions = 0, []
        for k, rel in enumerate(relevant, start=1):
            if rel:
                hits += 1
                precisions.append(hits / k)
        aps.append(sum(precisions) / hits)
    out = {f"R@{k}": float(np.mean([r <= k for r in first_ranks])) for k in ks}
    out["median_rank"] = float(np.median(first_ranks))
    out["mAP"] = float(np.mean(aps))
    out["num_queries"] = float(len(first_ranks))
    return out


@pytest.mark.parametrize("seed", range(4))
def test_matches_brute_force_with_labels(seed):
    rng = np.random.default_rng(seed)
    q, g = rng.normal(size=(30, 6)), rng.normal(size=(41, 6))
    ql, gl = rng.integers(0, 5, 30), rng.integers(0, 5, 41)
    gl[:5] = np.arange(5)  # every label present in the gallery
    ks = (1, 3, 5, 10)
    ours = retrieval_metrics(q, g, query_labels=ql, gallery_labels=gl, ks=ks, similarity="cosine")
    ref = _brute_force(q, g, ql, gl, ks)
    assert ours.keys() == ref.keys()
    for key in ref:
        assert ours[key] == pytest.approx(ref[key], rel=1e-12, abs=1e-12), key


@pytest.mark.parametrize("seed", range(3))
def test_matches_brute_force_paired_with_ties(seed):
    rng = np.random.default_rng(seed)
    # small integers and dot products: exact arithmetic, so many exact ties to break by index
    q = rng.integers(-1, 2, size=(24, 3)).astype(float)
    g = rng.integers(-1, 2, size=(24, 3)).astype(float)
    ours = retrieval_metrics(
        torch.from_numpy(q), torch.from_numpy(g), ks=(1, 5, 10), similarity="dot"
    )
    ref = _brute_force(q, g, np.arange(24), np.arange(24), (1, 5, 10), normalize=False)
    for key in ref:
        assert ours[key] == pytest.approx(ref[key], rel=1e-12, abs=1e-12), key


def test_hand_computed_case():
    # 3 queries, 4 gallery items on the unit circle; similarity = cosine
    angle = np.deg2rad([0.0, 30.0, 100.0, 200.0])
    gallery = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    query = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    # ranking q0: g0,g1,g2,g3; q1 (90°): g2 (10° away), g1 (60°), g0 (90°), g3 (110°)
    # q2 (180°): g3, g2, g1, g0
    labels_q, labels_g = [0, 1, 0], [1, 0, 1, 0]
    out = retrieval_metrics(
        query, gallery, query_labels=labels_q, gallery_labels=labels_g, ks=(1, 2)
    )
    # q0: relevant g1, g3 -> ranks 2, 4; AP = (1/2 + 2/4) / 2 = 0.5; first rank 2
    # q1: relevant g0, g2 -> ranks 3, 1; AP = (1/1 + 2/3) / 2 = 5/6; first rank 1
    # q2: relevant g1, g3 -> ranks 3, 1; AP = 5/6; first rank 1
    assert out["R@1"] == pytest.approx(2 / 3)
    assert out["R@2"] == pytest.approx(1.0)
    assert out["median_rank"] == pytest.approx(1.0)
    assert out["mAP"] == pytest.approx((0.5 + 5 / 6 + 5 / 6) / 3)


def test_perfect_and_reversed_retrieval_in_both_directions():
    z = torch.nn.functional.normalize(
        torch.randn(12, 8, generator=torch.Generator().manual_seed(0))
    )
    out = cross_modal_retrieval(z, z.clone(), ks=(1, 5, 10))
    for direction in ("audio_to_image", "image_to_audio"):
        assert out[direction]["R@1"] == 1.0 and out[direction]["median_rank"] == 1.0
        assert out[direction]["mAP"] == 1.0
    worst = retrieval_metrics(torch.eye(3), torch.tensor([[1.0, 0, 0]] * 3) - torch.eye(3))
    assert worst["R@1"] == 0.0


def test_directions_differ_when_the_labels_do():
    q = torch.randn(5, 4, generator=torch.Generator().manual_seed(1))
    g = torch.randn(7, 4, generator=torch.Generator().manual_seed(2))
    ql, gl = torch.tensor([0, 1, 2, 0, 1]), torch.tensor([2, 2, 1, 0, 1, 0, 2])
    out = cross_modal_retrieval(q, g, first_labels=ql, second_labels=gl, names=("a", "b"))
    assert out["a_to_b"] == retrieval_metrics(q, g, query_labels=ql, gallery_labels=gl)
    assert out["b_to_a"] == retrieval_metrics(g, q, query_labels=gl, gallery_labels=ql)


def test_queries_without_relevant_items_warn_and_are_left_out():
    q, g = torch.randn(4, 3), torch.randn(5, 3)
    with pytest.warns(UserWarning, match="1 of 4 queries"):
        out = retrieval_metrics(q, g, query_labels=[0, 1, 2, 9], gallery_labels=[0, 1, 2, 0, 1])
    assert out["num_queries"] == 3


def test_errors_name_the_argument():
    q = torch.randn(4, 3)
    with pytest.raises(ParameterError, match="Q=4 must equal G=5"):
        retrieval_metrics(q, torch.randn(5, 3))
    with pytest.raises(ParameterError, match="ks="):
        retrieval_metrics(q, q, ks=(0,))
    with pytest.raises(ParameterError, match="similarity='l1'"):
        retrieval_metrics(q, q, similarity="l1")
    with pytest.raises(ParameterError, match="given together"):
        retrieval_metrics(q, q, query_labels=[0, 1, 2, 3])
    with pytest.raises(ParameterError, match="gallery_labels of shape"):
        retrieval_metrics(q, q, query_labels=[0, 1, 2, 3], gallery_labels=[0, 1])
    with pytest.raises(ParameterError, match="no query"):
        retrieval_metrics(q, q, query_labels=[0, 0, 0, 0], gallery_labels=[1, 1, 1, 1])
