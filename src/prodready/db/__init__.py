"""`prodready db`: move an app's database from SQLite to PostgreSQL with proof, and size
connection pools from the server's real limits."""
