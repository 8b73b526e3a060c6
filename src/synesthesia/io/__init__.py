"""synesthesia.io."""
