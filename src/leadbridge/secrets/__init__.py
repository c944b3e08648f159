"""Credentials encrypted at rest (Fernet) and kept out of everything shown or logged.

- keys: LEADBRIDGE_SECRET_KEY or the key file, one key or several (the first seals); a key is
  generated only while nothing is sealed yet;
- box: SecretBox seals and opens a connection's credentials;
- values: the process-wide registry of secret values, and `redact` (by key, value, pattern);
- logs: the masking of every `leadbridge` log record.
"""

from leadbridge.secrets.box import SecretBox
from leadbridge.secrets.keys import (
    ENV,
    KeyRing,
    SecretKeyError,
    create_key_file,
    load_keys,
    load_or_create_key,
    replace_key_file,
)
from leadbridge.secrets.logs import RedactingFilter, install_log_redaction
from leadbridge.secrets.values import (
    REDACTED,
    SECRET_KEYS,
    SECRET_VALUES,
    redact,
    redact_text,
    remember,
    remember_credentials,
)

__all__ = [
    "ENV",
    "REDACTED",
    "SECRET_KEYS",
    "SECRET_VALUES",
    "KeyRing",
    "RedactingFilter",
    "SecretBox",
    "SecretKeyError",
    "create_key_file",
    "install_log_redaction",
    "load_keys",
    "load_or_create_key",
    "redact",
    "redact_text",
    "remember",
    "remember_credentials",
    "replace_key_file",
]
