"""Metric-learning losses: synesthesia vs pytorch-metric-learning, same inputs, one process.

Run:  python benchmarks/metric_losses.py                (all)
      python benchmarks/metric_losses.py --quick        (fewer repeats)
      python benchmarks/metric_losses.py --threads 1    (one torch thread; on a loaded shared
                                                         machine this avoids waiting for two
                                                         threads at every small op)

Forward + backward of each loss on one batch of B = 256 embeddings of width E = 128 with 16
classes (float32), equivalent settings on both sides (Euclidean distance without
normalisation, margins as stated):

- contrastive, margin 1  ↔ ``ContrastiveLoss(pos_margin=0, neg_margin=1)``
- triplet batch-all      ↔ ``TripletMarginLoss(margin=0.2)`` + ``TripletMarginMiner("all")``
- triplet semi-hard      ↔ ``TripletMarginLoss`` + ``TripletMarginMiner("semihard")``
- triplet batch-hard     ↔ ``TripletMarginLoss`` + ``BatchHardMiner()``
- symmetric InfoNCE      ↔ two ``NTXentLoss(temperature=0.07)`` calls with ``ref_emb``

The loss values are checked to agree (rtol 1e-4) before timing. Timing: median wall time over
repeats after one warm-up call; ratio = ours / reference (< 1: ours is faster).
"""

from __future__ import annotations

import argparse

import torch
from _timing import median_time
from pytorch_metric_learning import distances, losses, miners

from synesthesia.functional.metric_losses import (
    contrastive_loss,
    info_nce_loss,
    triplet_margin_loss,
)


def _forward_backward(loss_fn, *tensors):
    def run():
        inputs = [t.detach().requires_grad_(True) for t in tensors]
        loss = loss_fn(*inputs)
        loss.backward()
        return loss.detach()

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's choice)"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    repeats = 5 if args.quick else 20
    torch.manual_seed(0)
    batch, dim, num_classes = 256, 128, 16
    x = torch.randn(batch, dim)
    y = torch.randn(batch, dim)
    labels = torch.randint(0, num_classes, (batch,))
    plain = distances.LpDistance(normalize_embeddings=False, p=2, power=1)

    def pml_triplet(miner):
        loss = losses.TripletMarginLoss(margin=0.2, distance=plain)
        return lambda e: loss(e, labels, miner(e, labels))

    ntxent = losses.NTXentLoss(temperature=0.07)
    index = torch.arange(batch)
    cases = [
        (
            "contrastive (margin 1)",
            _forward_backward(lambda e: contrastive_loss(e, labels, margin=1.0), x),
            _forward_backward(
                lambda e: losses.ContrastiveLoss(pos_margin=0, neg_margin=1, distance=plain)(
                    e, labels
                ),
                x,
            ),
        ),
    ]
    for mining, miner in (
        (
            "batch_all",
            miners.TripletMarginMiner(margin=0.2, type_of_triplets="all", distance=plain),
        ),
        (
            "semihard",
            miners.TripletMarginMiner(margin=0.2, type_of_triplets="semihard", distance=plain),
        ),
        ("batch_hard", miners.BatchHardMiner(distance=plain)),
    ):
        cases.append(
            (
                f"triplet {mining}",
                _forward_backward(
                    lambda e, m=mining: triplet_margin_loss(e, labels, margin=0.2, mining=m), x
                ),
                _forward_backward(pml_triplet(miner), x),
            )
        )
    cases.append(
        (
            "symmetric InfoNCE",
            _forward_backward(lambda a, b: info_nce_loss(a, b, logit_scale=1 / 0.07), x, y),
            _forward_backward(
                lambda a, b: (
                    0.5
                    * (
                        ntxent(a, index, ref_emb=b, ref_labels=index.clone())
                        + ntxent(b, index, ref_emb=a, ref_labels=index.clone())
                    )
                ),
                x,
                y,
            ),
        )
    )
    print(
        f"B={batch} E={dim} classes={num_classes} float32, torch threads "
        f"{torch.get_num_threads()}, {repeats} repeats; forward + backward"
    )
    print(f"{'loss':28s} {'ours ms':>9s} {'PML ms':>9s} {'ours/PML':>9s}")
    for name, ours, ref in cases:
        value_ours, value_ref = ours(), ref()
        torch.testing.assert_close(value_ours, value_ref, rtol=1e-4, atol=1e-5)
        t_ours, t_ref = median_time(ours, repeats), median_time(ref, repeats)
        print(f"{name:28s} {1e3 * t_ours:9.2f} {1e3 * t_ref:9.2f} {t_ours / t_ref:9.3f}")


if __name__ == "__main__":
    main()
