"""Metric-learning losses against pytorch-metric-learning (float64), gradcheck, errors."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F
from pytorch_metric_learning import distances as pml_distances
from pytorch_metric_learning import losses as pml_losses
from pytorch_metric_learning import miners as pml_miners
from pytorch_metric_learning.utils import loss_and_miner_utils as lmu

from synesthesia.errors import ParameterError
from synesthesia.functional.metric_losses import (
    contrastive_loss,
    info_nce_loss,
    mine_triplets,
    pairwise_distances,
    triplet_margin_loss,
)

TOL = {"rtol": 1e-10, "atol": 1e-12}


def _batch(seed: int, *, batch_size: int = 24, dim: int = 8, num_classes: int = 4):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch_size, dim, generator=g, dtype=torch.float64)
    labels = torch.randint(0, num_classes, (batch_size,), generator=g)
    return x, labels


def _pml_distance(distance: str):
    if distance == "euclidean":
        return pml_distances.LpDistance(normalize_embeddings=False, p=2, power=1)
    return pml_distances.CosineSimilarity()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pairwise_distances_match_brute_force(seed):
    x, _ = _batch(seed)
    y = torch.randn(5, x.shape[1], dtype=torch.float64)
    brute = torch.stack([torch.stack([(a - b).norm() for b in y]) for a in x])
    torch.testing.assert_close(pairwise_distances(x, y, distance="euclidean"), brute, **TOL)
    torch.testing.assert_close(
        pairwise_distances(x, y, distance="squared_euclidean"), brute**2, **TOL
    )
    cos = torch.stack([torch.stack([F.cosine_similarity(a, b, dim=0) for b in y]) for a in x])
    torch.testing.assert_close(pairwise_distances(x, y, distance="cosine"), 1 - cos, **TOL)


@pytest.mark.parametrize("seed,margin", [(0, 1.0), (1, 3.0), (2, 5.0)])
def test_contrastive_matches_pml_euclidean(seed, margin):
    x, labels = _batch(seed)
    ours = contrastive_loss(
        x, labels, margin=margin, distance="euclidean", reduction="mean_nonzero"
    )
    ref = pml_losses.ContrastiveLoss(
        pos_margin=0, neg_margin=margin, distance=_pml_distance("euclidean")
    )(x, labels)
    torch.testing.assert_close(ours, ref, **TOL)


@pytest.mark.parametrize("seed,margin", [(0, 0.5), (3, 1.2)])
def test_contrastive_matches_pml_cosine(seed, margin):
    # cosine distance d = 1 - s: our (pos: d, neg: relu(margin - d)) is PML's similarity form
    # (pos: relu(1 - s), neg: relu(s - (1 - margin))).
    x, labels = _batch(seed)
    ours = contrastive_loss(x, labels, margin=margin, distance="cosine", reduction="mean_nonzero")
    ref = pml_losses.ContrastiveLoss(
        pos_margin=1, neg_margin=1 - margin, distance=pml_distances.CosineSimilarity()
    )(x, labels)
    torch.testing.assert_close(ours, ref, **TOL)


def test_contrastive_hand_computed():
    x = torch.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]], dtype=torch.float64)
    labels = torch.tensor([0, 0, 1])
    # pos pairs (0,1),(1,0): d=5; neg pairs (0,2),(2,0): d=1 -> 2-1=1; (1,2),(2,1): d=sqrt(18)
    losses = contrastive_loss(x, labels, margin=2.0, distance="euclidean", reduction="none")
    expected = torch.tensor([5.0, 5.0, 1.0, 0.0, 1.0, 0.0], dtype=torch.float64)
    torch.testing.assert_close(losses, expected, **TOL)
    mean_nonzero = contrastive_loss(x, labels, margin=2.0, reduction="mean_nonzero")
    torch.testing.assert_close(mean_nonzero, torch.tensor(6.0, dtype=torch.float64), **TOL)
    torch.testing.assert_close(
        contrastive_loss(x, labels, margin=2.0, reduction="mean"),
        torch.tensor(12.0 / 6, dtype=torch.float64),
        **TOL,
    )


@pytest.mark.parametrize(
    "seed,mining,distance,margin",
    [
        (s, m, d, mg)
        for (s, (m, d)), mg in zip(
            enumerate(
                itertools.product(("batch_all", "hard", "semihard"), ("euclidean", "cosine"))
            ),
            [0.2, 0.5, 1.0, 0.1, 0.3, 0.7],
        )
    ],
)
def test_triplet_matches_pml_triplet_margin_miner(seed, mining, distance, margin):
    x, labels = _batch(seed)
    pml_type = {"batch_all": "all", "hard": "hard", "semihard": "semihard"}[mining]
    miner = pml_miners.TripletMarginMiner(
        margin=margin, type_of_triplets=pml_type, distance=_pml_distance(distance)
    )
    loss_fn = pml_losses.TripletMarginLoss(margin=margin, distance=_pml_distance(distance))
    ref = loss_fn(x, labels, miner(x, labels))
    ours = triplet_margin_loss(
        x, labels, margin=margin, mining=mining, distance=distance, reduction="mean_nonzero"
    )
    assert ref.item() > 0
    torch.testing.assert_close(ours, ref, **TOL)
    # the mined triplets themselves match (as sets)
    d = pairwise_distances(x, distance=distance)
    ours_t = set(zip(*(t.tolist() for t in mine_triplets(d, labels, margin=margin, mining=mining))))
    # "batch_all" keeps every valid triplet (the reduction drops zero losses); PML's "all"
    # miner keeps those within the margin, so compare with PML's list of all triplets there.
    ref_idx = lmu.get_all_triplets_indices(labels) if mining == "batch_all" else miner(x, labels)
    ref_t = set(zip(*(t.tolist() for t in ref_idx)))
    assert ours_t == ref_t and len(ours_t) > 0


def test_batch_all_without_miner_matches_pml_all_triplets():
    x, labels = _batch(7)
    ref = pml_losses.TripletMarginLoss(margin=0.4, distance=_pml_distance("euclidean"))(x, labels)
    ours = triplet_margin_loss(
        x, labels, margin=0.4, mining="batch_all", distance="euclidean", reduction="mean_nonzero"
    )
    torch.testing.assert_close(ours, ref, **TOL)


@pytest.mark.parametrize("seed,distance", [(0, "euclidean"), (1, "cosine"), (2, "euclidean")])
def test_batch_hard_matches_pml_batch_hard_miner(seed, distance):
    x, labels = _batch(seed, num_classes=6)
    labels[0] = 99  # an anchor without positives is skipped by both
    miner = pml_miners.BatchHardMiner(distance=_pml_distance(distance))
    ref = pml_losses.TripletMarginLoss(margin=0.3, distance=_pml_distance(distance))(
        x, labels, miner(x, labels)
    )
    ours = triplet_margin_loss(
        x, labels, margin=0.3, mining="batch_hard", distance=distance, reduction="mean_nonzero"
    )
    torch.testing.assert_close(ours, ref, **TOL)
    d = pairwise_distances(x, distance=distance)
    anchor, _, _ = mine_triplets(d, labels, margin=0.3, mining="batch_hard")
    assert 0 not in anchor.tolist() and len(anchor) == len(labels) - 1


def test_triplet_hand_computed_batch_hard():
    x = torch.tensor([[0.0], [1.0], [3.0], [1.5]], dtype=torch.float64)
    labels = torch.tensor([0, 0, 0, 1])
    losses = triplet_margin_loss(
        x, labels, margin=0.5, mining="batch_hard", distance="euclidean", reduction="none"
    )
    # anchor 0: hardest pos 3 (d=3), neg d=1.5 -> 2.0; anchor 1: pos 2 (d=2), neg .5 -> 2.0;
    # anchor 2: pos 0 (d=3), neg 1.5 -> 2.0; anchor 3 has no positive.
    torch.testing.assert_close(losses, torch.full((3,), 2.0, dtype=torch.float64), **TOL)


@pytest.mark.parametrize("seed,temperature", [(0, 0.07), (1, 0.5), (2, 1.0)])
def test_info_nce_matches_pml_ntxent_and_clip_by_hand(seed, temperature):
    g = torch.Generator().manual_seed(seed)
    x = F.normalize(torch.randn(16, 12, generator=g, dtype=torch.float64), dim=1)
    y = F.normalize(torch.randn(16, 12, generator=g, dtype=torch.float64), dim=1)
    ours = info_nce_loss(x, y, logit_scale=1 / temperature, reduction="mean")
    labels = torch.arange(16)
    ntxent = pml_losses.NTXentLoss(temperature=temperature)
    # ref_labels must be another tensor object, else PML treats y as x and drops the diagonal
    x_to_y = ntxent(x, labels, ref_emb=y, ref_labels=labels.clone())
    y_to_x = ntxent(y, labels, ref_emb=x, ref_labels=labels.clone())
    ref = 0.5 * (x_to_y + y_to_x)
    torch.testing.assert_close(ours, ref, **TOL)
    # CLIP pseudo-code, by hand
    logits = (x @ y.T) / temperature
    log_p_rows = logits - logits.logsumexp(dim=1, keepdim=True)
    log_p_cols = logits - logits.logsumexp(dim=0, keepdim=True)
    by_hand = -0.5 * (log_p_rows.diagonal().mean() + log_p_cols.diagonal().mean())
    torch.testing.assert_close(ours, by_hand, **TOL)


def test_info_nce_normalises_its_inputs():
    x, y = torch.randn(6, 4, dtype=torch.float64), torch.randn(6, 4, dtype=torch.float64)
    torch.testing.assert_close(
        info_nce_loss(3.0 * x, 0.5 * y, logit_scale=10.0),
        info_nce_loss(F.normalize(x, dim=1), F.normalize(y, dim=1), logit_scale=10.0),
        **TOL,
    )


@pytest.mark.parametrize("distance", ["euclidean", "squared_euclidean", "cosine"])
def test_gradcheck_pair_and_triplet_losses(distance):
    x, labels = _batch(3, batch_size=8, dim=3, num_classes=3)
    x.requires_grad_(True)
    for mining in ("batch_all", "batch_hard"):
        assert torch.autograd.gradcheck(
            lambda e, m=mining: triplet_margin_loss(
                e, labels, margin=0.5, mining=m, distance=distance, reduction="mean"
            ),
            (x,),
        )
    assert torch.autograd.gradcheck(
        lambda e: contrastive_loss(e, labels, margin=2.0, distance=distance, reduction="sum"),
        (x,),
    )


def test_gradcheck_info_nce_including_scale():
    g = torch.Generator().manual_seed(4)
    x = torch.randn(5, 3, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.randn(5, 3, generator=g, dtype=torch.float64, requires_grad=True)
    scale = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda a, b, s: info_nce_loss(a, b, logit_scale=s), (x, y, scale)
    )


def test_identical_positives_have_finite_zero_gradient():
    x = torch.tensor([[1.0, 2.0], [1.0, 2.0], [5.0, 5.0]], requires_grad=True)
    loss = contrastive_loss(x, torch.tensor([0, 0, 1]), margin=1.0, reduction="mean")
    loss.backward()
    assert torch.isfinite(x.grad).all()


def test_float32_and_dtype_follow_input():
    x, labels = _batch(5)
    for dtype in (torch.float32, torch.float64):
        out = triplet_margin_loss(x.to(dtype), labels, mining="semihard", margin=1.0)
        assert out.dtype == dtype
        assert info_nce_loss(x.to(dtype), x.to(dtype).flip(0)).dtype == dtype


def test_no_triplets_warns_and_stays_differentiable():
    x = torch.randn(4, 3, requires_grad=True)
    with pytest.warns(UserWarning, match="no triplet"):
        loss = triplet_margin_loss(x, torch.arange(4))
    loss.backward()
    assert loss.item() == 0 and torch.equal(x.grad, torch.zeros_like(x))


def test_errors_name_the_argument():
    x, labels = _batch(0)
    with pytest.raises(ParameterError, match="margin=-1"):
        contrastive_loss(x, labels, margin=-1)
    with pytest.raises(ParameterError, match="mining='easy'"):
        triplet_margin_loss(x, labels, mining="easy")
    with pytest.raises(ParameterError, match="distance='manhattan'"):
        triplet_margin_loss(x, labels, distance="manhattan")
    with pytest.raises(ParameterError, match="reduction='avg'"):
        contrastive_loss(x, labels, reduction="avg")
    with pytest.raises(ParameterError, match="labels of shape"):
        contrastive_loss(x, labels[:-1])
    with pytest.raises(ParameterError, match="labels of dtype"):
        contrastive_loss(x, labels.double())
    with pytest.raises(ParameterError, match="embeddings of shape"):
        triplet_margin_loss(x[0], labels)
    with pytest.raises(ParameterError, match="logit_scale=0"):
        info_nce_loss(x, x, logit_scale=0.0)
    with pytest.raises(ParameterError, match="must match x"):
        info_nce_loss(x, x[:3])


# -- issue #19: normalize_embeddings (PML's LpDistance(normalize_embeddings=...)) ------------
def _non_unit_batch(seed: int, *, batch_size: int = 24, dim: int = 8, num_classes: int = 4):
    """Rows with norms spread over 0.05 .. 20, so normalising changes every distance."""
    x, labels = _batch(seed, batch_size=batch_size, dim=dim, num_classes=num_classes)
    g = torch.Generator().manual_seed(100 + seed)
    norms = torch.exp(torch.empty(batch_size, 1, dtype=torch.float64).uniform_(-3, 3, generator=g))
    x = F.normalize(x, dim=1) * norms
    assert x.norm(dim=1).max() / x.norm(dim=1).min() > 10
    return x, labels


def _pml_lp(distance: str, normalize: bool):
    power = 2 if distance == "squared_euclidean" else 1
    return pml_distances.LpDistance(normalize_embeddings=normalize, p=2, power=power)


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("distance", ["euclidean", "squared_euclidean"])
def test_pairwise_distances_normalize_embeddings_match_pml(distance, normalize):
    x, _ = _non_unit_batch(0)
    y = 7.0 * torch.randn(5, x.shape[1], dtype=torch.float64)
    ours = pairwise_distances(x, y, distance=distance, normalize_embeddings=normalize)
    torch.testing.assert_close(ours, _pml_lp(distance, normalize)(x, y), **TOL)
    # normalising changes the result on these inputs (so the switch is really exercised)
    other = pairwise_distances(x, y, distance=distance, normalize_embeddings=not normalize)
    assert (ours - other).abs().max() > 0.1


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("seed,margin", [(0, 0.5), (1, 1.0), (2, 3.0)])
def test_contrastive_matches_pml_on_non_unit_inputs(seed, margin, normalize):
    x, labels = _non_unit_batch(seed)
    ours = contrastive_loss(
        x,
        labels,
        margin=margin,
        distance="euclidean",
        normalize_embeddings=normalize,
        reduction="mean_nonzero",
    )
    ref = pml_losses.ContrastiveLoss(
        pos_margin=0, neg_margin=margin, distance=_pml_lp("euclidean", normalize)
    )(x, labels)
    torch.testing.assert_close(ours, ref, **TOL)


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize(
    "seed,mining,distance,margin",
    [
        (0, "batch_all", "euclidean", 0.2),
        (1, "hard", "euclidean", 0.5),
        (2, "semihard", "euclidean", 0.3),
        (3, "batch_all", "squared_euclidean", 0.4),
        (4, "semihard", "squared_euclidean", 0.5),
    ],
)
def test_triplet_matches_pml_on_non_unit_inputs(seed, mining, distance, margin, normalize):
    x, labels = _non_unit_batch(seed)
    pml_type = {"batch_all": "all", "hard": "hard", "semihard": "semihard"}[mining]
    miner = pml_miners.TripletMarginMiner(
        margin=margin, type_of_triplets=pml_type, distance=_pml_lp(distance, normalize)
    )
    loss_fn = pml_losses.TripletMarginLoss(margin=margin, distance=_pml_lp(distance, normalize))
    ref = loss_fn(x, labels, miner(x, labels))
    ours = triplet_margin_loss(
        x,
        labels,
        margin=margin,
        mining=mining,
        distance=distance,
        normalize_embeddings=normalize,
        reduction="mean_nonzero",
    )
    assert ref.item() > 0
    torch.testing.assert_close(ours, ref, **TOL)


@pytest.mark.parametrize("normalize", [True, False])
def test_batch_hard_matches_pml_on_non_unit_inputs(normalize):
    x, labels = _non_unit_batch(5, num_classes=6)
    miner = pml_miners.BatchHardMiner(distance=_pml_lp("euclidean", normalize))
    ref = pml_losses.TripletMarginLoss(margin=0.3, distance=_pml_lp("euclidean", normalize))(
        x, labels, miner(x, labels)
    )
    ours = triplet_margin_loss(
        x,
        labels,
        margin=0.3,
        mining="batch_hard",
        distance="euclidean",
        normalize_embeddings=normalize,
    )
    torch.testing.assert_close(ours, ref, **TOL)


def test_normalize_embeddings_default_is_false_and_cosine_always_normalises():
    x, labels = _non_unit_batch(6)
    # the default keeps the raw embeddings (PML's LpDistance(normalize_embeddings=False))
    torch.testing.assert_close(
        contrastive_loss(x, labels, margin=2.0),
        contrastive_loss(x, labels, margin=2.0, normalize_embeddings=False),
        rtol=0,
        atol=0,
    )
    torch.testing.assert_close(
        triplet_margin_loss(x, labels, margin=0.5),
        triplet_margin_loss(x, labels, margin=0.5, normalize_embeddings=False),
        rtol=0,
        atol=0,
    )
    # normalize_embeddings=True is the raw loss of the L2-normalised rows
    torch.testing.assert_close(
        triplet_margin_loss(x, labels, margin=0.5, normalize_embeddings=True),
        triplet_margin_loss(F.normalize(x, dim=1), labels, margin=0.5),
        **TOL,
    )
    # cosine distance is defined on normalised rows: the switch changes nothing
    for normalize in (True, False):
        torch.testing.assert_close(
            pairwise_distances(x, distance="cosine", normalize_embeddings=normalize),
            pairwise_distances(x, distance="cosine"),
            rtol=0,
            atol=0,
        )
    with pytest.raises(ParameterError, match="normalize_embeddings=1"):
        contrastive_loss(x, labels, normalize_embeddings=1)
