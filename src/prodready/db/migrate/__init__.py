"""SQLite or MariaDB/MySQL → PostgreSQL: `plan` (`mysql_plan` for MySQL) decides each column's
target type and cast from the source's declared types and data, `schema` creates the tables (or
reads the app's own), `copy` streams the rows with COPY in resumable batches, `verify` proves
the target holds what the plan says."""
