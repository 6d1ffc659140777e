"""Rules for gunicorn files (being written)."""
