"""synesthesia.text."""
