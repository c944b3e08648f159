"""leadbridge: a self-hosted sync hub for B2B sales data."""

from leadbridge.secrets.logs import install_log_redaction

__version__ = "0.1.0"

# Before any leadbridge logger says anything: its records are masked (see secrets/logs.py).
install_log_redaction()
