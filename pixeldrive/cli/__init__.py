"""The `pixeldrive` command (`commands.main`), and what it does without a server."""

from pixeldrive.cli.commands import main

__all__ = ["main"]
