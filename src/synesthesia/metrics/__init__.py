"""synesthesia.metrics."""
