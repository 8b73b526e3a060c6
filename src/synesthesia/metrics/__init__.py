"""synesthesia.metrics."""

from synesthesia.metrics.retrieval import (  # noqa: E402
    cross_modal_retrieval,
    retrieval_metrics,
    similarity_matrix,
)

__all__ = ["cross_modal_retrieval", "retrieval_metrics", "similarity_matrix"]
