"""Progress from ansible-runner events.

The report is built by the ``edgeops.gitops.drift`` callback inside
ansible-playbook, which sees the real task results; runner events only tell
the user how far the run is, and keep the last error lines Ansible printed
outside any task (a broken inventory, a syntax error) for when the run fails
before its first play.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: Runner events that end one task on one host, and the word the progress line uses.
RESULT_WORDS = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_on_unreachable": "unreachable",
    "runner_on_skipped": "skipped",
}

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Progress:
    """What a progress display needs, updated per event."""

    play: str = ""
    task: str = ""
    results: int = 0
    counts: dict[str, int] = field(default_factory=dict)


class ProgressTracker:
    """Event handler for :func:`edgeops.runner.run_playbook`: progress and stray error lines."""

    def __init__(self, on_progress: Callable[[Progress], None] | None = None) -> None:
        self.progress = Progress()
        self._on_progress = on_progress
        #: Last few "ERROR!"/warning lines Ansible printed outside task results.
        self.errors: deque[str] = deque(maxlen=6)

    def __call__(self, event: dict[str, Any]) -> None:
        """Take one runner event."""
        name = event.get("event", "")
        data: dict[str, Any] = event.get("event_data") or {}
        if name == "playbook_on_play_start":
            self.progress.play = str(data.get("play") or data.get("name") or "")
        elif name in ("playbook_on_task_start", "playbook_on_handler_task_start"):
            self.progress.task = str(data.get("task") or "")
        elif name in RESULT_WORDS:
            word = "changed" if name == "runner_on_ok" and (data.get("res") or {}).get("changed") else (
                RESULT_WORDS[name]
            )
            self.progress.results += 1
            self.progress.counts[word] = self.progress.counts.get(word, 0) + 1
        elif name in ("verbose", "error", "warning") or not name.startswith(("runner_", "playbook_")):
            for line in str(event.get("stdout") or "").splitlines():
                clean = _ANSI.sub("", line).strip()
                if clean.startswith(("ERROR", "[ERROR]", "[WARNING]: Could not match", "[WARNING]: Unable")):
                    self.errors.append(clean[:500])
            return
        else:
            return
        if self._on_progress is not None:
            self._on_progress(self.progress)
