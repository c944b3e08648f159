"""`python -m leadbridge …` is the same as the `leadbridge` command."""

from leadbridge.cli.main import main

main()
