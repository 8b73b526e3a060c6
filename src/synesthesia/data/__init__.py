"""synesthesia.data."""
