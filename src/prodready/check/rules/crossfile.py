"""Rules for crossfile files (being written)."""
