"""The ``edgeops`` command line: argument parsing and the one entry wrapper.

Every subcommand lives in its own module under :mod:`edgeops.commands` and
exposes ``register(subparsers)``; the handler it sets as ``func`` takes the
parsed arguments and returns an :class:`~edgeops.rc.RC`.  Library code never
prints errors or exits: it raises :class:`~edgeops.errors.EdgeopsError`, and
:func:`main` turns that into ``Error: ...`` / ``Hint: ...`` on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from edgeops import __version__
from edgeops.errors import EdgeopsError, UsageError
from edgeops.rc import RC
from edgeops.strategy import STRATEGIES

#: Subcommand modules, in the order ``--help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "edgeops.commands.demo",
    "edgeops.commands.apply",
    "edgeops.commands.drift",
    "edgeops.commands.audit",
    "edgeops.commands.lab",
)


class _Parser(argparse.ArgumentParser):
    """ArgumentParser that raises instead of exiting with argparse's code 2.

    Exit code 2 means "drift" for ``edgeops drift``; a usage error must not
    look like that.
    """

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, hint=f"run '{self.prog} --help' for usage")


def build_parser() -> argparse.ArgumentParser:
    """Build the full argument parser with every subcommand registered."""
    parser = _Parser(
        prog="edgeops",
        description=(
            "Configure Kubernetes nodes and MySQL hosts from Git, report drift, "
            "put it back, and keep a tamper-evident audit trail."
        ),
        epilog="Exit codes: 0 ok / in sync, 1 error, 2 drift found, 64 usage error, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"edgeops {__version__}")
    parser.add_argument(
        "--strategy", choices=STRATEGIES, default=None,
        help="Ansible strategy for apply, drift and demo: linear (Ansible's), or mitogen "
             "(Mitogen for Ansible, pip install 'edgeops[mitogen]'); default: ansible.cfg's",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def _report(err: EdgeopsError) -> None:
    print(f"Error: {err.message}", file=sys.stderr)
    if err.hint:
        print(f"Hint: {err.hint}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, run the subcommand and return its exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return int(args.func(args))
    except EdgeopsError as err:
        _report(err)
        return int(err.rc)


def run() -> int:
    """Console-script entry point: maps Ctrl-C to 130 and ignores broken pipes."""
    try:
        return main()
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return int(RC.INTERRUPTED)
    except BrokenPipeError:
        # stdout closed early (e.g. `edgeops drift --format json | head`):
        # point it at /dev/null so the interpreter's final flush stays quiet.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return int(RC.OK)
