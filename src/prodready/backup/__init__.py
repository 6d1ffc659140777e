"""`prodready backup` / `prodready restore`: PostgreSQL, MariaDB and SQLite backups that are
proven restorable, and restores into a new database that are swapped in and can be swapped back.

A backup is a directory `<dest>/<id>/` holding its parts and `manifest.json` (written last); the
directory only gets its final name once complete. `verification.json` beside the manifest
records each verification, so the manifest itself never changes.
"""
