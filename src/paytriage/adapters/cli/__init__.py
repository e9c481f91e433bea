"""The ``paytriage`` command line (Typer + Rich)."""
