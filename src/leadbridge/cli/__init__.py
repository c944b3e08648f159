"""The `leadbridge` command line: thin Typer commands that call services and render with Rich."""
