"""The web face of `leadbridge serve`: health and status as JSON (the dashboard comes later)."""
