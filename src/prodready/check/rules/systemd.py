"""Rules for systemd files (being written)."""
