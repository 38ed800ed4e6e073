"""Errors the command line turns into ``Error: ...`` / ``Hint: ...`` lines."""

from __future__ import annotations

from edgeops.rc import RC


class EdgeopsError(Exception):
    """An error the user can act on.

    ``hint`` says what to do about it; ``rc`` is the exit code the command
    line returns for it.
    """

    def __init__(self, message: str, hint: str | None = None, rc: RC = RC.ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.rc = rc


class UsageError(EdgeopsError):
    """The command line itself is wrong."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint, RC.USAGE)
