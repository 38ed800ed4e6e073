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


def print_table(report: dict[str, Any], console: Console, verbose: bool = False) -> None:
    """One row per item not in sync (host, concern, status, item, before → after, where), then the headline.

    Concerns in sync are counted per host, not listed.  ``verbose`` adds the
    tasks behind each concern that is not in sync.
    """
    mod = load_report_module()
    mode = report["mode"]
    rows = mod.report_lines(report, verbose=verbose)
    if rows:
        table = Table(title=f"edgeops {'drift' if mode == 'check' else 'apply'}", title_justify="left",
                      box=None, pad_edge=False, header_style="bold")
        for col in ("host", "concern", "status"):
            table.add_column(col, no_wrap=True)
        for col in ("item", "change", "where"):
            table.add_column(col, overflow="fold")
        for host, concern, status, item, change, where in rows:
            word = status.strip().replace(" ", "_")
            table.add_row(host, concern, Text(status, style=_STYLE.get(word, "")), item, change, where)
        console.print(table, width=min(console.width, 100))
    in_sync = [
        f"{h['name']}: {', '.join(c['name'] for c in h['concerns'] if c['status'] == 'in_sync')}"
        for h in report["hosts"] if any(c["status"] == "in_sync" for c in h["concerns"])
    ]
    if in_sync:
        console.print(Text("in sync  " + "; ".join(in_sync), style="dim"), width=min(console.width, 100))
    colour = {"in_sync": "in_sync", "drift": "drifted", "changed": "changed"}.get(report["outcome"], "failed")
    console.print(Text(mod.headline(report), style=_STYLE.get(colour, "")))
