"""``edgeops demo``: the runbook's story on the local lab, step by step.

lab up -> apply -> drift (in sync, exit 0) -> the "3 AM hand fix" (a worker's
sysctl changed at runtime and in its file, mysql-01's drop-in edited) ->
drift shows exactly those (exit 2) -> apply heals -> drift clean -> audit
show and verify.  Each step says what it expects; the demo stops at the first
step that does not do what it should and exits 1.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.rule import Rule

from edgeops import console
from edgeops.audit import AuditLog, verify
from edgeops.commands.apply import run_and_report
from edgeops.commands.audit import show_records
from edgeops.config import DEFAULT_PLAYBOOK, default_audit_log
from edgeops.errors import EdgeopsError
from edgeops.lab.image import check_distro
from edgeops.lab.manager import Lab, LabConfig
from edgeops.lab.podman import Podman
from edgeops.rc import RC
from edgeops.report import load_report_module, write_atomic
from edgeops.report.render import render_text

#: The hand fixes: (host, description, shell command run in the container).
#: Paths are the ones the roles own: sysctl_tuning_path and mysql_host's
#: drop-in (<mariadb.conf.d>/90-edgeops.cnf).
HAND_FIXES: tuple[tuple[str, str, str], ...] = (
    ("k8s-worker-1", "net.core.somaxconn 4096 -> 1024 at runtime and in /etc/sysctl.d/99-k8s-network.conf",
     "sysctl -q -w net.core.somaxconn=1024 && "
     "sed -i 's/^net.core.somaxconn = .*/net.core.somaxconn = 1024/' /etc/sysctl.d/99-k8s-network.conf"),
    ("mysql-01", "innodb_io_capacity 2000 -> 500 in /etc/mysql/mariadb.conf.d/90-edgeops.cnf",
     "sed -i 's/^innodb_io_capacity = .*/innodb_io_capacity = 500/' "
     "/etc/mysql/mariadb.conf.d/90-edgeops.cnf"),
)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``demo``."""
    p = sub.add_parser("demo", help="the GitOps loop on the local lab, step by step (start here)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--distro", default="bookworm", help="lab Debian release (bookworm, trixie)")
    p.add_argument("-i", "--inventory", type=Path, action="append",
                   help="lab inventory (repeatable; default inventory/lab)")
    p.add_argument("--report-dir", type=Path, default=Path("edgeops-demo"),
                   help="where each step's JSON and JUnit reports go (default ./edgeops-demo)")
    p.add_argument("--audit-log", type=Path, default=None,
                   help=f"audit log (default $EDGEOPS_AUDIT_LOG or {default_audit_log()})")
    p.add_argument("--skip-lab-up", action="store_true", help="assume the lab is already up")
    p.set_defaults(func=_demo)


@dataclass
class _Demo:
    args: argparse.Namespace
    step: int = 0

    @property
    def inventories(self) -> list[Path]:
        return list(self.args.inventory or [Path("inventory/lab")])

    def heading(self, title: str, expect: str) -> None:
        self.step += 1
        out = console.stdout()
        out.print()
        out.print(Rule(f"[bold]Step {self.step}: {title}[/]", align="left"))
        out.print(f"[dim]expect: {expect}[/]")

    def run(self, command: str, expect: RC) -> dict[str, Any]:
        ns = argparse.Namespace(
            playbook=DEFAULT_PLAYBOOK, inventory=self.inventories, limit=None, forks=None,
            format="table", output=None, audit_log=self.args.audit_log, lock_timeout=None,
            artifacts_dir=None, verbose=0, keep_artifacts=False,
            strategy=getattr(self.args, "strategy", None),
        )
        rc, report = run_and_report(ns, check=command == "drift")
        base = self.args.report_dir / f"{self.step:02d}-{command}"
        write_atomic(base.with_suffix(".json"), render_text(report, "json"))
        write_atomic(base.with_suffix(".xml"), render_text(report, "junit"))
        write_atomic(base.with_suffix(".md"), render_text(report, "markdown"))
        if rc != expect:
            raise EdgeopsError(
                f"step {self.step} ({command}) exited {int(rc)}, expected {int(expect)}",
                hint=f"see the report {base.with_suffix('.json')}",
            )
        console.stdout().print(f"[green]✔[/] {command} exited {int(rc)} as expected")
        return report


def _drifted(report: dict[str, Any]) -> dict[str, list[str]]:
    """Host -> one line per drifted item: ``concern  drifted  key  before → after  (where)``."""
    found: dict[str, list[str]] = {}
    for host, concern, status, item, change, where in load_report_module().report_lines(report):
        found.setdefault(host, []).append("  ".join(x for x in (concern, status, item, change, where) if x))
    return found


def _demo(args: argparse.Namespace) -> RC:
    d = _Demo(args)
    out = console.stdout()
    args.report_dir.mkdir(parents=True, exist_ok=True)

    d.heading("the lab: five Debian hosts in podman (edgeops lab up)", "all hosts running")
    if args.skip_lab_up:
        out.print("skipped (--skip-lab-up)")
    else:
        config = LabConfig(distro=check_distro(args.distro), inventory_dir=d.inventories[0])
        for line in Lab(config).up() or ["already up; nothing changed"]:
            out.print(f"lab: {line}")

    d.heading("apply the site playbook from Git (edgeops apply)", "exit 0")
    d.run("apply", RC.OK)

    d.heading("drift right after apply (edgeops drift)", "in sync, exit 0")
    d.run("drift", RC.OK)

    d.heading("the 3 AM hand fix", "two hosts edited by hand, outside Git")
    podman = Podman()
    for host, what, script in HAND_FIXES:
        proc = podman("exec", host, "sh", "-c", script, check=False)
        if proc.returncode != 0:
            raise EdgeopsError(f"hand fix failed on {host}: {(proc.stderr or proc.stdout).strip()}",
                               hint="is the lab up and the site applied? (edgeops lab status)")
        out.print(f"  {host}: {what}")

    d.heading("drift finds exactly those (edgeops drift)", "exit 2, drift on k8s-worker-1 and mysql-01 only")
    report = d.run("drift", RC.DRIFT)
    found = _drifted(report)
    expected_hosts = {h for h, _, _ in HAND_FIXES}
    if set(found) != expected_hosts:
        raise EdgeopsError(f"drift reported on {sorted(found)}, expected exactly {sorted(expected_hosts)}")
    for host, lines in sorted(found.items()):
        for line in lines:
            out.print(f"  {host}  {line}", highlight=False)

    d.heading("apply heals it (edgeops apply)", "exit 0, the two hosts changed back")
    d.run("apply", RC.OK)

    d.heading("drift is clean again (edgeops drift)", "in sync, exit 0")
    d.run("drift", RC.OK)

    d.heading("who changed what, when, from which commit (edgeops audit show)", "the runs above")
    show_args = argparse.Namespace(log=args.audit_log, host=None, since=None, until=None, format="table",
                                   last=6)
    show_records(show_args)

    d.heading("the audit trail is intact (edgeops audit verify)", "OK")
    log = AuditLog(args.audit_log) if args.audit_log else AuditLog(default_audit_log())
    verdict = verify(log)
    if not verdict.ok:
        raise EdgeopsError(f"audit verify failed at seq {verdict.first_bad_seq}: {verdict.problem}")
    out.print(f"[green]OK[/]: {verdict.records} records, hash chain intact: {log.path}")
    out.print()
    out.print(f"[bold green]Demo complete.[/] Reports: {args.report_dir}/")
    return RC.OK
