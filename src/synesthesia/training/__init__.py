"""synesthesia.training."""
