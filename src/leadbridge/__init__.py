"""leadbridge: a self-hosted sync hub for B2B sales data."""

__version__ = "0.1.0"
