"""synesthesia.transforms."""
