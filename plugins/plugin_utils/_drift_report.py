# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drift report: one implementation shared by ``edgeops drift`` and the
``edgeops.gitops.drift`` callback plugin.

Controller-side pure logic (plugin_utils is never shipped to targets).  No
Ansible imports: both adapters translate their own event shape into calls to
:meth:`ReportBuilder.task_result` / :meth:`ReportBuilder.host_stats`, so the
JSON is the same whichever way the run was started.

Memory is proportional to hosts x concerns, never to the number of events:
results are folded into the report as they arrive.

Schema (``schema: edgeops.gitops/drift-report/v1``) is documented in
``docs/report-schema.md`` and ``docs/drift-report.schema.json``.
"""

from __future__ import annotations

import difflib
import json
import os
import tempfile
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

SCHEMA = "edgeops.gitops/drift-report/v1"

#: Concern statuses, worst first (merging two results keeps the worse one).
STATUSES = ("unreachable", "failed", "drifted", "unchecked", "in_sync", "skipped")
_RANK = {s: i for i, s in enumerate(STATUSES)}

#: Host statuses, worst first.
HOST_STATUSES = ("unreachable", "failed", "drifted", "in_sync")

#: Exit codes, as ``terraform plan -detailed-exitcode``.
EXIT_IN_SYNC = 0
EXIT_ERROR = 1
EXIT_DRIFT = 2

#: Actions that compute or probe rather than manage state: they are not
#: concerns and only appear in the report when they fail.
NON_CONCERN_ACTIONS = frozenset(
    a
    for short in (
        "setup", "gather_facts", "set_fact", "debug", "assert", "include_vars", "meta",
        "include_tasks", "import_tasks", "include_role", "import_role", "add_host",
        "group_by", "package_facts", "service_facts", "stat", "set_stats", "validate_argument_spec",
        "ping", "wait_for_connection", "slurp", "fail",
    )
    for a in (short, "ansible.builtin." + short, "ansible.legacy." + short)
)

_CHECK_MODE_SKIP_MARKERS = ("check mode",)
CENSORED_NOTE = "hidden: no_log is set for this task"

#: Actions that cannot predict their effect, so check mode skips them.
COMMAND_ACTIONS = frozenset(
    a
    for short in ("command", "shell", "script", "raw", "expect")
    for a in (short, "ansible.builtin." + short, "ansible.legacy." + short, "community.general." + short)
)
UNCHECKED_NOTE = "skipped in check mode: a command cannot predict its effect, its real state is unknown"
#: A skip decided by a when-condition never reaches the target; check mode
#: skips a command in the module, on the target, so that skip costs a round
#: trip.  Used only when the result itself is not available (ansible-runner's
#: skipped events omit it): a skip taking at least half the host's fastest
#: round trip (or REMOTE_SKIP_SECONDS before any) is taken as a check-mode skip.
REMOTE_SKIP_SECONDS = 0.1
ROUND_TRIP_SHARE = 0.5

#: Actions that run on the controller only (their duration is no round trip).
CONTROLLER_ACTIONS = frozenset(
    a
    for short in (
        "set_fact", "debug", "assert", "meta", "include_tasks", "import_tasks", "include_role",
        "import_role", "add_host", "group_by", "fail", "set_stats", "validate_argument_spec",
        "include_vars", "pause",
    )
    for a in (short, "ansible.builtin." + short, "ansible.legacy." + short)
)


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def normalise_diff(raw: Any) -> list[dict[str, Any]]:
    """Turn a module's ``diff`` (dict or list of dicts) into report diff entries.

    A dict ``before``/``after`` pair becomes a per-key list (``keys``) of what
    differs; text stays text; ``prepared`` (pre-rendered) diffs are kept as is.
    """
    if not raw:
        return []
    items = raw if isinstance(raw, list) else [raw]
    out: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict):
            out.append({"prepared": _text(item)})
            continue
        if "prepared" in item:
            out.append({"prepared": _text(item["prepared"])})
            continue
        if "before" not in item and "after" not in item:
            continue
        before, after = item.get("before"), item.get("after")
        entry: dict[str, Any] = {}
        if item.get("before_header") is not None:
            entry["before_header"] = _text(item["before_header"])
        if item.get("after_header") is not None:
            entry["after_header"] = _text(item["after_header"])
        if isinstance(before, dict) and isinstance(after, dict):
            keys = sorted(set(before) | set(after), key=str)
            entry["keys"] = [
                {"key": str(k), "before": before.get(k), "after": after.get(k)}
                for k in keys
                if before.get(k) != after.get(k)
            ]
        else:
            entry["before"] = "" if before is None else _text(before)
            entry["after"] = "" if after is None else _text(after)
        out.append(entry)
    return out


def diff_text(entry: dict[str, Any]) -> str:
    """Render one report diff entry as readable text (unified diff or key lines)."""
    if "prepared" in entry:
        return str(entry["prepared"]).rstrip("\n")
    if "keys" in entry:
        lines = []
        header = entry.get("after_header") or entry.get("before_header")
        if header:
            lines.append(f"@@ {header} @@")
        for k in entry["keys"]:
            lines.append(f"- {k['key']}: {_text(k['before']) if k['before'] is not None else '(absent)'}")
            lines.append(f"+ {k['key']}: {_text(k['after']) if k['after'] is not None else '(absent)'}")
        return "\n".join(lines)
    before = str(entry.get("before", "")).splitlines()
    after = str(entry.get("after", "")).splitlines()
    return "\n".join(
        difflib.unified_diff(
            before, after,
            fromfile=str(entry.get("before_header", "before")),
            tofile=str(entry.get("after_header", "after")),
            lineterm="",
        )
    )


def _skip_status(
    result: dict[str, Any] | None, action: str, check: bool, duration: float | None
) -> tuple[str, str | None]:
    """``unchecked`` for a skip that hides a real answer, else ``skipped``.

    With the result at hand (callback plugin) its message says whether check
    mode skipped the task.  ansible-runner's skipped events carry no result:
    a command-like task skipped in a check run is then ``timed`` and decided
    in :meth:`ReportBuilder.build` from its duration (see ROUND_TRIP_SHARE).
    """
    if result:
        if "skip_reason" in result or "false_condition" in result:
            return "skipped", None
        msg = str(result.get("msg", "")).lower()
        if any(m in msg for m in _CHECK_MODE_SKIP_MARKERS):
            return "unchecked", UNCHECKED_NOTE
        return "skipped", None
    if check and action in COMMAND_ACTIONS and duration is not None:
        return "timed", None
    return "skipped", None


def _item_diffs(result: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    """Diffs of a result and of its loop items; second value: something was censored."""
    censored = "censored" in result
    diffs = normalise_diff(result.get("diff"))
    for item in result.get("results") or []:
        if isinstance(item, dict):
            censored = censored or "censored" in item
            if item.get("changed"):
                diffs.extend(normalise_diff(item.get("diff")))
    return diffs, censored


def _message(result: dict[str, Any]) -> str | None:
    if "censored" in result:
        return CENSORED_NOTE
    msg = result.get("msg")
    if msg is None:
        msg = result.get("reason")
    if msg is None and result.get("stderr"):
        msg = result.get("stderr")
    if msg is None:
        return None
    return _text(msg)[:2000]


class ReportBuilder:
    """Fold task results into a drift report as they arrive.

    ``mode`` is ``check`` (a drift run: changed means drifted) or ``apply``
    (changed means Git was just applied).
    """

    def __init__(self, mode: str = "check", meta: dict[str, Any] | None = None) -> None:
        if mode not in ("check", "apply"):
            raise ValueError(f"mode must be check or apply, got {mode!r}")
        self.mode = mode
        self.meta: dict[str, Any] = dict(meta or {})
        self.started_at = _now()
        self._hosts: dict[str, dict[str, dict[str, Any]]] = {}
        self._stats: dict[str, dict[str, int]] = {}
        self._changed_seen: dict[str, int] = {}
        self._round_trip: dict[str, float] = {}
        self.events = 0
        self.current_task: str | None = None

    # -- input -----------------------------------------------------------------
    def host_seen(self, host: str) -> None:
        """Register a host that appears in the run (even with no concern)."""
        self._hosts.setdefault(host, {})

    def task_result(
        self,
        host: str,
        kind: str,
        task: str,
        action: str,
        result: dict[str, Any] | None,
        *,
        role: str | None = None,
        play: str | None = None,
        ignore_errors: bool = False,
        duration: float | None = None,
    ) -> str | None:
        """Record the final result of one task on one host.

        ``kind`` is ``ok``, ``failed``, ``unreachable`` or ``skipped`` (the
        runner/callback event); ``duration`` (seconds) is only used to classify
        a skip whose result is unknown.  Returns the concern status recorded, or None
        when the task is not a concern (a probe or fact that succeeded).
        """
        self.events += 1
        raw = result if isinstance(result, dict) else None
        result = raw or {}
        concerns = self._hosts.setdefault(host, {})
        diffs: list[dict[str, Any]] = []
        censored = "censored" in result
        ignored = False
        message: str | None = None
        pending = False
        if kind == "unreachable":
            status = "unreachable"
        elif kind == "failed":
            status = "failed"
            ignored = bool(ignore_errors)
        elif kind == "skipped":
            status, message = _skip_status(raw, action, self.mode == "check", duration)
            if status == "timed":
                status, pending = "skipped", True
        elif kind == "ok":
            if duration is not None and action not in CONTROLLER_ACTIONS:
                self._round_trip[host] = min(duration, self._round_trip.get(host, duration))
            if result.get("changed"):
                self._changed_seen[host] = self._changed_seen.get(host, 0) + 1
            status = "drifted" if result.get("changed") else "in_sync"
            if censored and "changed" not in result:
                # no_log results may lose "changed"; the recap settles it in build().
                pending = True
            if status == "drifted":
                diffs, censored = _item_diffs(result)
        else:
            raise ValueError(f"unknown result kind {kind!r}")
        if status in ("in_sync", "skipped", "unchecked") and action in NON_CONCERN_ACTIONS and not pending:
            return None
        name = f"{role} : {task}" if role else task
        entry = concerns.get(name)
        if status in ("failed", "unreachable"):
            message = _message(result)
        if entry is None:
            entry = concerns[name] = {
                "name": name,
                "task": task,
                "role": role or None,
                "play": play or None,
                "module": action or None,
                "status": status,
                "ignored": ignored,
                "censored": censored,
                "message": message,
                "diff": [],
            }
            if pending and kind == "skipped":
                entry["_skip_seconds"] = duration
            elif pending:
                entry["_pending"] = True
        else:
            if _RANK[status] < _RANK[entry["status"]]:
                entry["status"] = status
                entry["ignored"] = ignored
                if message:
                    entry["message"] = message
            entry["censored"] = entry["censored"] or censored
        if censored:
            # Never keep anything from a censored result, even a diff.
            diffs = []
        for d in diffs:  # a repeated task (loops of includes) adds each diff once
            if d not in entry["diff"]:
                entry["diff"].append(d)
        return status

    def host_stats(self, host: str, stats: dict[str, int]) -> None:
        """Record the play recap counters for one host."""
        self._hosts.setdefault(host, {})
        self._stats[host] = {
            k: int(stats.get(k, 0))
            for k in ("ok", "changed", "failures", "unreachable", "skipped", "rescued", "ignored")
        }

    # -- output ----------------------------------------------------------------
    def _settle_censored(self, host: str, concerns: list[dict[str, Any]]) -> None:
        """Decide censored results that lost ``changed`` from the play recap.

        The recap's changed count minus the changes seen leaves the number of
        hidden changes: all or none of the pending concerns is exact; anything
        in between cannot be attributed and is reported unchecked.
        """
        pending = [c for c in concerns if c.pop("_pending", False)]
        if not pending:
            return
        stats = self._stats.get(host)
        hidden = None if stats is None else stats["changed"] - self._changed_seen.get(host, 0)
        for c in pending:
            if c["status"] != "in_sync":
                continue
            if hidden == len(pending):
                c["status"] = "drifted"
            elif hidden != 0:
                c["status"] = "unchecked"
                c["message"] = (
                    f"{CENSORED_NOTE}; {hidden if hidden is not None else 'an unknown number'} of "
                    f"{len(pending)} hidden results changed"
                )

    def _settle_timed_skips(self, host: str, concerns: list[dict[str, Any]]) -> None:
        """Command tasks skipped in a check run, result unknown: decide from their duration."""
        trip = self._round_trip.get(host)
        threshold = ROUND_TRIP_SHARE * trip if trip else REMOTE_SKIP_SECONDS
        for c in concerns:
            seconds = c.pop("_skip_seconds", None)
            if seconds is not None and c["status"] == "skipped" and seconds >= threshold:
                c["status"], c["message"] = "unchecked", UNCHECKED_NOTE

    def build(self, interrupted: bool = False) -> dict[str, Any]:
        """The report as a JSON-serialisable dict (see the module docstring)."""
        hosts = []
        concern_counts = dict.fromkeys(STATUSES, 0)
        host_counts = dict.fromkeys(HOST_STATUSES, 0)
        for name in sorted(self._hosts):
            concerns = [dict(c) for c in self._hosts[name].values()]
            self._settle_censored(name, concerns)
            self._settle_timed_skips(name, concerns)
            for c in concerns:
                concern_counts[c["status"]] += 1
            stats = self._stats.get(name, {})
            if stats.get("unreachable") or any(c["status"] == "unreachable" for c in concerns):
                hstatus = "unreachable"
            elif any(c["status"] == "failed" and not c["ignored"] for c in concerns) or (
                stats.get("failures", 0) > stats.get("ignored", 0) + stats.get("rescued", 0)
            ):
                hstatus = "failed"
            elif any(c["status"] == "drifted" for c in concerns):
                hstatus = "drifted"
            else:
                hstatus = "in_sync"
            host_counts[hstatus] += 1
            hosts.append({
                "name": name,
                "status": hstatus,
                "stats": stats or None,
                "concerns": concerns,
            })
        if interrupted:
            outcome, exit_code = "interrupted", EXIT_ERROR
        elif host_counts["unreachable"] or host_counts["failed"]:
            outcome, exit_code = "error", EXIT_ERROR
        elif host_counts["drifted"]:
            outcome = "drift" if self.mode == "check" else "changed"
            exit_code = EXIT_DRIFT if self.mode == "check" else EXIT_IN_SYNC
        else:
            outcome, exit_code = "in_sync", EXIT_IN_SYNC
        if not hosts and not interrupted:
            outcome, exit_code = "error", EXIT_ERROR  # no host matched: nothing was checked
        return {
            "schema": SCHEMA,
            "mode": self.mode,
            "started_at": self.started_at,
            "finished_at": _now(),
            "run": {
                "playbook": self.meta.get("playbook"),
                "inventory": self.meta.get("inventory"),
                "limit": self.meta.get("limit"),
                "check": self.mode == "check",
            },
            "outcome": outcome,
            "exit_code": exit_code,
            "summary": {"hosts": len(hosts), "host_status": host_counts, "concerns": concern_counts},
            "hosts": hosts,
        }


# -- renderers -----------------------------------------------------------------
def to_json(report: dict[str, Any]) -> str:
    """The JSON report (stable key order, UTF-8, trailing newline)."""
    return json.dumps(report, indent=2, sort_keys=False, ensure_ascii=False, default=str) + "\n"


def problem_concerns(report: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(host, concern) pairs that are not simply in sync or skipped."""
    return [
        (h, c)
        for h in report["hosts"]
        for c in h["concerns"]
        if c["status"] not in ("in_sync", "skipped")
    ]


def to_junit(report: dict[str, Any]) -> str:
    """JUnit XML: one testsuite per host, one testcase per concern; drift is a failure."""
    drift_word = "drifted" if report["mode"] == "check" else "changed"
    root = ET.Element("testsuites", name=f"edgeops {'drift' if report['mode'] == 'check' else 'apply'}")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for host in report["hosts"]:
        suite = ET.SubElement(root, "testsuite", name=host["name"])
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        concerns = host["concerns"] or []
        if not concerns and host["status"] == "unreachable":
            concerns = [{"name": "connection", "status": "unreachable", "message": None, "diff": []}]
        for c in concerns:
            counts["tests"] += 1
            case = ET.SubElement(suite, "testcase", classname=host["name"], name=c["name"])
            if c["status"] == "drifted":
                if report["mode"] == "check":
                    counts["failures"] += 1
                    fail = ET.SubElement(case, "failure", type="drift", message=f"{c['name']} {drift_word}")
                    fail.text = "\n\n".join(diff_text(d) for d in c["diff"]) or c.get("message") or ""
                else:
                    out = ET.SubElement(case, "system-out")
                    out.text = "\n\n".join(diff_text(d) for d in c["diff"]) or "changed"
            elif c["status"] in ("failed", "unreachable"):
                counts["errors"] += 1
                err = ET.SubElement(case, "error", type=c["status"], message=c.get("message") or c["status"])
                err.text = c.get("message") or ""
            elif c["status"] in ("skipped", "unchecked"):
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=c.get("message") or c["status"])
        for k, v in counts.items():
            suite.set(k, str(v))
            totals[k] += v
    for k, v in totals.items():
        root.set(k, str(v))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


_ICON = {
    "in_sync": "✅", "drifted": "⚠️", "failed": "❌", "unreachable": "🔌",
    "unchecked": "❔", "skipped": "-",
}


def _word(status: str, mode: str) -> str:
    """Status as the reader should see it: in an apply run "drifted" means "changed"."""
    status = "changed" if status == "drifted" and mode == "apply" else status
    return status.replace("_", " ")


def _counts(counts: dict[str, int], mode: str) -> str:
    return ", ".join(f"{v} {_word(k, mode)}" for k, v in counts.items() if v)


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(report: dict[str, Any]) -> str:
    """Markdown for a merge-request comment: summary table, then per-concern details."""
    title = "Drift report" if report["mode"] == "check" else "Apply report"
    lines = [f"### {title}: {report['outcome'].replace('_', ' ')}", ""]
    s = report["summary"]
    lines.append(f"{s['hosts']} hosts: " + _counts(s["host_status"], report["mode"]))
    changed_col = "drifted" if report["mode"] == "check" else "changed"
    lines += ["", f"| host | status | {changed_col} | failed | unchecked |", "|---|---|---|---|---|"]
    for h in report["hosts"]:
        by = {st: [c["name"] for c in h["concerns"] if c["status"] == st] for st in STATUSES}
        lines.append(
            f"| {_md_escape(h['name'])} | {_ICON.get(h['status'], '')} "
            f"{_word(h['status'], report['mode'])} | "
            f"{_md_escape(', '.join(by['drifted'])) or '-'} | "
            f"{_md_escape(', '.join(by['failed'] + by['unreachable'])) or '-'} | "
            f"{_md_escape(', '.join(by['unchecked'])) or '-'} |"
        )
    problems = problem_concerns(report)
    if problems:
        lines += ["", "<details><summary>Details</summary>", ""]
        for h, c in problems:
            lines.append(f"#### {h['name']} — {c['name']} ({_word(c['status'], report['mode'])})")
            if c.get("module"):
                lines.append(f"module: `{c['module']}`")
            if c.get("message"):
                lines += ["", "> " + _md_escape(str(c["message"]))]
            for d in c["diff"]:
                lines += ["", "```diff", diff_text(d), "```"]
            lines.append("")
        lines.append("</details>")
    return "\n".join(lines) + "\n"


def summary_lines(report: dict[str, Any], width: int = 100) -> list[str]:
    """A one-screen plain-text summary (the callback prints this at the end)."""
    s = report["summary"]
    word = "DRIFT" if report["mode"] == "check" else "APPLY"
    lines = [
        f"{word} SUMMARY: {report['outcome'].replace('_', ' ').upper()} "
        f"(exit {report['exit_code']}) - {s['hosts']} hosts: " + _counts(s["host_status"], report["mode"])
    ]
    problems = problem_concerns(report)
    shown = problems[:15]
    for h, c in shown:
        extra = ""
        if c["diff"]:
            keys = [k["key"] for d in c["diff"] for k in d.get("keys", [])]
            extra = f" [{', '.join(keys)}]" if keys else ""
        elif c.get("message"):
            extra = f": {c['message']}"
        line = f"  {_word(c['status'], report['mode']):<11} {h['name']}: {c['name']}{extra}"
        lines.append(line if len(line) <= width else line[: width - 1] + "…")
    if len(problems) > len(shown):
        lines.append(f"  ... and {len(problems) - len(shown)} more (see the JSON report)")
    for h in report["hosts"]:
        if h["status"] == "unreachable" and not h["concerns"]:
            lines.append(f"  unreachable {h['name']}")
    return lines


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` through a fsynced temporary file in the same directory."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".edgeops-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
