"""The audit trail: a hash-chained JSON Lines log of every ``apply`` and ``drift``.

Each line is one record.  ``hash`` is the SHA-256 of the record's canonical
JSON (sorted keys, no whitespace, UTF-8) without ``hash`` and ``hmac``; the
record carries ``prev``, the previous record's ``hash`` (64 zeros for the
first), so editing, deleting, inserting or reordering any record breaks the
chain at that record.  A head file beside the log (``<log>.head``) holds the
last sequence number and hash, so cutting records off the end is found too.
With ``EDGEOPS_AUDIT_HMAC_KEY`` set, every record and the head also carry an
HMAC-SHA256 over the same bytes: without the key nobody can rewrite the whole
chain consistently.

Records never hold values or diffs: only the names of concerns that changed
or drifted.  Writers hold an exclusive lock (``<log>.lock``) for the whole
run, which serialises concurrent ``apply``/``drift`` runs.
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import hmac
import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from edgeops.errors import EdgeopsError

GENESIS = "0" * 64
HMAC_ENV = "EDGEOPS_AUDIT_HMAC_KEY"
SCHEMA = "edgeops.gitops/audit/v1"

#: CI identity variables recorded when present (never tokens).
CI_VARIABLES = (
    # GitLab CI
    "GITLAB_CI", "CI_PROJECT_PATH", "CI_PIPELINE_ID", "CI_PIPELINE_URL", "CI_JOB_ID", "CI_JOB_URL",
    "CI_COMMIT_SHA", "CI_COMMIT_REF_NAME", "GITLAB_USER_LOGIN", "GITLAB_USER_EMAIL",
    # AWX / Ansible Automation Platform job environment
    "AWX_HOST", "JOB_ID", "INVENTORY_ID", "PROJECT_REVISION", "AWX_JOB_ID", "AWX_USER_NAME",
    "TOWER_USER_NAME",
)


def canonical(record: dict[str, Any]) -> bytes:
    """Canonical bytes of a record without its ``hash``/``hmac`` fields."""
    body = {k: v for k, v in record.items() if k not in ("hash", "hmac")}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _hmac_key() -> bytes | None:
    key = os.environ.get(HMAC_ENV)
    return key.encode("utf-8") if key else None


def seal(record: dict[str, Any], key: bytes | None) -> dict[str, Any]:
    """Add ``hash`` (and ``hmac`` with a key) to a record."""
    data = canonical(record)
    record["hash"] = hashlib.sha256(data).hexdigest()
    if key:
        record["hmac"] = hmac.new(key, data, hashlib.sha256).hexdigest()
    return record


def utc_now() -> str:
    """UTC time, ISO 8601 with a Z, millisecond precision."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def actor() -> dict[str, Any]:
    """Who runs this: OS user and host, plus CI identity when present."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    ci = {k: os.environ[k] for k in CI_VARIABLES if os.environ.get(k)}
    return {"user": user, "host": socket.gethostname(), "ci": ci or None}


def _git(repo: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True, text=True, check=False, timeout=20,
            env={**os.environ, "LANG": "C", "GIT_OPTIONAL_LOCKS": "0"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def git_state(path: Path) -> dict[str, Any]:
    """Commit, branch and dirtiness of the Git repository holding ``path``."""
    repo = path if path.is_dir() else path.parent
    top = _git(repo, "rev-parse", "--show-toplevel")
    if top is None:
        return {"repository": None, "commit": None, "branch": None, "dirty": None}
    status = _git(repo, "status", "--porcelain", "--untracked-files=normal")
    return {
        "repository": top,
        "commit": _git(repo, "rev-parse", "HEAD"),
        "branch": _git(repo, "rev-parse", "--abbrev-ref", "HEAD"),
        "dirty": None if status is None else bool(status),
    }


def summarise_report(report: dict[str, Any]) -> dict[str, Any]:
    """What the audit keeps from a report: per host its status, stats, and per concern not in
    sync the names of its items (keys, settings, files) - never their values."""
    hosts: dict[str, Any] = {}
    for h in report.get("hosts", []):
        by_status: dict[str, dict[str, list[str]]] = {}
        for c in h.get("concerns", []):
            if c["status"] != "in_sync":
                by_status.setdefault(c["status"], {})[c["name"]] = [i["key"] for i in c.get("items", [])]
        hosts[h["name"]] = {"status": h["status"], "stats": h.get("stats"), **by_status}
    return hosts


# -- writing ---------------------------------------------------------------------
@dataclass(frozen=True)
class AuditLog:
    """The log file, its head marker and its lock."""

    path: Path

    @property
    def head_path(self) -> Path:
        """``<log>.head``: last sequence number and hash."""
        return self.path.with_name(self.path.name + ".head")

    @property
    def lock_path(self) -> Path:
        """``<log>.lock``: held by a writer for its whole run."""
        return self.path.with_name(self.path.name + ".lock")

    @contextmanager
    def locked(self, wait_message: Any = None, timeout: float | None = None) -> Iterator[None]:
        """Hold the exclusive writer lock; ``wait_message(pid)`` is called once if we must wait."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if wait_message is not None:
                    holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
                    wait_message(holder)
                deadline = None if timeout is None else time.monotonic() + timeout
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if deadline is not None and time.monotonic() > deadline:
                            raise EdgeopsError(
                                f"another edgeops run holds the audit lock {self.lock_path}",
                                hint="wait for it to finish, or raise --lock-timeout",
                            ) from None
                        time.sleep(0.2)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _last(self) -> tuple[int, str]:
        """Sequence number and hash of the last complete record."""
        if not self.path.exists():
            return 0, GENESIS
        last = b""
        with self.path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            block = min(size, 1 << 20)
            fh.seek(size - block)
            tail = fh.read()
        lines = [line for line in tail.split(b"\n") if line.strip()]
        if not lines:
            return 0, GENESIS
        last = lines[-1]
        try:
            rec = json.loads(last)
            return int(rec["seq"]), str(rec["hash"])
        except (ValueError, KeyError, TypeError) as exc:
            raise EdgeopsError(
                f"the last record of the audit log {self.path} is unreadable",
                hint=f"run 'edgeops audit verify --log {self.path}' and keep the file for the auditor",
            ) from exc

    def append(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Append one record (caller holds :meth:`locked`); fsync log, head and directory."""
        seq, prev = self._last()
        record: dict[str, Any] = {"schema": SCHEMA, "seq": seq + 1, "time": utc_now(), **fields, "prev": prev}
        key = _hmac_key()
        seal(record, key)
        line = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        head: dict[str, Any] = {"seq": record["seq"], "hash": record["hash"]}
        if key:
            head["hmac"] = hmac.new(key, canonical(head), hashlib.sha256).hexdigest()
        tmp = self.head_path.with_name(self.head_path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, (json.dumps(head, sort_keys=True) + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.head_path)
        dfd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
        return record

    # -- reading -----------------------------------------------------------------
    def records(self) -> Iterator[dict[str, Any]]:
        """Every parseable record, in file order (for show/export; verify checks)."""
        if not self.path.exists():
            return
        with self.path.open("r", encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(rec, dict):
                        yield rec


@dataclass(frozen=True)
class Verdict:
    """Result of :func:`verify`."""

    ok: bool
    records: int
    first_bad_seq: int | None
    problem: str | None
    signed: bool
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "ok": self.ok, "records": self.records, "first_bad_seq": self.first_bad_seq,
            "problem": self.problem, "signed": self.signed, "warnings": list(self.warnings),
        }


def verify(log: AuditLog, key: bytes | None = None) -> Verdict:
    """Check the whole chain; name the first bad sequence number.

    ``key`` (default: from ``EDGEOPS_AUDIT_HMAC_KEY``) also checks every HMAC.
    """
    key = key if key is not None else _hmac_key()
    expected_seq, prev = 1, GENESIS
    count = 0
    warnings: list[str] = []

    def bad(seq: int, problem: str) -> Verdict:
        return Verdict(False, count, seq, problem, bool(key), tuple(warnings))

    if not log.path.exists():
        if log.head_path.exists():
            return bad(1, f"the log {log.path} is missing but its head marker exists: records deleted")
        return Verdict(True, 0, None, None, bool(key), ("no audit log yet",))
    with log.path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            if not raw.endswith(b"\n"):
                return bad(expected_seq, f"line {lineno} is cut short (truncated write or edit)")
            try:
                rec = json.loads(raw)
                if not isinstance(rec, dict):
                    raise ValueError("not an object")
                seq = int(rec["seq"])
            except (ValueError, KeyError, TypeError):
                return bad(expected_seq, f"line {lineno} is not a valid record")
            if seq > expected_seq:
                return bad(expected_seq, f"expected record {expected_seq}, found {seq}: "
                                         f"record {expected_seq} was deleted or moved")
            if seq < expected_seq:
                return bad(seq, f"record {seq} appears again after record {expected_seq - 1}: "
                                "inserted or moved")
            digest = hashlib.sha256(canonical(rec)).hexdigest()
            if rec.get("hash") != digest:
                return bad(seq, f"record {seq} does not match its hash: edited")
            if rec.get("prev") != prev:
                return bad(seq, f"record {seq} does not follow record {seq - 1}: "
                                "inserted, replaced or reordered")
            if key:
                mac = hmac.new(key, canonical(rec), hashlib.sha256).hexdigest()
                if not hmac.compare_digest(str(rec.get("hmac", "")), mac):
                    return bad(seq, f"record {seq} has no valid HMAC for this key: forged or re-hashed")
            elif "hmac" in rec and not warnings:
                warnings.append(f"records are signed; set {HMAC_ENV} to check their HMACs")
            prev = digest
            expected_seq += 1
            count += 1
    last_seq = expected_seq - 1
    if log.head_path.exists():
        try:
            head = json.loads(log.head_path.read_text(encoding="utf-8"))
            head_seq, head_hash = int(head["seq"]), str(head["hash"])
        except (OSError, ValueError, KeyError, TypeError):
            return bad(last_seq + 1, f"the head marker {log.head_path} is unreadable")
        if key:
            mac = hmac.new(key, canonical({"seq": head_seq, "hash": head_hash}), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(str(head.get("hmac", "")), mac):
                return bad(head_seq, f"the head marker {log.head_path} has no valid HMAC")
        if head_seq > last_seq:
            return bad(last_seq + 1,
                       f"records {last_seq + 1}..{head_seq} are missing from the end: truncated")
        if head_seq == last_seq and head_hash != prev:
            return bad(last_seq, f"record {last_seq} is not the record the head marker names: replaced")
        if head_seq < last_seq:
            warnings.append(
                f"head marker names record {head_seq}, the log ends at {last_seq} (interrupted write?)"
            )
    elif count:
        warnings.append(f"no head marker {log.head_path}: truncation at the end cannot be detected")
    return Verdict(True, count, None, None, bool(key), tuple(warnings))


def parse_time(text: str) -> datetime:
    """Parse ``2026-11-29``, ``2026-11-29T21:00``, ``...Z`` or a relative ``2h``/``3d``/``30m``."""
    text = text.strip()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    if text and text[-1] in units and text[:-1].isdigit():
        return datetime.fromtimestamp(time.time() - int(text[:-1]) * units[text[-1]], UTC)
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise EdgeopsError(
            f"cannot read the time {text!r}",
            hint="use an ISO date/time (2026-11-29, 2026-11-29T21:00Z) or an age such as 2h, 3d",
        ) from exc
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def record_time(record: dict[str, Any]) -> datetime | None:
    """A record's time as an aware datetime (None when unreadable)."""
    try:
        return datetime.fromisoformat(str(record["time"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None


def select(
    records: Iterator[dict[str, Any]],
    host: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[dict[str, Any]]:
    """Records matching a host and a time window."""
    out = []
    for rec in records:
        t = record_time(rec)
        if since and (t is None or t < since):
            continue
        if until and (t is None or t > until):
            continue
        if host and host not in (rec.get("hosts") or {}):
            continue
        out.append(rec)
    return out
