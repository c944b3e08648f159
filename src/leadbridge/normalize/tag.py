"""Tags (the lists a person is on) compare without case and spacing."""

from __future__ import annotations

MAX_TAG = 100  # the hub column's length


def normalize_tag(raw: str) -> str:
    """A tag as stored and compared; ValueError when it is too long to be one."""
    tag = " ".join(raw.split()).lower()
    if len(tag) > MAX_TAG:
        raise ValueError(f"tag {tag[:40]!r}… is longer than {MAX_TAG} characters")
    return tag
