"""The comparison harness and the `occam` command line (compare/cli.py)."""

__all__: list[str] = []
