"""Rules for dockerfile files (being written)."""
