# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drift report, built in one place: the ``edgeops.gitops.drift`` callback.

The callback sees every real task result, so nothing here guesses: no
durations, no event shapes.  ``edgeops apply``/``drift`` enable the callback
for their run and read the JSON it writes; plain ``ansible-playbook``, AWX
and CI get the same report from the same code.

The unit is **host x concern**.  A concern is the role a task belongs to (a
role of this collection by its short name, any other role by its name) or,
for a task outside roles, its play.  Each concern has a status and a list of
**items**: the keys, settings or files that differ, each with ``before``,
``after`` and ``where`` (``file``, ``runtime``, ``state``) the difference is.
Items come from the module's own ``changes`` return value (this
collection's modules return it), else from its ``diff`` (per key for
before/after mappings and for ``key = value`` / ``key: value`` files), else
the task itself is the item.  Raw file diffs never enter the report: a
secret in a template would otherwise be copied into every report, artifact
and audit trail.  Values of ``no_log`` results and of keys that look like
credentials are ``(censored)``; their names still show.

Controller-side pure logic (plugin_utils is never shipped to targets) with
no Ansible imports.  Memory is proportional to hosts x concerns x items.

Schema ``edgeops.gitops/drift-report/v2``: ``docs/report-schema.md`` and
``docs/drift-report.schema.json``.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from typing import Any

from ansible_collections.edgeops.gitops.plugins.module_utils._items import text_items

SCHEMA = "edgeops.gitops/drift-report/v2"
COLLECTION_PREFIX = "edgeops.gitops."

#: Concern statuses, worst first (a concern takes its worst task's status).
STATUSES = ("unreachable", "failed", "drifted", "changed", "unchecked", "in_sync")
_RANK = {s: i for i, s in enumerate(STATUSES)}

#: Host statuses, worst first.
HOST_STATUSES = ("unreachable", "failed", "drifted", "changed", "unchecked", "in_sync")

#: Exit codes, as ``terraform plan -detailed-exitcode``.
EXIT_IN_SYNC = 0
EXIT_ERROR = 1
EXIT_DRIFT = 2

CENSORED = "(censored)"
#: Item keys whose values are never shown (credentials), matched case-insensitively.
SECRET_KEY = re.compile(
    r"(pass(word|wd|phrase)?|secret|token|credential|private[_-]?key|api[_-]?key|(^|[._-])key$|"
    r"certificate[_-]?key)",
    re.IGNORECASE,
)
#: Longest value kept in an item (longer values are cut with an ellipsis).
MAX_VALUE = 200

#: Actions that compute or probe rather than manage state: a concern's
#: status ignores their results unless they fail.
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

#: What Ansible says when check mode skips a task (module without check mode support).
_CHECK_MODE_SKIP = "check mode"


def _now() -> str:
    # timezone.utc, not datetime.UTC: the controller may run Python 3.10 (ansible-core 2.16/2.17).
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")  # noqa: UP017


def concern_name(role: str | None, play: str | None) -> str:
    """The concern a task belongs to: its role (short name for this collection's), else its play."""
    if role:
        return role[len(COLLECTION_PREFIX):] if role.startswith(COLLECTION_PREFIX) else role
    return play or "(no play)"


def _value(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    text = " ".join(text.split()) if "\n" in text else text
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def _item(key: Any, before: Any, after: Any, where: list[str], path: Any = None,
          censored: bool = False) -> dict[str, Any]:
    key = str(key)
    hide = censored or bool(SECRET_KEY.search(key))
    item: dict[str, Any] = {
        "key": key,
        "before": CENSORED if hide and before is not None else _value(before),
        "after": CENSORED if hide and after is not None else _value(after),
        "where": sorted(set(where)),
    }
    if path:
        item["path"] = str(path)
    if hide:
        item["censored"] = True
    return item


def _path_of(diff: dict[str, Any], result: dict[str, Any]) -> str | None:
    candidates = (diff.get("after_header"), diff.get("before_header"), result.get("dest"), result.get("path"))
    for value in candidates:
        if isinstance(value, str) and value:
            return value
    return None


def _diff_items(diff: dict[str, Any], result: dict[str, Any]) -> list[dict[str, Any]]:
    """Items of one ``diff`` entry (never its raw text)."""
    path = _path_of(diff, result)
    before, after = diff.get("before"), diff.get("after")
    if isinstance(before, dict) or isinstance(after, dict):
        b = before if isinstance(before, dict) else {}
        a = after if isinstance(after, dict) else {}
        return [
            _item(k, b.get(k), a.get(k), ["file" if str(path or "").startswith("/") else "state"], path)
            for k in sorted(set(b) | set(a), key=str)
            if b.get(k) != a.get(k) and k != "path"
        ]
    if isinstance(before, str) or isinstance(after, str):
        return [_item(i["key"], i["before"], i["after"], i["where"], i["path"])
                for i in text_items(before if isinstance(before, str) else None,
                                    after if isinstance(after, str) else None, path)]
    return []


def result_items(result: dict[str, Any], task: str) -> list[dict[str, Any]]:
    """What a changed result says differs, as report items (see the module docstring)."""
    if "censored" in result:
        return [_item(task, "", "", ["state"], censored=True)]
    items: list[dict[str, Any]] = []
    changes = result.get("changes")
    if isinstance(changes, list):
        for c in changes:
            if isinstance(c, dict) and "key" in c:
                where = c.get("where") or ["state"]
                items.append(_item(c["key"], c.get("before"), c.get("after"),
                                   [where] if isinstance(where, str) else list(where), c.get("path")))
        if items:
            return items
    results = [result] + [r for r in result.get("results") or [] if isinstance(r, dict) and r.get("changed")]
    for res in results:
        if "censored" in res:
            items.append(_item(task, "", "", ["state"], censored=True))
            continue
        raw = res.get("diff")
        for diff in raw if isinstance(raw, list) else [raw] if raw else []:
            if isinstance(diff, dict):
                items.extend(_diff_items(diff, res))
    return items or [_item(task, None, None, ["state"])]


def _merge_items(into: list[dict[str, Any]], new: list[dict[str, Any]]) -> None:
    """Add items, one per (key, path): a key found in the file and at runtime is one item."""
    index = {(i["key"], i.get("path")): i for i in into}
    for item in new:
        old = index.get((item["key"], item.get("path")))
        if old is None:
            into.append(item)
            index[(item["key"], item.get("path"))] = item
            continue
        old["where"] = sorted(set(old["where"]) | set(item["where"]))
        for side in ("before", "after"):
            if old[side] is None:
                old[side] = item[side]
        if item.get("censored"):
            old["censored"] = True


def _message(result: dict[str, Any]) -> str | None:
    if "censored" in result:
        return "hidden: no_log is set for this task"
    for field in ("msg", "reason", "stderr"):
        msg = result.get(field)
        if msg:
            text = msg if isinstance(msg, str) else json.dumps(msg, default=str)
            return " ".join(text.split())[:500]
    return None


class ReportBuilder:
    """Fold task results into a report as they arrive.

    ``mode`` is ``check`` (a drift run: a change means drift) or ``apply``
    (a change was just made to match Git).
    """

    def __init__(self, mode: str = "check", meta: dict[str, Any] | None = None) -> None:
        if mode not in ("check", "apply"):
            raise ValueError(f"mode must be check or apply, got {mode!r}")
        self.mode = mode
        self.meta: dict[str, Any] = dict(meta or {})
        self.started_at = _now()
        self._hosts: dict[str, dict[str, dict[str, Any]]] = {}
        self._stats: dict[str, dict[str, int]] = {}

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
    ) -> str:
        """Record the final result of one task on one host; return the task's status.

        ``kind`` is the callback event: ``ok``, ``failed``, ``unreachable`` or
        ``skipped``.  A skip is ``unchecked`` when check mode skipped the task
        (the result says so) and plain ``skipped`` when a condition did.
        """
        result = result if isinstance(result, dict) else {}
        changed_word = "drifted" if self.mode == "check" else "changed"
        reason: str | None = None
        if kind == "unreachable":
            status = "unreachable"
        elif kind == "failed":
            status = "failed"
        elif kind == "skipped":
            msg = str(result.get("msg", ""))
            by_condition = "skip_reason" in result or "false_condition" in result
            if not by_condition and _CHECK_MODE_SKIP in msg.lower():
                status = "unchecked"
                reason = f"{task}: {action} cannot run in check mode, its state is unknown"
            else:
                status = "skipped"
        elif kind == "ok":
            status = changed_word if result.get("changed") else "in_sync"
        else:
            raise ValueError(f"unknown result kind {kind!r}")

        concerns = self._hosts.setdefault(host, {})
        name = concern_name(role, play)
        concern = concerns.get(name)
        probe = action in NON_CONCERN_ACTIONS and status not in ("failed", "unreachable")
        if concern is None and probe:
            return status  # facts and probes are no concern of their own (the play's facts)
        if concern is None:
            concern = concerns[name] = {
                "name": name, "status": "in_sync", "reason": None, "items": [], "tasks": [],
                "task_counts": {"in_sync": 0, "skipped": 0},
            }
        if status in ("in_sync", "skipped") or probe:
            concern["task_counts"]["skipped" if status == "skipped" else "in_sync"] += 1
            return status
        ignored = status == "failed" and ignore_errors
        entry: dict[str, Any] = {"name": task, "module": action or None, "status": status}
        if ignored:
            entry["ignored"] = True
        if status in ("failed", "unreachable"):
            reason = _message(result)
        if reason:
            entry["message"] = reason
        if status == changed_word:
            items = result_items(result, task)
            entry["items"] = [i["key"] for i in items]
            _merge_items(concern["items"], items)
        concern["tasks"].append(entry)
        if not ignored and _RANK[status] < _RANK[concern["status"]]:
            concern["status"] = status
            concern["reason"] = reason if status in ("failed", "unreachable", "unchecked") else None
        return status

    def host_stats(self, host: str, stats: dict[str, int]) -> None:
        """Record the play recap counters for one host."""
        self._hosts.setdefault(host, {})
        self._stats[host] = {
            k: int(stats.get(k, 0))
            for k in ("ok", "changed", "failures", "unreachable", "skipped", "rescued", "ignored")
        }

    def build(self, interrupted: bool = False) -> dict[str, Any]:
        """The report as a JSON-serialisable dict."""
        changed_word = "drifted" if self.mode == "check" else "changed"
        hosts = []
        concern_counts = dict.fromkeys(STATUSES, 0)
        host_counts = dict.fromkeys(HOST_STATUSES, 0)
        items_total = 0
        for name in sorted(self._hosts):
            concerns = [dict(c) for c in self._hosts[name].values()]
            stats = self._stats.get(name, {})
            for c in concerns:
                concern_counts[c["status"]] += 1
                items_total += len(c["items"])
            statuses = {c["status"] for c in concerns}
            if stats.get("unreachable") or "unreachable" in statuses:
                hstatus = "unreachable"
            elif "failed" in statuses or stats.get("failures", 0) > stats.get("ignored", 0) + stats.get(
                "rescued", 0
            ):
                hstatus = "failed"
            elif changed_word in statuses:
                hstatus = changed_word
            elif "unchecked" in statuses:
                hstatus = "unchecked"
            else:
                hstatus = "in_sync"
            host_counts[hstatus] += 1
            hosts.append({"name": name, "status": hstatus, "stats": stats or None, "concerns": concerns})
        if interrupted:
            outcome, exit_code = "interrupted", EXIT_ERROR
        elif not hosts or host_counts["unreachable"] or host_counts["failed"]:
            outcome, exit_code = "error", EXIT_ERROR  # no host at all: nothing was checked
        elif host_counts[changed_word]:
            outcome = "drift" if self.mode == "check" else "changed"
            exit_code = EXIT_DRIFT if self.mode == "check" else EXIT_IN_SYNC
        else:
            outcome, exit_code = "in_sync", EXIT_IN_SYNC
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
            "summary": {
                "hosts": len(hosts), "host_status": host_counts, "concerns": concern_counts,
                "items": items_total,
            },
            "hosts": hosts,
        }


# -- renderers -----------------------------------------------------------------
def to_json(report: dict[str, Any]) -> str:
    """The JSON report (stable key order, UTF-8, trailing newline)."""
    return json.dumps(report, indent=2, sort_keys=False, ensure_ascii=False, default=str) + "\n"


def _word(status: str) -> str:
    return status.replace("_", " ")


def problem_concerns(report: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(host, concern) pairs that are not in sync."""
    return [(h, c) for h in report["hosts"] for c in h["concerns"] if c["status"] != "in_sync"]


def item_change(item: dict[str, Any]) -> str:
    """``before → after`` of an item (``absent`` for a missing side)."""
    before = "absent" if item["before"] is None else item["before"]
    after = "absent" if item["after"] is None else item["after"]
    if item["before"] is None and item["after"] is None:
        return ""
    return f"{before} → {after}"


def item_where(item: dict[str, Any], path: bool = False) -> str:
    """``(file, runtime)``; with ``path``, the file's path too when there is one."""
    where = ", ".join(item["where"])
    return f"({where}{' ' + item['path'] if path and item.get('path') else ''})"


def report_lines(report: dict[str, Any], verbose: bool = False) -> list[list[str]]:
    """Rows ``[host, concern, status, item, change, where]``: one per item of each concern not in sync.

    A concern with no item (failed, unreachable, unchecked) gets one row with
    its reason.  ``verbose`` adds a row per task of the concern.
    """
    rows: list[list[str]] = []
    for h, c in problem_concerns(report):
        word = _word(c["status"])
        if not c["items"]:
            rows.append([h["name"], c["name"], word, c.get("reason") or "", "", ""])
        for item in c["items"]:
            rows.append([h["name"], c["name"], word, item["key"], item_change(item), item_where(item)])
        if verbose:
            for t in c["tasks"]:
                rows.append([h["name"], c["name"], f"  {_word(t['status'])}",
                             f"task: {t['name']}", t.get("message") or "", t.get("module") or ""])
    for h in report["hosts"]:
        if not h["concerns"] and h["status"] != "in_sync":
            rows.append([h["name"], "(connection)", _word(h["status"]), "", "", ""])
    return rows


def headline(report: dict[str, Any]) -> str:
    """One line: outcome, exit code, host counts."""
    s = report["summary"]
    word = "DRIFT" if report["mode"] == "check" else "APPLY"
    counts = ", ".join(f"{v} {_word(k)}" for k, v in s["host_status"].items() if v)
    return (f"{word} SUMMARY: {_word(report['outcome']).upper()} (exit {report['exit_code']}) - "
            f"{s['hosts']} hosts: {counts}")


def summary_lines(report: dict[str, Any], width: int = 100, limit: int = 30) -> list[str]:
    """A one-screen plain-text summary: the headline, then one line per item not in sync."""
    lines = [headline(report)]
    rows = report_lines(report)
    widths = [min(max((len(r[i]) for r in rows), default=0), cap) for i, cap in enumerate((16, 14, 11))]
    for row in rows[:limit]:
        head = "  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True))
        line = "  " + "  ".join(x for x in (head, row[3], row[4], row[5]) if x)
        lines.append(line if len(line) <= width else line[: width - 1] + "…")
    if len(rows) > limit:
        lines.append(f"  ... and {len(rows) - limit} more (see the JSON report)")
    return lines


def to_junit(report: dict[str, Any]) -> str:
    """JUnit XML: one test suite per host, one test case per concern; drift is a failure."""
    check = report["mode"] == "check"
    root = ET.Element("testsuites", name=f"edgeops {'drift' if check else 'apply'}")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for host in report["hosts"]:
        suite = ET.SubElement(root, "testsuite", name=host["name"])
        counts = dict.fromkeys(totals, 0)
        concerns = host["concerns"] or [{"name": "connection", "status": host["status"], "items": [],
                                         "reason": None}]
        for c in concerns:
            counts["tests"] += 1
            case = ET.SubElement(suite, "testcase", classname=host["name"], name=c["name"])
            lines = "\n".join(f"{i['key']}: {item_change(i)} {item_where(i, path=True)}".replace("  ", " ")
                              for i in c["items"])
            if c["status"] in ("drifted", "changed"):
                if check:
                    counts["failures"] += 1
                    summary = "; ".join(line for line in lines.splitlines())
                    message = f"{c['name']} drifted: {summary}"
                    fail = ET.SubElement(case, "failure", type="drift",
                                         message=message if len(message) <= 1000 else message[:999] + "…")
                    fail.text = lines
                else:
                    ET.SubElement(case, "system-out").text = lines
            elif c["status"] in ("failed", "unreachable"):
                counts["errors"] += 1
                err = ET.SubElement(case, "error", type=c["status"], message=c.get("reason") or c["status"])
                err.text = c.get("reason") or ""
            elif c["status"] == "unchecked":
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=c.get("reason") or "unchecked")
        for k, v in counts.items():
            suite.set(k, str(v))
            totals[k] += v
    for k, v in totals.items():
        root.set(k, str(v))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


_ICON = {"in_sync": "✅", "drifted": "⚠️", "changed": "🔧", "failed": "❌", "unreachable": "🔌",
         "unchecked": "❔"}


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(report: dict[str, Any]) -> str:
    """Markdown for a merge-request comment: the outcome, then a table of what is not in sync."""
    title = "Drift report" if report["mode"] == "check" else "Apply report"
    s = report["summary"]
    counts = ", ".join(f"{v} {_word(k)}" for k, v in s["host_status"].items() if v)
    lines = [f"### {title}: {_word(report['outcome'])} {_ICON.get(report['outcome'], '')}".rstrip(), "",
             f"{s['hosts']} hosts: {counts}", ""]
    rows = report_lines(report)
    if rows:
        lines += ["| host | concern | status | item | change | where |", "|---|---|---|---|---|---|"]
        lines += ["| " + " | ".join(_md(cell) for cell in row) + " |" for row in rows]
    else:
        lines.append("Every concern of every host is in sync.")
    return "\n".join(lines) + "\n"
