"""synesthesia.functional."""
