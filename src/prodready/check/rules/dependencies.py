"""Rules for dependencies files (being written)."""
