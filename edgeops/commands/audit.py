"""``edgeops audit``: show, verify and export the hash-chained audit trail."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from edgeops import console
from edgeops.audit import TRUSTED_KEYS_ENV, open_store, parse_time, select, user_errors, utc_now, verify
from edgeops.config import default_audit_log
from edgeops.rc import RC
from edgeops.report import write_atomic


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``audit`` and its subcommands."""
    audit = sub.add_parser("audit", help="the tamper-evident record of every apply and drift",
                           description=__doc__)
    asub = audit.add_subparsers(dest="audit_command", metavar="ACTION", parser_class=type(audit))
    asub.required = True

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--log", "--store", dest="log", default=None, metavar="STORE",
                       help="audit store: a file, or git+URL[#branch] (default $EDGEOPS_AUDIT_STORE, "
                            f"$EDGEOPS_AUDIT_LOG or {default_audit_log()})")

    def filters(p: argparse.ArgumentParser) -> None:
        p.add_argument("--host", help="only records that touched this host")
        p.add_argument("--since", help="from this time (ISO date/time, or an age: 2h, 3d)")
        p.add_argument("--until", help="up to this time")

    show = asub.add_parser("show", help="list records (table or JSON)")
    common(show)
    filters(show)
    show.add_argument("--format", choices=("table", "json"), default="table")
    show.add_argument("-n", "--last", type=int, metavar="N", help="only the last N matching records")
    show.set_defaults(func=show_records)

    ver = asub.add_parser("verify", help="check the hash chain; exit 1 naming the first bad record")
    common(ver)
    ver.add_argument("--format", choices=("text", "json"), default="text")
    ver.add_argument("--trusted-keys", type=Path, default=None, metavar="FILE",
                     help="every anchor of a Git store must be signed by one of these keys: exported "
                          "OpenPGP public keys (gpg --export --armor) or an SSH allowed-signers file "
                          f"(default ${TRUSTED_KEYS_ENV}; unset: signatures are not checked)")
    ver.set_defaults(func=_verify)

    exp = asub.add_parser("export", help="records as one JSON document for an auditor")
    common(exp)
    filters(exp)
    exp.add_argument("-o", "--output", type=Path, help="write to FILE instead of stdout")
    exp.set_defaults(func=_export)

    push = asub.add_parser("push", help="push records a Git store could not push before (from this "
                                         "machine's clone and from the spool, $EDGEOPS_AUDIT_SPOOL)")
    common(push)
    push.set_defaults(func=_push)


def _log(args: argparse.Namespace) -> Any:
    return open_store(args.log)


def _selected(args: argparse.Namespace) -> list[dict[str, Any]]:
    with user_errors():
        records = list(_log(args).records())
    return select(
        iter(records),
        host=args.host,
        since=parse_time(args.since) if args.since else None,
        until=parse_time(args.until) if args.until else None,
    )


def _names(rec: dict[str, Any]) -> str:
    """One line per host: its concerns not in sync and their item names (never values)."""
    lines = []
    for host, h in sorted((rec.get("hosts") or {}).items()):
        parts = []
        for status in ("drifted", "changed", "failed", "unreachable", "unchecked"):
            concerns = h.get(status) or {}
            if isinstance(concerns, list):  # records before report v2 kept concern names only
                concerns = {name: [] for name in concerns}
            for concern, items in concerns.items():
                parts.append(f"{concern} {status}" + (f" [{', '.join(items)}]" if items else ""))
        if parts:
            lines.append(f"{host}: {'; '.join(parts)}")
    return "\n".join(lines)


def show_records(args: argparse.Namespace) -> RC:
    """``audit show``: table or JSON of the matching records."""
    records = _selected(args)
    if args.last:
        records = records[-args.last:]
    out = console.stdout()
    if args.format == "json":
        sys.stdout.write(json.dumps(records, indent=2, ensure_ascii=False) + "\n")
        return RC.OK
    table = Table(title=f"edgeops audit: {_log(args).location}", title_justify="left")
    for col in ("seq", "time (UTC)", "actor", "command", "commit", "hosts", "outcome", "changed / drifted"):
        table.add_column(col, overflow="fold")
    for rec in records:
        a = rec.get("actor") or {}
        repo = rec.get("config_repo") or {}
        commit = (repo.get("commit") or "-")[:10] + ("+dirty" if repo.get("dirty") else "")
        hosts = rec.get("hosts") or {}
        table.add_row(
            str(rec.get("seq")), str(rec.get("time", "")).replace("T", " ").rstrip("Z"),
            f"{a.get('user')}@{a.get('host')}", str(rec.get("command")), commit,
            str(len(hosts)), str(rec.get("outcome")), Text(_names(rec) or "-"),
        )
    out.print(table)
    return RC.OK


def _verify(args: argparse.Namespace) -> RC:
    log = _log(args)
    verdict = verify(log, trusted_keys=args.trusted_keys)
    if args.format == "json":
        sys.stdout.write(json.dumps({"log": log.location, **verdict.as_dict()}, indent=2) + "\n")
    else:
        out = console.stdout()
        signed = " (HMAC checked)" if verdict.signed else ""
        if verdict.ok:
            what = ("hash chain, append-only history and anchors intact" if hasattr(log, "url")
                    else "hash chain intact")
            out.print(f"[green]OK[/]: {verdict.records} records, {what}{signed}: {log.location}")
        else:
            out.print(f"[red]TAMPERED[/]: first bad record is seq {verdict.first_bad_seq}: {verdict.problem}")
        if hasattr(log, "url"):
            if verdict.signatures:
                out.print(f"anchor signatures: checked against {verdict.signatures}")
            else:
                out.print("anchor signatures: NOT checked (no trusted keys: give --trusted-keys FILE "
                          f"or set {TRUSTED_KEYS_ENV})")
        err = console.stderr()
        for w in verdict.warnings:
            err.print(f"warning: {w}")
    return RC.OK if verdict.ok else RC.ERROR


def _export(args: argparse.Namespace) -> RC:
    log = _log(args)
    verdict = verify(log)
    doc = {
        "schema": "edgeops.gitops/audit-export/v1",
        "exported_at": utc_now(),
        "log": log.location,
        "filters": {"host": args.host, "since": args.since, "until": args.until},
        "verification": verdict.as_dict(),
        "records": _selected(args),
    }
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        write_atomic(args.output, text)
        console.stderr().print(f"exported {len(doc['records'])} records to {args.output}")
    else:
        sys.stdout.write(text)
    if not verdict.ok:
        console.stderr().print(f"warning: the log fails verification at seq {verdict.first_bad_seq}")
    return RC.OK if verdict.ok else RC.ERROR


def _push(args: argparse.Namespace) -> RC:
    store = _log(args)
    if not hasattr(store, "push"):
        console.stderr().print(f"audit push: {store.location} is a local file; nothing to push")
        return RC.OK
    with user_errors(), store.locked():
        pushed = store.publish()
    console.stderr().print(f"audit push: {pushed} record(s) pushed to {store.location}")
    return RC.OK
