"""The `intake` command: one module per audience, each subcommand calling one function of
the layers below. Importing the modules registers their subcommands on `main`."""

from intake.cli import admin, reports, running  # noqa: F401  (they register the subcommands)
from intake.cli.base import main

__all__ = ["main"]
