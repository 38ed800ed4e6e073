"""Exit codes of the ``edgeops`` command, named in one place.

They follow ``terraform plan -detailed-exitcode``: 0 in sync, 1 error,
2 drift.  Usage errors get ``EX_USAGE`` from sysexits.h so that they can never
be mistaken for "drift found".
"""

from enum import IntEnum


class RC(IntEnum):
    """Process exit codes."""

    OK = 0
    """Success; for ``drift``: everything is in sync."""
    ERROR = 1
    """Something failed: a host was unreachable, a task failed, bad state."""
    DRIFT = 2
    """``drift`` found differences between Git and the hosts."""
    USAGE = 64
    """The command line was wrong (unknown option, invalid value)."""
    INTERRUPTED = 130
    """Stopped by Ctrl-C (128 + SIGINT)."""
