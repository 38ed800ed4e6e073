"""Fold ansible-runner events into the drift report as they arrive."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from edgeops.report import load_report_module

#: ansible-runner event -> result kind of the shared ReportBuilder.
RESULT_EVENTS = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_on_unreachable": "unreachable",
    "runner_on_skipped": "skipped",
}


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


@dataclass
class Progress:
    """What a progress display needs, updated per event."""

    play: str = ""
    task: str = ""
    results: int = 0
    counts: dict[str, int] = field(default_factory=dict)


class EventFolder:
    """Event handler for :func:`edgeops.runner.run_playbook`.

    Keeps the report (hosts x concerns) and a few counters; the events
    themselves are dropped as soon as they are folded in.
    """

    def __init__(
        self,
        mode: str,
        meta: dict[str, Any],
        on_progress: Callable[[Progress], None] | None = None,
    ) -> None:
        self._builder: Any = load_report_module().ReportBuilder(mode=mode, meta=meta)
        self.progress = Progress()
        self._on_progress = on_progress
        self.stats_seen = False
        #: Last few "ERROR!"/warning lines Ansible printed outside task results
        #: (bad inventory, syntax errors): shown when a run fails before any play.
        self.errors: deque[str] = deque(maxlen=6)

    def __call__(self, event: dict[str, Any]) -> None:
        """Fold one runner event into the report."""
        name = event.get("event", "")
        data: dict[str, Any] = event.get("event_data") or {}
        if name == "playbook_on_play_start":
            self.progress.play = str(data.get("play") or data.get("name") or "")
        elif name in ("playbook_on_task_start", "playbook_on_handler_task_start"):
            self.progress.task = str(data.get("task") or "")
        elif name in RESULT_EVENTS:
            status = self._builder.task_result(
                str(data.get("host")),
                RESULT_EVENTS[name],
                str(data.get("task") or data.get("task_action") or ""),
                str(data.get("resolved_action") or data.get("task_action") or ""),
                data.get("res"),
                role=data.get("role") or None,
                play=data.get("play") or None,
                ignore_errors=bool(data.get("ignore_errors")),
                duration=data.get("duration"),
            )
            self.progress.results += 1
            if status:
                self.progress.counts[status] = self.progress.counts.get(status, 0) + 1
        elif name in ("verbose", "error", "warning") or (not name.startswith(("runner_", "playbook_"))):
            text = str(event.get("stdout") or "")
            for line in text.splitlines():
                clean = _strip_ansi(line).strip()
                if clean.startswith(("ERROR", "[ERROR]", "[WARNING]: Could not match", "[WARNING]: Unable")):
                    self.errors.append(clean[:500])
            return
        elif name == "playbook_on_stats":
            self.stats_seen = True
            for host in sorted(set().union(*(data.get(k) or {} for k in ("processed", "dark", "failures")))):
                self._builder.host_stats(
                    host,
                    {
                        "ok": (data.get("ok") or {}).get(host, 0),
                        "changed": (data.get("changed") or {}).get(host, 0),
                        "failures": (data.get("failures") or {}).get(host, 0),
                        "unreachable": (data.get("dark") or {}).get(host, 0),
                        "skipped": (data.get("skipped") or {}).get(host, 0),
                        "rescued": (data.get("rescued") or {}).get(host, 0),
                        "ignored": (data.get("ignored") or {}).get(host, 0),
                    },
                )
        else:
            return
        if self._on_progress is not None:
            self._on_progress(self.progress)

    def build(self, interrupted: bool = False) -> dict[str, Any]:
        """The report dict (schema ``edgeops.gitops/drift-report/v1``)."""
        report: dict[str, Any] = self._builder.build(interrupted=interrupted)
        return report
