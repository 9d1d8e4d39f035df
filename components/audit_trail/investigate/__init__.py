"""Investigating the logs: listing a source's files, scanning them, and answering questions on DuckDB
(locally) or Athena, plus `fetch` and the sample-log generator. A library: no CLI, no terminal output."""
