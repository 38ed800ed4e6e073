"""Report output: the terminal table and the file formats."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from edgeops.report import load_report_module

FORMATS = ("auto", "table", "json", "junit", "markdown")
_STYLE = {
    "in_sync": "green", "drifted": "yellow", "changed": "yellow", "failed": "red",
    "unreachable": "red", "unchecked": "magenta", "skipped": "dim",
}


def resolve_format(fmt: str, output: Path | None, stdout_is_tty: bool) -> str:
    """``auto``: from the output file's suffix, else table on a terminal and JSON otherwise."""
    if fmt != "auto":
        return fmt
    if output is not None:
        return {".xml": "junit", ".md": "markdown", ".txt": "table"}.get(output.suffix.lower(), "json")
    return "table" if stdout_is_tty else "json"


def render_text(report: dict[str, Any], fmt: str) -> str:
    """JSON, JUnit or Markdown text of a report."""
    mod = load_report_module()
    if fmt == "json":
        return str(mod.to_json(report))
    if fmt == "junit":
        return str(mod.to_junit(report))
    if fmt == "markdown":
        return str(mod.to_markdown(report))
    raise ValueError(f"not a text format: {fmt}")


def _status_word(status: str, mode: str) -> str:
    return "changed" if status == "drifted" and mode == "apply" else status


def print_table(report: dict[str, Any], console: Console) -> None:
    """Per host, per concern table with diffs for what is not in sync."""
    mod = load_report_module()
    mode = report["mode"]
    table = Table(title=f"edgeops {'drift' if mode == 'check' else 'apply'}", title_justify="left")
    for col in ("host", "status", "concern", "module", "detail"):
        table.add_column(col, overflow="fold")
    for host in report["hosts"]:
        hstatus = _status_word(host["status"], mode)
        problems = [c for c in host["concerns"] if c["status"] not in ("in_sync", "skipped")]
        in_sync = sum(1 for c in host["concerns"] if c["status"] == "in_sync")
        table.add_row(
            host["name"], Text(hstatus, style=_STYLE.get(hstatus, "")),
            f"{in_sync} in sync" + (f", {len(problems)} not" if problems else ""), "", "",
        )
        for c in problems:
            word = _status_word(c["status"], mode)
            keys = [k["key"] for d in c["diff"] for k in d.get("keys", [])]
            detail = ", ".join(keys) if keys else (c.get("message") or ("diff below" if c["diff"] else ""))
            table.add_row("", Text(word, style=_STYLE.get(word, "")), c["name"], c.get("module") or "",
                          detail)
    console.print(table)
    for host, c in mod.problem_concerns(report):
        for d in c["diff"]:
            console.print(Text(f"--- {host['name']}: {c['name']}", style="bold"))
            for line in mod.diff_text(d).splitlines():
                style = "red" if line.startswith("-") else "green" if line.startswith("+") else ""
                console.print(Text(line, style=style))
    for line in mod.summary_lines(report)[:1]:
        console.print(Text(line, style=_STYLE.get(
            {"in_sync": "in_sync", "drift": "drifted", "changed": "drifted"}.get(report["outcome"], "failed"),
            "")))


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (the collection's implementation)."""
    load_report_module().write_atomic(path, text)
