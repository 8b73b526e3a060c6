"""synesthesia.functional."""

from synesthesia.functional.filters import deemphasis, preemphasis
from synesthesia.functional.metric_losses import (
    contrastive_loss,
    info_nce_loss,
    mine_triplets,
    pairwise_distances,
    triplet_margin_loss,
)
from synesthesia.functional.mu_law import mu_law_decode, mu_law_encode

__all__ = ["deemphasis", "mu_law_decode", "mu_law_encode", "preemphasis"]
__all__ += [
    "contrastive_loss",
    "info_nce_loss",
    "mine_triplets",
    "pairwise_distances",
    "triplet_margin_loss",
]

from synesthesia.functional.attention import (  # noqa: E402
    causal_mask,
    combine_masks,
    lengths_to_mask,
    scaled_dot_product_attention,
)

__all__ += ["causal_mask", "combine_masks", "lengths_to_mask", "scaled_dot_product_attention"]
