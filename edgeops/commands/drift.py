"""``edgeops drift``: where do the hosts differ from Git?

The apply run with ``--check --diff``, read from the event stream.  Exit
codes as ``terraform plan -detailed-exitcode``: 0 in sync, 2 drift, 1 error
(a failed or unreachable host is an error; the report still lists
everything found).
"""

from __future__ import annotations

import argparse

from edgeops.commands.apply import add_run_arguments, execute


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``drift``."""
    p = sub.add_parser(
        "drift", help="report where hosts differ from Git (check mode; exit 0 in sync, 2 drift, 1 error)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_run_arguments(p)
    p.set_defaults(func=lambda args: execute(args, check=True))
