"""Pull: remote records into the mirror and the hub (run.py: reading; reconcile.py: into the
hub under the write rules; match.py: which hub record a remote record is)."""

from leadbridge.engine.sync.pull.run import PullReport, pull, pull_fields

__all__ = ["PullReport", "pull", "pull_fields"]
