"""Rules for compose files (being written)."""
