"""Output helpers: data goes to stdout, progress and messages to stderr.

Colour follows the usual conventions: ``NO_COLOR`` disables it,
``FORCE_COLOR`` forces it, otherwise it is on only when the stream is a
terminal.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

from rich.console import Console


def _colour_wanted(stream: TextIO) -> bool | None:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return None  # let rich decide from isatty()


def make_console(stream: TextIO | None = None) -> Console:
    """Return a rich Console for ``stream`` (stdout by default) honouring NO_COLOR/FORCE_COLOR."""
    stream = stream if stream is not None else sys.stdout
    wanted = _colour_wanted(stream)
    return Console(
        file=stream,
        no_color=wanted is False,
        force_terminal=True if wanted else None,
        highlight=False,
        soft_wrap=True,
        # Not a terminal (CI logs, pipes): don't squeeze tables into 80 columns.
        width=None if stream.isatty() else 200,
    )


def stdout() -> Console:
    """Console for data (tables, reports)."""
    return make_console(sys.stdout)


def stderr() -> Console:
    """Console for progress, warnings and errors."""
    return make_console(sys.stderr)
