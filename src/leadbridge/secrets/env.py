"""The environment variable that holds the key(s), apart from keys.py so that help text can
name it without loading cryptography and the settings (the CLI's start)."""

ENV = "LEADBRIDGE_SECRET_KEY"
