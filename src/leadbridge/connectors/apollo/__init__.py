"""apollo."""
