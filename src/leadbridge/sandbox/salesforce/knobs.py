"""Behaviour and fault knobs of the Salesforce sandbox (in-process, or POST /__admin__/knobs)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SalesforceKnobs:
    seed: int = 1
    latency: float = 0.0
    error_rate_5xx: float = 0.0
    # A write that lands, then answers 503 (a timeout after commit, as the caller sees it).
    error_after_commit_rate: float = 0.0
    lock_row_rate: float = 0.0  # UNABLE_TO_LOCK_ROW per record (collections) or per call
    session_expiry_calls: int = 0  # a session dies after this many data calls (0: never)
    session_ttl: float = 2 * 3600.0  # org session timeout (2 h by default)
    # Salesforce has no 429: too many concurrent long requests answer 403 REQUEST_LIMIT_EXCEEDED
    # "ConcurrentPerOrgLongTxn Limit exceeded." — the next `concurrency_burst` calls get it.
    concurrency_burst: int = 0
    query_batch_size: int = 2000
    # Bulk ingest rows applied per second (0: as fast as it goes), so a job stays InProgress
    # long enough for a test to kill its client mid-job.
    bulk_rows_per_second: float = 0.0
    # The next N data calls that succeed answer 200 with an HTML page instead (after taking
    # effect), as a proxy or a maintenance page in front of the org does.
    garbage_next: int = 0
    # The org (or the user's profile) has no "API Enabled": every data call is 403
    # API_DISABLED_FOR_ORG, before it counts against the limit.
    api_disabled: bool = False
