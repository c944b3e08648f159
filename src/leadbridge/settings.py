"""Process settings, read from the environment (never from the policy file).

The policy file says *what* syncs; these say *where the hub lives* and *how secrets are kept*.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEADBRIDGE_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///leadbridge.db",
        description="SQLAlchemy URL of the hub; SQLite file in the working directory by default.",
    )
    secret_key: str | None = Field(
        default=None,
        description="Fernet key(s) (urlsafe base64, 32 bytes) that encrypt credentials at "
        "rest; several, comma-separated: the first seals, every one opens.",
    )
    key_file: Path = Field(
        default=Path(".leadbridge.key"),
        description="The key file (one key a line) used when LEADBRIDGE_SECRET_KEY is not set.",
    )
    bind: str = Field(default="127.0.0.1:8765", description="Address of `leadbridge serve`.")
    stages: list[str] = Field(
        default=["pending", "target", "education", "solution", "evaluation", "ready_to_buy"],
        description="Ordered lead stages, lowest first. customer / not_a_fit are never ranks.",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
