"""Rules for nginx files (being written)."""
