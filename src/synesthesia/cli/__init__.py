"""The command line (the only layer that parses flags and config files)."""
