"""synesthesia.functional."""

from synesthesia.functional.filters import deemphasis, preemphasis
from synesthesia.functional.mu_law import mu_law_decode, mu_law_encode

__all__ = ["deemphasis", "mu_law_decode", "mu_law_encode", "preemphasis"]
