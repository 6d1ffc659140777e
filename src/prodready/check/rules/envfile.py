"""Rules for envfile files (being written)."""
