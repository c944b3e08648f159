"""Connectors: each outside system behind one small interface (see base.py)."""
