#!/usr/bin/env python3
"""Generate each role README's variable table from roles/<role>/meta/argument_specs.yml.

The table sits between ``<!-- BEGIN argument_specs -->`` and ``<!-- END argument_specs -->`` in
``roles/<role>/README.md``; everything outside the markers is left alone.  A README that also has
``<!-- BEGIN mysql_tuning -->`` / ``<!-- END mysql_tuning -->`` gets the settings table of the
``edgeops.gitops.mysql_tuning`` filter there, computed by the filter itself (never typed).

    python scripts/role_docs.py            # rewrite the tables that differ, list the files changed
    python scripts/role_docs.py --check    # change nothing; exit 1 naming every README that differs
    python scripts/role_docs.py --roles-dir path/to/roles sysctl_tuning   # some roles only

Exit codes: 0 up to date (or rewritten), 1 a README differs (--check) or a role cannot be
documented (no argument_specs, invalid YAML, no markers in --check mode).
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from ansible.errors import AnsibleError

BEGIN = "<!-- BEGIN argument_specs -->"
END = "<!-- END argument_specs -->"
TUNING_BEGIN = "<!-- BEGIN mysql_tuning -->"
TUNING_END = "<!-- END mysql_tuning -->"
ROOT = Path(__file__).resolve().parents[1]
HEADER = ["| Variable | Type | Default | Description |", "|---|---|---|---|"]

#: The servers and sizes of the tuning table (issue 16): Debian bookworm's and trixie's MariaDB,
#: MySQL just before and after innodb_redo_log_capacity (8.0.30), and MySQL 8.4 LTS.
TUNING_SERVERS = (("mariadb", "10.11"), ("mariadb", "11.8"), ("mysql", "8.0.29"), ("mysql", "8.0.35"),
                  ("mysql", "8.4"))
TUNING_SIZES_MB = (512, 1024, 2048, 4096, 8192, 16384, 65536)
TUNING_VCPUS = 4
TUNING_DISK = "nvme"


class RoleDocsError(Exception):
    """A role whose README cannot be generated or checked."""


_MARKUP = [
    (re.compile(r"\b[CVO]\(([^()]*)\)"), r"`\1`"),
    (re.compile(r"\bI\(([^()]*)\)"), r"*\1*"),
    (re.compile(r"\bB\(([^()]*)\)"), r"**\1**"),
    (re.compile(r"\bU\(([^()]*)\)"), r"\1"),
    (re.compile(r"\bL\(([^(),]*),\s*([^()]*)\)"), r"[\1](\2)"),
]


def _cell(text: str) -> str:
    """One table cell: Ansible doc markup (C(), I(), B(), U(), L()) as Markdown, on one line."""
    text = " ".join(text.split())
    for pattern, repl in _MARKUP:
        text = pattern.sub(repl, text)
    return text.replace("|", "\\|")


def _description(option: dict[str, Any]) -> str:
    desc = option.get("description", "")
    if isinstance(desc, list):
        desc = " ".join(str(d) for d in desc)
    text = _cell(str(desc))
    if option.get("choices"):
        choices = ", ".join(f"`{_literal(c)}`" for c in option["choices"])
        text = f"{text} Choices: {choices}." if text else f"Choices: {choices}."
    return text


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return value if value else '""'
    return json.dumps(value, ensure_ascii=False)


def _default(option: dict[str, Any]) -> str:
    if option.get("required"):
        return "*required*"
    if "default" not in option:
        return ""
    return "`" + _literal(option["default"]).replace("`", "'").replace("|", "\\|") + "`"


def _type(option: dict[str, Any]) -> str:
    kind = str(option.get("type", "str"))
    if kind == "list" and option.get("elements"):
        return f"list of {option['elements']}"
    return kind


def _rows(options: dict[str, Any], prefix: str = "") -> list[str]:
    rows = []
    for name, option in options.items():
        option = option or {}
        full = f"{prefix}{name}"
        rows.append(f"| `{full}` | {_type(option)} | {_default(option)} | {_description(option)} |")
        if isinstance(option.get("options"), dict):
            rows.extend(_rows(option["options"], prefix=f"{full}."))
    return rows


def render_table(specs: dict[str, Any]) -> str:
    """The Markdown between the markers for one role's argument_specs mapping."""
    entry_points = specs.get("argument_specs")
    if not isinstance(entry_points, dict) or not entry_points:
        raise RoleDocsError("argument_specs.yml has no 'argument_specs' mapping of entry points")
    blocks = []
    for entry, spec in entry_points.items():
        lines = []
        if len(entry_points) > 1 or entry != "main":
            lines.append(f"Entry point `{entry}`: {_cell(str((spec or {}).get('short_description', '')))}")
            lines.append("")
        options = (spec or {}).get("options") or {}
        lines.extend(HEADER + _rows(options) if options else ["This entry point takes no variables."])
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _mysql_tuning_filter() -> Any:
    """The filter function, imported from this checkout's collection (set up by scripts/setup.sh)."""
    collections = ROOT / ".cache" / "collections"
    if str(collections) not in sys.path:
        sys.path.insert(0, str(collections))
    try:
        from ansible_collections.edgeops.gitops.plugins.filter.mysql_tuning import (  # type: ignore
            mysql_tuning,
        )
    except ImportError as exc:
        raise RoleDocsError(
            f"cannot import the edgeops.gitops.mysql_tuning filter ({exc}); run scripts/setup.sh first"
        ) from exc
    return mysql_tuning


def _size(mb: int) -> str:
    return f"{mb // 1024} GB" if mb >= 1024 else f"{mb} MB"


def render_tuning_table() -> str:
    """Markdown table of the filter's settings for every server and size of the README."""
    mysql_tuning = _mysql_tuning_filter()
    lines = [
        f"Computed by the filter for {TUNING_VCPUS} vCPUs and an {TUNING_DISK} disk (generated by "
        "`python scripts/role_docs.py`; do not edit). MySQL 8.4's redo capacity follows the vCPUs "
        "(vCPUs / 2 GB, at most 16 GB).",
        "",
        "| Server | RAM | innodb_buffer_pool_size | redo log | flushing | innodb_io_capacity (max) | also |",
        "|---|---|---|---|---|---|---|",
    ]
    for flavour, version in TUNING_SERVERS:
        name = f"{'MariaDB' if flavour == 'mariadb' else 'MySQL'} {version}"
        for mb in TUNING_SIZES_MB:
            try:
                got = dict(mysql_tuning(mb, vcpus=TUNING_VCPUS, disk_class=TUNING_DISK, flavour=flavour,
                                        version=version))
            except AnsibleError as exc:  # the filter's own refusal is what the table must show
                why = str(exc).split(": ", 1)[-1]
                fit = re.search(r"at most (\d+) connections fit", why)
                cell = (f"too small for 151 connections: at most {fit.group(1)} fit; set max_connections "
                        "or give it more memory") if fit else _cell(why)
                lines.append(f"| {name} | {_size(mb)} | {cell} | | | | |")
                continue
            pool = got.pop("innodb_buffer_pool_size")
            instances = got.pop("innodb_buffer_pool_instances", None)
            if instances is not None:
                pool = f"{pool} ({instances} instance{'' if instances == 1 else 's'})"
            redo = next(f"`{k}={got.pop(k)}`" for k in ("innodb_redo_log_capacity", "innodb_log_file_size")
                        if k in got)
            flush = next(f"`{k}={got.pop(k)}`" for k in ("innodb_flush_method", "innodb_data_file_buffering")
                         if k in got)
            got.pop("innodb_flush_neighbors", None)
            io = f"{got.pop('innodb_io_capacity')} ({got.pop('innodb_io_capacity_max')})"
            also = ", ".join(f"`{k}={v}`" for k, v in sorted(got.items()))
            lines.append(f"| {name} | {_size(mb)} | {pool} | {redo} | {flush} | {io} | {also} |")
    return "\n".join(lines)


def _replace_block(text: str, begin: str, end: str, body: str) -> str:
    head, rest = text.split(begin, 1)
    return f"{head}{begin}\n{body}\n{end}{rest.split(end, 1)[1]}"


def role_readme(role_dir: Path) -> tuple[Path, str, str]:
    """(README path, current text, generated text) for one role."""
    spec_file = role_dir / "meta" / "argument_specs.yml"
    if not spec_file.is_file():
        raise RoleDocsError(f"{spec_file} does not exist; the variable table is generated from it")
    try:
        specs = yaml.safe_load(spec_file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise RoleDocsError(f"{spec_file} is not valid YAML: {exc}") from exc
    try:
        table = render_table(specs)
    except RoleDocsError as exc:
        raise RoleDocsError(f"{spec_file}: {exc}") from exc
    readme = role_dir / "README.md"
    current = readme.read_text(encoding="utf-8") if readme.exists() else ""
    block = f"{BEGIN}\n{table}\n{END}"
    if BEGIN in current and END in current.split(BEGIN, 1)[1]:
        head, rest = current.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        wanted = f"{head}{block}{tail}"
    elif current:
        wanted = current.rstrip("\n") + f"\n\n## Role variables\n\n{block}\n"
    else:
        wanted = f"# {role_dir.name}\n\n## Role variables\n\n{block}\n"
    if TUNING_BEGIN in wanted and TUNING_END in wanted.split(TUNING_BEGIN, 1)[1]:
        wanted = _replace_block(wanted, TUNING_BEGIN, TUNING_END, render_tuning_table())
    return readme, current, wanted


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when a README differs")
    parser.add_argument(
        "--roles-dir", type=Path, default=ROOT / "roles", help="default: roles/ of this checkout"
    )
    parser.add_argument("--diff", action="store_true", help="with --check, show what differs")
    parser.add_argument("roles", nargs="*", help="role names (default: every role in --roles-dir)")
    args = parser.parse_args(argv)

    if args.roles:
        role_dirs = [args.roles_dir / name for name in args.roles]
    else:
        role_dirs = (
            sorted(p for p in args.roles_dir.iterdir() if p.is_dir()) if args.roles_dir.is_dir() else []
        )
    if not role_dirs:
        print(f"Error: no roles found in {args.roles_dir}", file=sys.stderr)
        return 1

    rc = 0
    for role_dir in role_dirs:
        try:
            readme, current, wanted = role_readme(role_dir)
        except RoleDocsError as exc:
            print(f"Error: {exc}", file=sys.stderr)
            rc = 1
            continue
        if current == wanted:
            continue
        if args.check:
            print(
                f"{readme}: variable table differs from meta/argument_specs.yml "
                "(run: python scripts/role_docs.py)"
            )
            if args.diff:
                sys.stdout.writelines(
                    difflib.unified_diff(
                        current.splitlines(keepends=True),
                        wanted.splitlines(keepends=True),
                        fromfile=str(readme),
                        tofile=f"{readme} (generated)",
                    )
                )
            rc = 1
        else:
            tmp = readme.with_suffix(".md.tmp")
            tmp.write_text(wanted, encoding="utf-8")
            tmp.replace(readme)
            print(f"{readme}: updated")
    return rc


if __name__ == "__main__":
    sys.exit(main())
