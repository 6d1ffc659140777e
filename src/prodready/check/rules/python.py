"""Rules for python files (being written)."""
