"""Runners: when jobs run. The embedded runner (one process) and leases that keep one
connection's runs from overlapping, on SQLite and PostgreSQL alike."""
