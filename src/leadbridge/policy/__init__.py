"""Policy: what flows where and which records qualify (pydantic models, clear errors)."""
