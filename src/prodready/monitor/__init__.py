"""`prodready monitor`: checks with an immediate re-check before an endpoint is declared down,
alerts that are grouped, deduplicated and persisted (so a restart neither re-sends nor loses
one), and a SQLite history bounded by rollups."""
