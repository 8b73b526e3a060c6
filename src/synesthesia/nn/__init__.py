"""synesthesia.nn."""
