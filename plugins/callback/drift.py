# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drift report callback: the ``edgeops drift`` JSON from any ansible-playbook run."""

from __future__ import annotations

DOCUMENTATION = r"""
name: drift
type: aggregate
short_description: Per host and concern drift report (JSON, JUnit) plus a one-screen summary
description:
  - Builds the drift report from every task result of the run. This is the one place the report is
    built - C(edgeops apply) and C(edgeops drift) enable this callback for their run and read the JSON
    it writes - so plain C(ansible-playbook), AWX and CI jobs get the same report
    (schema C(edgeops.gitops/drift-report/v2), see C(docs/report-schema.md)).
  - The unit is host x concern (a role, or the play for tasks outside roles); each concern lists the
    items (keys, settings, files) that differ with their value before and after, and where (file,
    runtime, state). A task that check mode skips makes its concern C(unchecked), with the reason.
  - Raw file diffs never enter the report; values of C(no_log) results and of keys that look like
    credentials show as C((censored)).
  - Run the playbook with C(--check --diff) to get a drift report; without C(--check) the report lists
    what the run changed.
  - Fills the gap AWX check jobs have, which show no "changed" status. Enable it in the project's
    C(ansible.cfg) or the job's environment and read the JSON file the job writes.
  - At the end of the run it prints a summary (outcome, host counts and every drifted, failed,
    unreachable or unchecked item), one screen at most.
  - When the run is interrupted (Ctrl-C), the report of what ran so far is still written, with the
    outcome C(interrupted).
version_added: 0.1.0
requirements:
  - enable in the configuration, C(callbacks_enabled = edgeops.gitops.drift)
options:
  report_path:
    description:
      - Where to write the JSON report. Nothing is written when unset (the summary is still printed).
      - The file is replaced atomically at the end of the run.
    type: path
    env:
      - name: EDGEOPS_DRIFT_REPORT
    ini:
      - section: callback_edgeops_drift
        key: report_path
  junit_path:
    description: Where to write the same report as JUnit XML (one test case per host and concern).
    type: path
    env:
      - name: EDGEOPS_DRIFT_JUNIT
    ini:
      - section: callback_edgeops_drift
        key: junit_path
  summary:
    description: Print the one-screen summary at the end of the run.
    type: bool
    default: true
    env:
      - name: EDGEOPS_DRIFT_SUMMARY
    ini:
      - section: callback_edgeops_drift
        key: summary
  # -- audit record (issue 15) --------------------------------------------------
  audit_store:
    description:
      - Append this run's record to the edgeops audit chain, the same record C(edgeops apply) and
        C(edgeops drift) write (see C(docs/audit.md)). Unset, no record is written.
      - A file path (one machine), or C(git+URL[#branch]) for the audit branch every runner shares
        (CLI, CI, AWX). Records are HMAC'd when C(EDGEOPS_AUDIT_HMAC_KEY) is set.
      - When the record cannot be published the run fails (ansible-playbook exits 1). With
        C(EDGEOPS_AUDIT_SPOOL) naming a directory every runner reaches (AWX - a path exposed to
        jobs), the unpublished records are saved there and the next run publishes them first.
    type: str
    env:
      - name: EDGEOPS_AUDIT_STORE
    ini:
      - section: callback_edgeops_drift
        key: audit_store
  audit:
    description:
      - Write the audit record when O(audit_store) is set. C(edgeops) sets this to false for the
        runs it starts, because it writes the record itself (one record per run).
    type: bool
    default: true
    env:
      - name: EDGEOPS_DRIFT_AUDIT
    ini:
      - section: callback_edgeops_drift
        key: audit
"""

EXAMPLES = r"""
# ansible.cfg
# [defaults]
# callbacks_enabled = edgeops.gitops.drift
# [callback_edgeops_drift]
# report_path = drift.json

# or, for one run:
# EDGEOPS_DRIFT_REPORT=drift.json ANSIBLE_CALLBACKS_ENABLED=edgeops.gitops.drift \
#   ansible-playbook edgeops.gitops.site -i inventory/ --check --diff
"""

import atexit
import contextlib
from pathlib import Path
from typing import Any

from ansible import context
from ansible.plugins.callback import CallbackBase
from ansible_collections.edgeops.gitops.plugins.plugin_utils import _audit
from ansible_collections.edgeops.gitops.plugins.plugin_utils._atomic import write_atomic
from ansible_collections.edgeops.gitops.plugins.plugin_utils._drift_report import (
    ReportBuilder,
    summary_lines,
    to_json,
    to_junit,
)


def _preload_filters() -> None:
    """Load the collection's filter plugins in this process, the one every task's worker forks from.

    Ansible forks a worker per task and host, and each worker that templates a role's arguments
    would otherwise import the collection's filter plugins (and the module_utils they use) again;
    loaded here once, they are inherited by every fork. Measured on a 25-host drift check, the
    imports were about a quarter of the controller CPU of the roles' check tasks (bench/README).
    A filter that fails to load is left to fail where it is used, with Ansible's own message.
    """
    from ansible.plugins.loader import filter_loader

    here = Path(__file__).resolve().parents[1] / "filter"
    for path in sorted(here.glob("*.py")):
        if not path.name.startswith("_"):
            with contextlib.suppress(Exception):
                filter_loader.get(f"edgeops.gitops.{path.stem}")


class CallbackModule(CallbackBase):
    """Aggregate callback that builds the edgeops drift report."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "edgeops.gitops.drift"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display: Any = None) -> None:
        super().__init__(display=display)
        self._builder: ReportBuilder | None = None
        self._play: str | None = None
        self._written = False
        self._extra_vars: dict[str, Any] | None = None

    def _ensure_builder(self, playbook: str | None = None) -> ReportBuilder:
        if self._builder is None:
            args = context.CLIARGS
            inventory = args.get("inventory") or ()
            self._builder = ReportBuilder(
                mode="check" if args.get("check") else "apply",
                meta={
                    "playbook": playbook,
                    "inventory": ",".join(str(i) for i in inventory) or None,
                    "limit": args.get("subset") or None,
                },
            )
            # ansible-playbook stopped by Ctrl-C never reaches the stats: write what ran.
            atexit.register(self._write_if_interrupted)
        return self._builder

    # -- events ----------------------------------------------------------------
    def v2_playbook_on_start(self, playbook: Any) -> None:
        self._ensure_builder(getattr(playbook, "_file_name", None))
        _preload_filters()

    def v2_playbook_on_play_start(self, play: Any) -> None:
        self._play = play.get_name()
        if self._extra_vars is None:  # for the audit record: AWX job id and user, survey answers
            manager = play.get_variable_manager()
            self._extra_vars = dict(getattr(manager, "extra_vars", None) or {})

    def _record(self, kind: str, result: Any, ignore_errors: bool = False) -> None:
        task = result._task
        role = getattr(task, "_role", None)
        action = getattr(task, "resolved_action", None) or task.action
        role_name = None
        if role is not None:
            role_name = role.get_name(include_role_fqcn=True) if hasattr(role, "get_name") else None
            role_name = role_name or getattr(role, "_role_name", None)
        self._ensure_builder().task_result(
            result._host.get_name(),
            kind,
            task.name or task.action,
            str(action),
            result._result,
            role=role_name,
            play=self._play,
            ignore_errors=ignore_errors,
        )

    def v2_runner_on_ok(self, result: Any) -> None:
        self._record("ok", result)

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        self._record("failed", result, ignore_errors=ignore_errors)

    def v2_runner_on_unreachable(self, result: Any) -> None:
        self._record("unreachable", result)

    def v2_runner_on_skipped(self, result: Any) -> None:
        self._record("skipped", result)

    def v2_playbook_on_stats(self, stats: Any) -> None:
        builder = self._ensure_builder()
        for host in sorted(stats.processed.keys()):
            builder.host_stats(host, stats.summarize(host))
        self._finish(builder.build())

    def _write_if_interrupted(self) -> None:
        if self._builder is not None and not self._written:
            self._finish(self._builder.build(interrupted=True))

    def _finish(self, report: dict[str, Any]) -> None:
        self._written = True
        report_path = self.get_option("report_path")
        junit_path = self.get_option("junit_path")
        if report_path:
            write_atomic(report_path, to_json(report))
        if junit_path:
            write_atomic(junit_path, to_junit(report))
        if self.get_option("summary"):
            title = "EDGEOPS DRIFT REPORT" if report["mode"] == "check" else "EDGEOPS APPLY REPORT"
            self._display.banner(title)
            colour = {0: "green", 2: "yellow"}.get(report["exit_code"], "red")
            lines = summary_lines(report)
            self._display.display(lines[0], color=colour)
            for line in lines[1:]:
                self._display.display(line)
            if report_path:
                self._display.display(f"  report: {report_path}")
        self._audit(report)

    # -- audit record (issue 15) ------------------------------------------------------
    def _audit(self, report: dict[str, Any]) -> None:
        """Append this run's record to the audit store, when one is configured."""
        spec = self.get_option("audit_store")
        if not spec or not self.get_option("audit"):
            return
        extra = self._extra_vars or {}
        meta = report.get("run") or {}
        inventory = str(meta.get("inventory") or "").split(",", maxsplit=1)[0]
        change = {k: str(extra[f"edgeops_change_{k}"]) for k in ("ticket", "reason")
                  if extra.get(f"edgeops_change_{k}")}
        fields = _audit.run_record(
            report, "drift" if report.get("mode") == "check" else "apply",
            _audit.config_repo(inventory or ".", "."),
            {"playbook": meta.get("playbook"), "inventory": meta.get("inventory"),
             "limit": meta.get("limit"), "check": report.get("mode") == "check",
             "runner": "ansible-playbook"},
            who=_audit.actor(extra_vars=extra), extra={"change": change} if change else None)
        try:
            store = _audit.open_store(spec)
            with store.locked():
                record = store.append(fields)
        except _audit.AuditError as exc:
            self._display.error(f"edgeops audit: the record was not published to {spec}: {exc}"
                                + (f" ({exc.hint})" if exc.hint else ""))
            # A callback's exceptions are only warnings in ansible-core; a run whose record did not
            # reach the store must fail (AWX: a failed job), so end ansible-playbook with exit 1.
            raise SystemExit(1) from exc
        self._display.display(f"  audit: record {record['seq']} appended to {store.location}")
