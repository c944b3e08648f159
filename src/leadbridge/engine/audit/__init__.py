"""The duplicate audit: clusters within a CRM connection's records, within the hub and across,
with confidence and evidence; the tutorial's hygiene checks; when it ran and what it found."""

from leadbridge.engine.audit.run import (
    SECTIONS,
    AuditReport,
    DuplicateCluster,
    HygieneFinding,
    audit_warning,
    last_audit,
    run_audit,
)

__all__ = [
    "SECTIONS",
    "AuditReport",
    "DuplicateCluster",
    "HygieneFinding",
    "audit_warning",
    "last_audit",
    "run_audit",
]
