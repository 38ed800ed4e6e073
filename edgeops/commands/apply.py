"""``edgeops apply``: put the hosts in the state Git describes.

The run flow shared with ``edgeops drift`` (which is the same run with
``--check --diff``) lives here: resolve inventory and playbook, take the
audit lock, run through :mod:`edgeops.runner` with the collection's
``edgeops.gitops.drift`` callback enabled, read the report it wrote, write
the audit record (also when interrupted), print the report.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from rich.status import Status

from edgeops import console
from edgeops.audit import AuditPushError, git_state, open_store, run_record, user_errors
from edgeops.config import DEFAULT_PLAYBOOK, RunConfig, default_artifacts_dir, default_audit_log
from edgeops.errors import EdgeopsError, UsageError
from edgeops.rc import RC
from edgeops.report import load_report_module, write_atomic
from edgeops.report.events import Progress, ProgressTracker
from edgeops.report.render import FORMATS, print_table, render_text, resolve_format
from edgeops.runner import new_ident, run_playbook


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``apply``."""
    p = sub.add_parser(
        "apply", help="apply the desired state from Git to the hosts",
        description="Run the site playbook (or PLAYBOOK) through ansible-runner, report what changed "
                    "per host and concern, and append a record to the audit log.",
    )
    add_run_arguments(p)
    p.set_defaults(func=lambda args: execute(args, check=False))


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    """Options shared by ``apply`` and ``drift``."""
    p.add_argument("playbook", nargs="?", default=DEFAULT_PLAYBOOK,
                   help=f"playbook file or collection playbook (default {DEFAULT_PLAYBOOK})")
    p.add_argument("-i", "--inventory", action="append", type=Path, metavar="INVENTORY",
                   help="inventory file or directory (repeatable; default ./inventory when it exists)")
    p.add_argument("-l", "--limit", metavar="PATTERN", help="only these hosts (Ansible host pattern)")
    p.add_argument("-f", "--forks", type=int, metavar="N", help="parallel hosts (default: ansible.cfg)")
    p.add_argument("--format", choices=FORMATS, default="auto",
                   help="report format (auto: from --output's suffix, else table on a terminal, "
                        "JSON otherwise)")
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the report to FILE")
    p.add_argument("--audit-log", "--audit-store", dest="audit_log", default=None, metavar="STORE",
                   help="audit store: a file, or git+URL[#branch] for an audit branch shared by every "
                        f"runner (default $EDGEOPS_AUDIT_STORE, $EDGEOPS_AUDIT_LOG or {default_audit_log()})")
    p.add_argument("--lock-timeout", type=float, default=None, metavar="SECONDS",
                   help="give up when another run holds the audit lock this long (default: wait)")
    p.add_argument("--artifacts-dir", type=Path, default=None,
                   help="runner artifacts, rotated "
                        f"(default $EDGEOPS_ARTIFACTS_DIR or {default_artifacts_dir()})")
    p.add_argument("--keep-artifacts", action="store_true",
                   help="keep the runner's stdout/stderr artifacts (they hold every diff, values included)")
    p.add_argument("-v", "--verbose", action="count", default=0,
                   help="list each task of a concern that is not in sync; more Ansible verbosity")


def resolve_inventory(given: list[Path] | None) -> tuple[Path, ...]:
    """The inventories to use: as given (must exist) or ./inventory; each must parse."""
    from edgeops.inventory_check import check_inventory  # loads Ansible: only when a run starts

    if given:
        missing = [str(p) for p in given if not p.exists()]
        if missing:
            raise UsageError(f"inventory not found: {', '.join(missing)}",
                             hint="pass an existing inventory file or directory with -i")
        resolved = tuple(p.resolve() for p in given)
    elif Path("inventory").exists():
        resolved = (Path("inventory").resolve(),)
    else:
        raise UsageError("no inventory given and ./inventory does not exist",
                         hint="pass -i INVENTORY, or run from the root of your configuration repository")
    check_inventory(resolved)
    return resolved


def resolve_playbook(playbook: str) -> str:
    """A playbook file (made absolute) or a collection playbook name."""
    path = Path(playbook)
    if path.exists():
        return str(path.resolve())
    if path.suffix in (".yml", ".yaml") or "/" in playbook or playbook.count(".") < 2:
        raise UsageError(f"playbook not found: {playbook}",
                         hint=f"pass a playbook file, or a collection playbook such as {DEFAULT_PLAYBOOK}")
    return playbook


@dataclass
class _Stop:
    """Set by SIGINT/SIGTERM; polled by the runner's cancel callback."""

    signum: int | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.signum = signum


def _progress_printer(status: Status | None, command: str) -> Any:
    last = [0.0]
    plays: list[str] = []

    def update(p: Progress) -> None:
        if status is None:  # not a terminal (CI log): one line per play
            if p.play and (not plays or plays[-1] != p.play):
                plays.append(p.play)
                console.stderr().print(f"{command}: play: {p.play}")
            return
        now = time.monotonic()
        if now - last[0] < 0.1:
            return
        last[0] = now
        counts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in sorted(p.counts.items()))
        done = f"{p.results} results" + (f": {counts}" if counts else "")
        status.update(f"[bold]{p.play}[/] > {p.task}  [dim]{done}[/]")

    return update


def execute(args: argparse.Namespace, check: bool) -> RC:
    """Run apply (check=False) or drift (check=True), print or write the report."""
    rc, _report = run_and_report(args, check)
    return rc


def _read_report(path: Path) -> dict[str, Any] | None:
    try:
        report: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return report


def run_and_report(args: argparse.Namespace, check: bool) -> tuple[RC, dict[str, Any]]:
    """Run, record in the audit log, emit the report; return the exit code and the report."""
    command = "drift" if check else "apply"
    inventory = resolve_inventory(args.inventory)
    playbook = resolve_playbook(args.playbook)
    if args.forks is not None and args.forks < 1:
        raise UsageError("--forks must be at least 1")
    out_is_tty = sys.stdout.isatty()
    fmt = resolve_format(args.format, args.output, out_is_tty)
    report_dir = Path(tempfile.mkdtemp(prefix="edgeops-report-"))
    report_file = report_dir / "report.json"
    config = RunConfig(
        playbook=playbook, inventory=inventory, limit=args.limit, check=check, diff=True,
        forks=args.forks, verbosity=args.verbose,
        artifacts_dir=args.artifacts_dir or default_artifacts_dir(),
        ident=new_ident(command), report_file=report_file,
        keep_artifacts=args.keep_artifacts, strategy=getattr(args, "strategy", None),
    )
    audit = open_store(args.audit_log)
    err = console.stderr()
    meta = {"playbook": playbook, "inventory": ",".join(str(p) for p in inventory), "limit": args.limit}

    stop = _Stop()
    push_error: str | None = None
    try:
        with user_errors(), audit.locked(
            wait_message=lambda pid: err.print(f"{command}: waiting for another edgeops run (pid {pid}) "
                                               f"holding {audit.lock_path}"),
            timeout=args.lock_timeout,
        ):
            # From here on Ctrl-C/SIGTERM stop ansible-playbook and still leave a record.
            previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
            started = time.monotonic()
            try:
                err.print(f"{command}: {playbook} on {meta['inventory']}"
                          + (f" (limit {args.limit})" if args.limit else ""))
                status = err.status("starting ansible-playbook") if err.is_terminal else None
                tracker = ProgressTracker(_progress_printer(status, command))
                run_error: str | None = None
                try:
                    if status is not None:
                        status.start()
                    result = run_playbook(config, tracker, cancel=lambda: stop.signum is not None)
                except EdgeopsError:
                    raise
                except Exception as exc:  # recorded, then re-raised as an EdgeopsError
                    run_error = f"{type(exc).__name__}: {exc}"
                    result = None
                finally:
                    if status is not None:
                        status.stop()
                interrupted = stop.signum is not None or (result is not None and result.cancelled)
                report = _read_report(report_file)
                if report is None:
                    # The callback wrote nothing: ansible-playbook stopped before its first play.
                    mode = "check" if check else "apply"
                    report = load_report_module().ReportBuilder(mode=mode, meta=meta).build(interrupted)
                    if not interrupted:
                        run_error = run_error or " / ".join(tracker.errors) or (
                            f"ansible-playbook exited with {result.rc if result else 'an error'} "
                            "before any play ran"
                        )
                elif interrupted and report["outcome"] != "interrupted":
                    report["outcome"], report["exit_code"] = "interrupted", int(RC.ERROR)
                if run_error:
                    report["outcome"], report["exit_code"] = "error", int(RC.ERROR)
                    report["error"] = run_error
                try:
                    audit.append(run_record(
                        report, command, git_state(inventory[0]),
                        {**meta, "forks": args.forks, "check": check, "runner": "edgeops",
                         "artifacts": str(result.artifact_dir) if result else None},
                        extra={"duration_s": round(time.monotonic() - started, 3),
                               **({"signal": signal.Signals(stop.signum).name} if stop.signum else {})},
                    ))
                except AuditPushError as exc:  # committed in the store's clone; the next run pushes it
                    hint = getattr(exc, "hint", None)
                    push_error = f"{exc}" + (f"\nHint: {hint}" if hint else "")
            finally:
                for s, handler in previous.items():
                    signal.signal(s, handler)
    finally:
        shutil.rmtree(report_dir, ignore_errors=True)
    _emit(report, fmt, args.output, out_is_tty, verbose=args.verbose > 0)
    if report.get("error"):
        err.print(f"Error: {report['error']}")
    if push_error:
        err.print(f"Error: the audit record was not pushed: {push_error}")
        return RC.ERROR, report
    if interrupted:
        err.print(f"{command}: interrupted; the audit log records it")
        return RC.INTERRUPTED, report
    return RC(report["exit_code"]), report


def _emit(report: dict[str, Any], fmt: str, output: Path | None, out_is_tty: bool,
          verbose: bool = False) -> None:
    out = console.stdout()
    if output is not None:
        if fmt == "table":
            with output.open("w", encoding="utf-8") as fh:
                print_table(report, console.make_console(fh), verbose=verbose)
        else:
            write_atomic(output, render_text(report, fmt))
        console.stderr().print(f"report: {output} ({fmt})")
        if out_is_tty:
            print_table(report, out, verbose=verbose)
        return
    if fmt == "table":
        print_table(report, out, verbose=verbose)
    else:
        sys.stdout.write(render_text(report, fmt))
        sys.stdout.flush()
