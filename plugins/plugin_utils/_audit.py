# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit trail: one hash-chained, append-only record per run, in one store.

Shared by the ``edgeops`` command line (``edgeops/audit.py`` re-exports it) and
the ``edgeops.gitops.drift`` callback (plain ``ansible-playbook``, AWX jobs),
so every way of running writes the same record.  Pure Python and the ``git``
command; no Ansible and no ``edgeops`` imports.

The chain: each record is one JSON line; ``hash`` is the SHA-256 of its
canonical JSON (sorted keys, no whitespace, UTF-8) without ``hash`` and
``hmac``; ``prev`` is the previous record's ``hash`` (64 zeros for the first).
With ``EDGEOPS_AUDIT_HMAC_KEY`` set, records and anchors also carry an
HMAC-SHA256 over the same bytes.

Two stores hold the chain:

``LocalStore`` (a path; the default for one machine)
    ``<log>`` + ``<log>.head`` (last seq and hash, so cutting records off the
    end is found) + ``<log>.lock`` (held for a whole run).

``GitStore`` (``git+<url>[#branch]``; shared by every runner)
    The file ``audit.jsonl`` on an audit branch (default ``edgeops-audit``) of
    the configuration repository or of a repository of its own.  A run locks
    its private clone, fetches the branch, appends one commit per record and
    pushes the branch together with one annotated tag per record
    (``edgeops-audit/<seq>``, the anchor: seq, hash and commit, HMAC'd, and
    GPG/SSH-signed when ``EDGEOPS_AUDIT_SIGN`` is set) in one atomic push,
    never forced.  A non-fast-forward (another runner pushed first) re-chains
    the unpublished records on the new head and tries again; an unreachable
    remote leaves them committed in the clone, and the next run pushes them.
    ``verify`` checks the chain, that the branch's history only ever appended
    (no commit removes or changes a line, each record's commit descends from
    the previous one's), and that every anchor names a record and commit still
    on the branch: rewriting the branch or cutting it short is found.  Given
    trusted keys (``EDGEOPS_AUDIT_TRUSTED_KEYS``: exported OpenPGP public keys
    or an SSH allowed-signers file), every anchor must also carry a good
    signature by one of them (``git verify-tag`` with a private GNUPGHOME and
    no global Git configuration); a verifier's clone also remembers each
    anchor's tag object, so a re-created anchor is found.

``EDGEOPS_AUDIT_SPOOL`` (a directory every runner can reach, e.g. the path
AWX exposes to its jobs) keeps records whose push failed when the runner's
own disk does not outlive the run: each unpublished record is written there
atomically, and the next run from any runner publishes the spooled records
first (under a lock in the spool, re-chained on the remote head, an entry
removed only after the push that published it, never published twice).
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import hmac
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ansible_collections.edgeops.gitops.plugins.plugin_utils._atomic import write_atomic

GENESIS = "0" * 64
HMAC_ENV = "EDGEOPS_AUDIT_HMAC_KEY"
STORE_ENV = "EDGEOPS_AUDIT_STORE"
CACHE_ENV = "EDGEOPS_AUDIT_CACHE"
SIGN_ENV = "EDGEOPS_AUDIT_SIGN"
TRUSTED_KEYS_ENV = "EDGEOPS_AUDIT_TRUSTED_KEYS"
SPOOL_ENV = "EDGEOPS_AUDIT_SPOOL"
#: The environment variables the audit trail reads, by what they carry (the AWX credential type
#: injects exactly these: ``extensions/awx/credential_type.yml``; a unit test keeps them equal).
ENVIRONMENT = {
    "store": STORE_ENV,
    "hmac_key": HMAC_ENV,
    "signing_key": SIGN_ENV,
    "spool": SPOOL_ENV,
}
SCHEMA = "edgeops.gitops/audit/v1"
DEFAULT_BRANCH = "edgeops-audit"
CHAIN_FILE = "audit.jsonl"
TAG_PREFIX = "edgeops-audit/"
_EMAIL = "edgeops-audit@localhost"

#: CI / AWX identity variables recorded when present (never tokens).
CI_VARIABLES = (
    # GitLab CI
    "GITLAB_CI", "CI_PROJECT_PATH", "CI_PIPELINE_ID", "CI_PIPELINE_URL", "CI_PIPELINE_SOURCE",
    "CI_JOB_ID", "CI_JOB_NAME", "CI_JOB_URL", "CI_COMMIT_SHA", "CI_COMMIT_REF_NAME",
    "GITLAB_USER_LOGIN", "GITLAB_USER_EMAIL",
    # AWX / Ansible Automation Platform job environment
    "AWX_HOST", "JOB_ID", "INVENTORY_ID", "PROJECT_REVISION", "AWX_JOB_ID", "AWX_USER_NAME",
    "TOWER_USER_NAME",
)
#: AWX extra variables (set on every job) recorded when present.
AWX_EXTRA_VARS = (
    "awx_job_id", "awx_user_name", "awx_job_template_name", "awx_job_launch_type",
    "awx_project_revision", "tower_job_id", "tower_user_name",
)


class AuditError(Exception):
    """An audit store problem the user can act on (``hint`` says how)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class AuditPushError(AuditError):
    """The record is committed in the local clone but could not be pushed."""


# -- records ---------------------------------------------------------------------
def canonical(record: Mapping[str, Any]) -> bytes:
    """Canonical bytes of a record without its ``hash``/``hmac`` fields."""
    body = {k: v for k, v in record.items() if k not in ("hash", "hmac")}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def hmac_key() -> bytes | None:
    """The HMAC key from ``EDGEOPS_AUDIT_HMAC_KEY`` (None when unset)."""
    key = os.environ.get(HMAC_ENV)
    return key.encode("utf-8") if key else None


def _mac(key: bytes, data: bytes) -> str:
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def seal(record: dict[str, Any], key: bytes | None) -> dict[str, Any]:
    """Add ``hash`` (and ``hmac`` with a key) to a record."""
    data = canonical(record)
    record["hash"] = hashlib.sha256(data).hexdigest()
    if key:
        record["hmac"] = _mac(key, data)
    return record


def dumps(record: Mapping[str, Any]) -> str:
    """One record as its JSON line."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def utc_now() -> str:
    """UTC time, ISO 8601 with a Z, millisecond precision."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def actor(env: Mapping[str, str] | None = None,
          extra_vars: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Who runs this: OS user and host, CI/AWX identity and the job's URL when present."""
    env = os.environ if env is None else env
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    ci: dict[str, Any] = {k: env[k] for k in CI_VARIABLES if env.get(k)}
    for k in AWX_EXTRA_VARS:
        value = (extra_vars or {}).get(k)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
            ci[k] = value
    job_url = ci.get("CI_JOB_URL")
    awx_job = ci.get("JOB_ID") or ci.get("AWX_JOB_ID") or ci.get("awx_job_id") or ci.get("tower_job_id")
    if not job_url and awx_job and ci.get("AWX_HOST"):
        job_url = f"{str(ci['AWX_HOST']).rstrip('/')}/#/jobs/playbook/{awx_job}"
    ci_user = (ci.get("GITLAB_USER_LOGIN") or ci.get("AWX_USER_NAME") or ci.get("awx_user_name")
               or ci.get("TOWER_USER_NAME") or ci.get("tower_user_name"))
    out: dict[str, Any] = {"user": user, "host": socket.gethostname(), "ci": ci or None}
    if ci_user:
        out["ci_user"] = str(ci_user)
    if job_url:
        out["job_url"] = str(job_url)
    return out


def _run_git(args: list[str], cwd: Path | None = None, timeout: float = 120,
             input_text: str | None = None, env: Mapping[str, str] | None = None
             ) -> subprocess.CompletedProcess[str]:
    """``git ARGS`` with LANG=C; the caller checks rc and stderr."""
    full_env = {**os.environ, "LANG": "C", "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0",
                "GIT_OPTIONAL_LOCKS": "0", **(env or {})}
    try:
        return subprocess.run(
            ["git", *args], cwd=None if cwd is None else str(cwd), capture_output=True, text=True,
            check=False, timeout=timeout, env=full_env, input=input_text,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return subprocess.CompletedProcess(["git", *args], 128, "", f"{type(exc).__name__}: {exc}")


def git_state(path: Path | str) -> dict[str, Any]:
    """Commit, branch and dirtiness of the Git repository holding ``path``."""
    path = Path(path)
    repo = path if path.is_dir() else path.parent

    def out(*args: str) -> str | None:
        proc = _run_git(["-C", str(repo), *args], timeout=20)
        return proc.stdout.strip() if proc.returncode == 0 else None

    top = out("rev-parse", "--show-toplevel")
    if top is None:
        return {"repository": None, "commit": None, "branch": None, "dirty": None}
    status = out("status", "--porcelain", "--untracked-files=normal")
    return {
        "repository": top,
        "commit": out("rev-parse", "HEAD"),
        "branch": out("rev-parse", "--abbrev-ref", "HEAD"),
        "dirty": None if status is None else bool(status),
    }


def config_repo(*paths: Path | str) -> dict[str, Any]:
    """:func:`git_state` of the first of ``paths`` inside a Git repository (AWX: the project)."""
    state: dict[str, Any] = {"repository": None, "commit": None, "branch": None, "dirty": None}
    for path in paths:
        state = git_state(path)
        if state["commit"]:
            break
    if not state["commit"] and os.environ.get("PROJECT_REVISION"):
        state["commit"] = os.environ["PROJECT_REVISION"]  # AWX's checkout of the project
    return state


def summarise_report(report: Mapping[str, Any]) -> dict[str, Any]:
    """What a record keeps of a drift report (schema v2): names only, never values.

    Per host its status and stats, and per status other than ``in_sync``
    (``changed``, ``drifted``, ``failed``, ``unreachable``, ``unchecked``...)
    the concerns with the keys of their items (``{"sysctl_tuning":
    ["net.core.somaxconn"]}``) - never the items' before/after values.
    """
    hosts: dict[str, Any] = {}
    for h in report.get("hosts", []):
        by_status: dict[str, dict[str, list[str]]] = {}
        for c in h.get("concerns", []):
            if c.get("status") != "in_sync":
                keys = [str(i["key"]) for i in c.get("items") or [] if isinstance(i, dict) and "key" in i]
                by_status.setdefault(str(c.get("status")), {})[c["name"]] = keys
        hosts[h["name"]] = {"status": h.get("status"), "stats": h.get("stats"), **by_status}
    return hosts


def run_record(report: Mapping[str, Any], command: str, config_repo: Mapping[str, Any],
               run: Mapping[str, Any], who: Mapping[str, Any] | None = None,
               extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The fields of one run's record (the store adds schema, seq, time, prev, hash)."""
    return {
        "command": command,
        "mode": report.get("mode"),
        "actor": dict(who) if who is not None else actor(),
        "config_repo": dict(config_repo),
        "run": dict(run),
        "hosts": summarise_report(report),
        "outcome": report.get("outcome"),
        "exit_code": report.get("exit_code"),
        **(extra or {}),
    }


def _new_record(seq: int, prev: str, fields: Mapping[str, Any], key: bytes | None) -> dict[str, Any]:
    record: dict[str, Any] = {"schema": SCHEMA, "seq": seq, "time": utc_now(), **fields, "prev": prev}
    for k in ("hash", "hmac"):
        record.pop(k, None)
    record["seq"], record["prev"] = seq, prev
    return seal(record, key)


# -- verification of a chain -------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    """Result of a verification."""

    ok: bool
    records: int
    first_bad_seq: int | None
    problem: str | None
    signed: bool
    warnings: tuple[str, ...] = ()
    store: str | None = None
    #: What the anchors' signatures were checked against; None: not checked.
    signatures: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "ok": self.ok, "records": self.records, "first_bad_seq": self.first_bad_seq,
            "problem": self.problem, "signed": self.signed, "warnings": list(self.warnings),
            "signatures_checked": self.signatures is not None, "signatures": self.signatures,
        }


@dataclass
class Chain:
    """A chain read line by line: the records' hashes, or the first problem."""

    key: bytes | None
    hashes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    bad_seq: int | None = None
    problem: str | None = None
    signatures: str | None = None

    @property
    def prev(self) -> str:
        """Hash of the last good record."""
        return self.hashes[-1] if self.hashes else GENESIS

    def verdict(self, ok_extra: Iterable[str] = (), store: str | None = None) -> Verdict:
        """This chain's verdict."""
        if self.problem is not None:
            return Verdict(False, len(self.hashes), self.bad_seq, self.problem, bool(self.key),
                           tuple(self.warnings), store, self.signatures)
        return Verdict(True, len(self.hashes), None, None, bool(self.key),
                       (*self.warnings, *ok_extra), store, self.signatures)

    def fail(self, seq: int, problem: str) -> bool:
        """Note the first problem; always False."""
        if self.problem is None:
            self.bad_seq, self.problem = seq, problem
        return False

    def feed(self, lines: Iterable[bytes]) -> bool:
        """Check every line; False at the first bad record."""
        for lineno, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            expected = len(self.hashes) + 1
            if not raw.endswith(b"\n"):
                return self.fail(expected, f"line {lineno} is cut short (truncated write or edit)")
            try:
                rec = json.loads(raw)
                if not isinstance(rec, dict):
                    raise ValueError("not an object")
                seq = int(rec["seq"])
            except (ValueError, KeyError, TypeError):
                return self.fail(expected, f"line {lineno} is not a valid record")
            if seq > expected:
                return self.fail(expected, f"expected record {expected}, found {seq}: "
                                           f"record {expected} was deleted or moved")
            if seq < expected:
                return self.fail(seq, f"record {seq} appears again after record {expected - 1}: "
                                      "inserted or moved")
            digest = hashlib.sha256(canonical(rec)).hexdigest()
            if rec.get("hash") != digest:
                return self.fail(seq, f"record {seq} does not match its hash: edited")
            if rec.get("prev") != self.prev:
                return self.fail(seq, f"record {seq} does not follow record {seq - 1}: "
                                      "inserted, replaced or reordered")
            if self.key:
                if not hmac.compare_digest(str(rec.get("hmac", "")), _mac(self.key, canonical(rec))):
                    return self.fail(seq, f"record {seq} has no valid HMAC for this key: forged or re-hashed")
            elif "hmac" in rec and not self.warnings:
                self.warnings.append(f"records are signed; set {HMAC_ENV} to check their HMACs")
            self.hashes.append(digest)
        return True


def _parse_records(lines: Iterable[str | bytes]) -> Iterator[dict[str, Any]]:
    for line in lines:
        if line.strip():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict):
                yield rec


def _last(lines: list[bytes], where: str) -> tuple[int, str]:
    """Sequence number and hash of the last record of ``lines``."""
    lines = [line for line in lines if line.strip()]
    if not lines:
        return 0, GENESIS
    try:
        rec = json.loads(lines[-1])
        return int(rec["seq"]), str(rec["hash"])
    except (ValueError, KeyError, TypeError) as exc:
        raise AuditError(f"the last record of the audit log {where} is unreadable",
                         hint="run 'edgeops audit verify' and keep the store for the auditor") from exc


@contextmanager
def _flock(lock_path: Path, wait_message: Any = None, timeout: float | None = None) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` (``wait_message(pid)`` once if we must wait)."""
    lock_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
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
                        raise AuditError(f"another edgeops run holds the audit lock {lock_path}",
                                         hint="wait for it to finish, or raise --lock-timeout") from None
                    time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _append_durably(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


# -- the local file ------------------------------------------------------------------
@dataclass(frozen=True)
class LocalStore:
    """The log file, its head marker and its lock (one machine)."""

    path: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))

    @property
    def location(self) -> str:
        """What to show the user."""
        return str(self.path)

    @property
    def head_path(self) -> Path:
        """``<log>.head``: last sequence number and hash."""
        return self.path.with_name(self.path.name + ".head")

    @property
    def lock_path(self) -> Path:
        """``<log>.lock``: held by a writer for its whole run."""
        return self.path.with_name(self.path.name + ".lock")

    def locked(self, wait_message: Any = None, timeout: float | None = None) -> Any:
        """Hold the exclusive writer lock for a run."""
        return _flock(self.lock_path, wait_message, timeout)

    def append(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Append one record (caller holds :meth:`locked`); fsync log, head and directory."""
        tail = b""
        if self.path.exists():
            with self.path.open("rb") as fh:
                fh.seek(0, os.SEEK_END)
                size = fh.tell()
                fh.seek(size - min(size, 1 << 20))
                tail = fh.read()
        seq, prev = _last(tail.split(b"\n"), str(self.path))
        key = hmac_key()
        record = _new_record(seq + 1, prev, fields, key)
        _append_durably(self.path, dumps(record).encode("utf-8"))
        head: dict[str, Any] = {"seq": record["seq"], "hash": record["hash"]}
        if key:
            head["hmac"] = _mac(key, canonical(head))
        write_atomic(self.head_path, json.dumps(head, sort_keys=True) + "\n")  # also fsyncs the directory
        return record

    def records(self) -> Iterator[dict[str, Any]]:
        """Every parseable record, in file order (for show/export; verify checks)."""
        if self.path.exists():
            with self.path.open("r", encoding="utf-8") as fh:
                yield from _parse_records(fh)

    def verify(self, key: bytes | None = None) -> Verdict:
        """Check the whole chain and the head marker; name the first bad record."""
        key = key if key is not None else hmac_key()
        chain = Chain(key)
        if not self.path.exists():
            if self.head_path.exists():
                chain.fail(1, f"the log {self.path} is missing but its head marker exists: records deleted")
                return chain.verdict(store=self.location)
            return Verdict(True, 0, None, None, bool(key), ("no audit log yet",), self.location)
        with self.path.open("rb") as fh:
            if not chain.feed(fh):
                return chain.verdict(store=self.location)
        last_seq = len(chain.hashes)
        if self.head_path.exists():
            try:
                head = json.loads(self.head_path.read_text(encoding="utf-8"))
                head_seq, head_hash = int(head["seq"]), str(head["hash"])
            except (OSError, ValueError, KeyError, TypeError):
                chain.fail(last_seq + 1, f"the head marker {self.head_path} is unreadable")
                return chain.verdict(store=self.location)
            if key and not hmac.compare_digest(
                    str(head.get("hmac", "")), _mac(key, canonical({"seq": head_seq, "hash": head_hash}))):
                chain.fail(head_seq, f"the head marker {self.head_path} has no valid HMAC")
            elif head_seq > last_seq:
                chain.fail(last_seq + 1, f"records {last_seq + 1}..{head_seq} are missing from the end: "
                                         "truncated")
            elif head_seq == last_seq and head_hash != chain.prev:
                chain.fail(last_seq, f"record {last_seq} is not the record the head marker names: replaced")
            elif head_seq < last_seq:
                chain.warnings.append(f"head marker names record {head_seq}, the log ends at {last_seq} "
                                      "(interrupted write?)")
        elif chain.hashes:
            chain.warnings.append(f"no head marker {self.head_path}: "
                                  "truncation at the end cannot be detected")
        return chain.verdict(store=self.location)


# -- trusted signing keys ------------------------------------------------------------------
_SSH_KEY_TYPES = ("ssh-", "ecdsa-", "sk-ssh-", "sk-ecdsa-")


@dataclass(frozen=True)
class TrustedKeys:
    """The keys an anchor's signature must come from: OpenPGP public keys or SSH allowed signers.

    ``path`` is a file of exported OpenPGP public keys (``gpg --export [--armor] KEYID...``, or a
    legacy ``pubring.gpg``) or an SSH allowed-signers file (``principal ssh-ed25519 AAAA...``, as
    for Git's ``gpg.ssh.allowedSignersFile``).  :meth:`load` says which, or why neither.
    """

    path: Path
    kind: str  # "openpgp" | "ssh"
    count: int

    @classmethod
    def load(cls, path: Path | str) -> TrustedKeys:
        """Read and classify a trusted keys file; :class:`AuditError` naming what is wrong."""
        path = Path(path).expanduser()
        hint = ("give exported OpenPGP public keys (gpg --export --armor KEYID > trusted.asc) or an "
                "SSH allowed-signers file (one 'principal ssh-ed25519 AAAA...' line per key)")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise AuditError(f"cannot read the trusted keys file {path}: {exc.strerror or exc}",
                             hint=hint) from exc
        if b"-----BEGIN PGP PUBLIC KEY BLOCK-----" in data or (data[:1] and data[0] & 0x80):
            count = _gpg_key_count(path)  # also proves gpg can import it
            return cls(path.resolve(), "openpgp", count)
        if b"-----BEGIN PGP PRIVATE KEY BLOCK-----" in data or b"PRIVATE KEY-----" in data:
            raise AuditError(f"the trusted keys file {path} holds a private key, not public keys", hint=hint)
        signers = 0
        for lineno, raw in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            fields = line.split()
            if len(fields) < 3 or not any(f.startswith(_SSH_KEY_TYPES) for f in fields[1:-1]):
                raise AuditError(
                    f"the trusted keys file {path} is neither OpenPGP public keys nor an SSH "
                    f"allowed-signers file (line {lineno}: {line[:60]!r})", hint=hint)
            signers += 1
        if not signers:
            raise AuditError(f"the trusted keys file {path} holds no key", hint=hint)
        return cls(path.resolve(), "ssh", signers)

    def describe(self) -> str:
        """What the signatures were checked against, for the verdict."""
        what = "OpenPGP key" if self.kind == "openpgp" else "SSH signer"
        return f"{self.count} trusted {what}{'s' if self.count != 1 else ''} in {self.path}"

    @contextmanager
    def git_environment(self) -> Iterator[tuple[list[str], dict[str, str]]]:
        """``git -c`` options and environment for ``git verify-tag`` that see these keys only.

        A private GNUPGHOME holding just the trusted OpenPGP keys (empty for SSH), no global or
        system Git configuration, and ``gpg.ssh.allowedSignersFile`` set to the SSH file (or to
        an empty one): a signature by any other key, the user's own included, is not good.
        """
        home = Path(tempfile.mkdtemp(prefix="edgeops-audit-gnupg-"))
        try:
            os.chmod(home, 0o700)
            allowed = home / "allowed_signers"
            if self.kind == "openpgp":
                _gpg(["--import", str(self.path)], home, f"import of the trusted keys {self.path}")
                allowed.write_text("")
            else:
                shutil.copyfile(self.path, allowed)
            options = ["-c", "gpg.program=gpg", "-c", f"gpg.ssh.allowedSignersFile={allowed}",
                       "-c", "gpg.minTrustLevel=undefined"]
            env = {"GNUPGHOME": str(home), "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
            yield options, env
        finally:
            shutil.rmtree(home, ignore_errors=True)


def _gpg(args: list[str], home: Path, what: str) -> str:
    hint = "export the trusted keys with: gpg --export --armor KEYID > trusted.asc"
    try:
        proc = subprocess.run(["gpg", "--batch", "--no-tty", "--quiet", "--homedir", str(home), *args],
                              capture_output=True, text=True, check=False, timeout=60,
                              env={**os.environ, "LANG": "C", "LC_ALL": "C"})
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AuditError(f"{what} failed: {exc}", hint="install gpg (Debian: apt-get install gnupg)") from exc
    if proc.returncode != 0:
        raise AuditError(f"{what} failed: {_last_line(proc.stderr) or f'gpg exit {proc.returncode}'}",
                         hint=hint)
    return proc.stdout


def _gpg_key_count(path: Path) -> int:
    home = Path(tempfile.mkdtemp(prefix="edgeops-audit-gnupg-"))
    try:
        os.chmod(home, 0o700)
        out = _gpg(["--with-colons", "--import-options", "show-only", "--import", str(path)], home,
                   f"reading the trusted keys file {path}")
    finally:
        shutil.rmtree(home, ignore_errors=True)
    count = sum(1 for line in out.splitlines() if line.startswith("pub:"))
    if not count:
        raise AuditError(f"the trusted keys file {path} holds no OpenPGP public key",
                         hint="export them with: gpg --export --armor KEYID > trusted.asc")
    return count


def trusted_keys_from_env() -> TrustedKeys | None:
    """The keys ``EDGEOPS_AUDIT_TRUSTED_KEYS`` names (None when unset)."""
    path = os.environ.get(TRUSTED_KEYS_ENV)
    return TrustedKeys.load(path) if path else None


def _signature_problem(tag: str, proc: subprocess.CompletedProcess[str]) -> str:
    """Why ``git verify-tag --raw`` did not accept an anchor's signature."""
    text = proc.stderr + proc.stdout
    status = dict(re.findall(r"^\[GNUPG:\] (\w+) ?(.*)$", text, re.MULTILINE))
    if "no signature found" in text:
        return f"the anchor {tag} is not signed"
    if "NO_PUBKEY" in status or "ERRSIG" in status:
        key = status.get("NO_PUBKEY") or status.get("ERRSIG", "").split(" ")[0]
        return f"the anchor {tag} is signed by a key that is not trusted (OpenPGP key {key})"
    if "BADSIG" in status:
        return f"the anchor {tag} has a bad signature: the tag was altered after it was signed"
    for word in ("EXPKEYSIG", "REVKEYSIG", "EXPSIG"):
        if word in status:
            return f"the anchor {tag} is signed by an expired or revoked key ({word} {status[word]})"
    if "No principal matched" in text or "allowedSignersFile" in text:
        fingerprint = re.search(r"key (SHA256:\S+)", text)
        return (f"the anchor {tag} is signed by a key that is not trusted (SSH key "
                f"{fingerprint.group(1) if fingerprint else 'unknown'})")
    if "Signature verification failed" in text or "incorrect signature" in text:
        return f"the anchor {tag} has a bad signature: the tag was altered after it was signed"
    return f"the signature of the anchor {tag} is not good: {_last_line(text) or f'exit {proc.returncode}'}"


# -- the spool: unpublished records that outlive the runner ------------------------------
SPOOL_SCHEMA = "edgeops.gitops/audit-spool/v1"
_CHAIN_FIELDS = ("schema", "seq", "prev", "hash", "hmac")


def record_body(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record without its place in a chain (what re-chaining keeps: time, actor, hosts...)."""
    return {k: v for k, v in record.items() if k not in _CHAIN_FIELDS}


def body_digest(record: Mapping[str, Any]) -> str:
    """Identity of a record across re-chaining: SHA-256 of its canonical body."""
    return hashlib.sha256(canonical(record_body(record))).hexdigest()


@contextmanager
def _no_lock() -> Iterator[None]:
    yield


@dataclass(frozen=True)
class Spool:
    """A directory of records a runner could not push, one JSON file each, for any runner to publish.

    An entry is written atomically (temporary file, fsync, rename) and named by the record's time
    and body digest, so the same record is never spooled twice; it holds the record as committed
    (nothing else: no URL, no key) and the store's :attr:`GitStore.store_id`.  Runners publish
    the spool under ``<spool>/.lock`` and remove an entry only after the push that published it.
    """

    directory: Path
    store_id: str

    def problem(self) -> str | None:
        """Why this spool cannot be used (None: it can)."""
        if not self.directory.is_dir():
            return f"the audit spool {self.directory} ({SPOOL_ENV}) is not a directory"
        if not os.access(self.directory, os.W_OK | os.X_OK):
            return f"the audit spool {self.directory} ({SPOOL_ENV}) is not writable"
        return None

    def locked(self) -> Any:
        """Exclusive lock of the spool, held while publishing (no double publication)."""
        return _flock(self.directory / ".lock", timeout=600)

    def entries(self, key: bytes | None) -> tuple[list[tuple[Path, dict[str, Any]]], list[str]]:
        """This store's entries, oldest first, and what is wrong with the invalid ones."""
        good: list[tuple[Path, dict[str, Any]]] = []
        invalid: list[str] = []
        for path in sorted(self.directory.glob("*.json")):
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
                rec = doc["record"]
                if doc.get("schema") != SPOOL_SCHEMA or not isinstance(rec, dict):
                    raise ValueError("not an audit spool entry")
            except (OSError, ValueError, KeyError, TypeError) as exc:
                invalid.append(f"{path.name}: unreadable ({exc})")
                continue
            if doc.get("store") != self.store_id:
                continue  # another store's record: its own runs publish it
            if rec.get("hash") != hashlib.sha256(canonical(rec)).hexdigest():
                invalid.append(f"{path.name}: the record does not match its hash (edited)")
            elif key and not hmac.compare_digest(str(rec.get("hmac", "")), _mac(key, canonical(rec))):
                invalid.append(f"{path.name}: the record has no valid HMAC for this key")
            else:
                good.append((path, rec))
        good.sort(key=lambda entry: (str(entry[1].get("time", "")), entry[0].name))
        return good, invalid

    def put(self, records: Iterable[Mapping[str, Any]]) -> int:
        """Write each record not spooled yet; how many files were written."""
        written = 0
        for rec in records:
            stamp = re.sub(r"[^0-9A-Za-z.]", "", str(rec.get("time", "")))
            path = self.directory / f"{stamp}-{body_digest(rec)}.json"
            if path.exists():
                continue
            doc = {"schema": SPOOL_SCHEMA, "store": self.store_id, "spooled_at": utc_now(),
                   "record": dict(rec)}
            write_atomic(path, json.dumps(doc, sort_keys=True, ensure_ascii=False) + "\n")
            written += 1
        return written


# -- the Git store -----------------------------------------------------------------------
_TRAILER = re.compile(r"^Edgeops-Audit-(Seq|Hash): *(\S+) *$", re.MULTILINE)
_REJECTED = ("[rejected]", "non-fast-forward", "fetch first", "already exists", "stale info",
             "[remote rejected]", "failed to update ref", "cannot lock ref")


@dataclass(frozen=True)
class GitStore:
    """``audit.jsonl`` on a branch of a Git remote, appended through a private clone."""

    url: str
    branch: str = DEFAULT_BRANCH
    workdir: Path | None = None
    attempts: int = 20
    #: The spool directory; None: ``EDGEOPS_AUDIT_SPOOL`` (unset: no spool).
    spool: Path | str | None = None

    def __post_init__(self) -> None:
        if self.workdir is None:
            base = Path(os.environ.get(CACHE_ENV) or _state_home() / "audit-git")
            name = hashlib.sha256(f"{self.url}#{self.branch}".encode()).hexdigest()[:16]
            object.__setattr__(self, "workdir", base / name)
        object.__setattr__(self, "workdir", Path(str(self.workdir)))

    @property
    def clone(self) -> Path:
        """The private clone (a working tree on the audit branch)."""
        return Path(str(self.workdir))

    @property
    def location(self) -> str:
        """What to show the user."""
        return f"git+{self.url}#{self.branch}"

    @property
    def store_id(self) -> str:
        """Names this store in spool entries without its URL (which may hold a token)."""
        return hashlib.sha256(f"{self.url}#{self.branch}".encode()).hexdigest()[:16]

    @property
    def lock_path(self) -> Path:
        """Held by a writer for its whole run (serialises runs sharing this clone)."""
        return self.clone.with_name(self.clone.name + ".lock")

    @property
    def remote_ref(self) -> str:
        """The remote-tracking ref of the audit branch."""
        return f"refs/remotes/origin/{self.branch}"

    def locked(self, wait_message: Any = None, timeout: float | None = None) -> Any:
        """Hold the exclusive writer lock for a run."""
        return _flock(self.lock_path, wait_message, timeout)

    # -- git plumbing --------------------------------------------------------------
    def _git(self, *args: str, ok: tuple[int, ...] = (0,), input_text: str | None = None,
             env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        proc = _run_git(["-C", str(self.clone), *args], input_text=input_text, env=env)
        if proc.returncode not in ok:
            cause = (proc.stderr.strip() or proc.stdout.strip() or f"exit {proc.returncode}").splitlines()
            command = next((a for i, a in enumerate(args) if a != "-c" and (i == 0 or args[i - 1] != "-c")),
                           "")
            raise AuditError(f"git {command} failed for the audit store {self.location}: {cause[-1]}")
        return proc

    def _rev(self, ref: str) -> str | None:
        proc = self._git("rev-parse", "-q", "--verify", f"{ref}^{{commit}}", ok=(0, 1, 128))
        return proc.stdout.strip() if proc.returncode == 0 else None

    def _is_ancestor(self, a: str, b: str) -> bool:
        return self._git("merge-base", "--is-ancestor", a, b, ok=(0, 1)).returncode == 0

    def _lines(self, ref: str) -> list[bytes]:
        proc = self._git("show", f"{ref}:{CHAIN_FILE}", ok=(0, 128))
        if proc.returncode != 0:
            return []
        return [line.encode("utf-8") for line in proc.stdout.splitlines(keepends=True)]

    def _ensure_clone(self) -> None:
        if (self.clone / ".git").is_dir():
            return
        self.clone.mkdir(parents=True, exist_ok=True, mode=0o700)
        proc = _run_git(["init", "-q", str(self.clone)])
        if proc.returncode != 0:
            raise AuditError(f"git init failed for the audit clone {self.clone}: {proc.stderr.strip()}")
        self._git("remote", "add", "origin", self.url)

    def fetch(self) -> bool:
        """Fetch the audit branch and the anchors (forced: the remote is the truth); False if no branch."""
        self._ensure_clone()
        proc = self._git("fetch", "-q", "--no-tags", "origin",
                         f"+refs/heads/{self.branch}:{self.remote_ref}",
                         f"+refs/tags/{TAG_PREFIX}*:refs/tags/{TAG_PREFIX}*", ok=(0, 1, 128))
        if proc.returncode == 0:
            return True
        if "couldn't find remote ref" in proc.stderr:
            proc = self._git("fetch", "-q", "--no-tags", "origin",
                             f"+refs/tags/{TAG_PREFIX}*:refs/tags/{TAG_PREFIX}*", ok=(0, 1, 128))
            if proc.returncode == 0:
                self._git("update-ref", "-d", self.remote_ref)
                return False
        raise AuditPushError(
            f"fetch failed for the audit store {self.location}: {_last_line(proc.stderr)}",
            hint="check that the audit remote is reachable and that this runner may read it")

    # -- writing -------------------------------------------------------------------
    def _commit(self, fields: Mapping[str, Any], key: bytes | None) -> dict[str, Any]:
        path = self.clone / CHAIN_FILE
        lines = path.read_bytes().splitlines(keepends=True) if path.exists() else []
        seq, prev = _last(lines, self.location)
        record = _new_record(seq + 1, prev, fields, key)
        _append_durably(path, dumps(record).encode("utf-8"))
        who = record.get("actor") or {}
        name = f"edgeops audit ({who.get('ci_user') or who.get('user') or 'unknown'})"
        ident = {"GIT_AUTHOR_NAME": name, "GIT_COMMITTER_NAME": name,
                 "GIT_AUTHOR_EMAIL": _EMAIL, "GIT_COMMITTER_EMAIL": _EMAIL}
        self._git("add", "--", CHAIN_FILE)
        message = (f"audit: record {record['seq']}: {record.get('command')} {record.get('outcome')}\n\n"
                   f"Edgeops-Audit-Seq: {record['seq']}\nEdgeops-Audit-Hash: {record['hash']}\n")
        self._git("-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-F", "-",
                  input_text=message, env=ident)
        return record

    def _pending(self, base: str | None) -> list[tuple[str, int, str]]:
        """(commit, seq, hash) of the records on the local branch that the remote lacks."""
        spec = f"{base}..HEAD" if base else "HEAD"
        out = self._git("log", "--reverse", "--first-parent", "--format=%H%x1f%B%x1e", spec).stdout
        pending = []
        for chunk in out.split("\x1e"):
            if "\x1f" not in chunk:
                continue
            commit, body = chunk.strip().split("\x1f", 1)
            trailers = dict(_TRAILER.findall(body))
            if "Seq" in trailers and "Hash" in trailers:
                pending.append((commit, int(trailers["Seq"]), trailers["Hash"]))
        return pending

    def _rechain(self, remote: str, key: bytes | None) -> None:
        """Put the unpublished records on top of the remote head (new seq, prev, hash)."""
        published = {body_digest(r) for r in _parse_records(self._lines(remote))}
        pending = [r for r in _parse_records(self._lines("HEAD")) if body_digest(r) not in published]
        self._git("checkout", "-q", "-B", self.branch, remote)
        self._git("reset", "-q", "--hard", remote)
        for rec in pending:
            self._commit(record_body(rec), key)

    def _sync(self, key: bytes | None) -> str | None:
        """Fetch and bring the local branch on top of the remote one; the remote head or None."""
        exists = self.fetch()
        local = self._rev(f"refs/heads/{self.branch}")
        if not exists:
            if local is None:
                self._git("checkout", "-q", "--orphan", self.branch)
            return None
        remote = self._rev(self.remote_ref)
        if remote is None:
            raise AuditError(f"fetch of the audit store {self.location} left no {self.remote_ref}")
        if local is None:
            self._git("checkout", "-q", "-B", self.branch, remote)
        elif not self._is_ancestor(remote, local):
            self._rechain(remote, key)
        return remote

    def _anchor(self, commit: str, seq: int, digest: str, key: bytes | None) -> str:
        """Create (or re-create, while unpublished) the annotated anchor tag of one record."""
        body: dict[str, Any] = {"seq": seq, "hash": digest, "commit": commit}
        if key:
            body["hmac"] = _mac(key, canonical(body))
        tag = f"{TAG_PREFIX}{seq:08d}"
        options, sign = signing_options(os.environ.get(SIGN_ENV))
        self._git(*options, "tag", "-f", *sign, "-F", "-", tag, commit,
                  input_text=f"edgeops audit anchor {seq}\n\n{json.dumps(body, sort_keys=True)}\n",
                  env={"GIT_COMMITTER_NAME": "edgeops audit", "GIT_COMMITTER_EMAIL": _EMAIL})
        return tag

    def append(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Append one record and push it (caller holds :meth:`locked`).

        Records waiting in the spool (:attr:`spool_dir`) are published first.
        Raises :class:`AuditPushError` when the remote cannot be reached: the
        record is then committed in the clone and, with a spool, written to
        the spool too; the next run (from any runner sharing the spool) pushes it.
        """
        record, _count = self._publish(fields)
        if record is None:  # pragma: no cover - _publish always appends when given fields
            raise AuditError("internal error: no record appended")
        return record

    def publish(self) -> int:
        """Push what waits in the clone and in the spool (``edgeops audit push``); how many records."""
        return self._publish(None)[1]

    @property
    def spool_dir(self) -> Path | None:
        """Where unpublished records outlive this runner (``EDGEOPS_AUDIT_SPOOL``); None: no spool."""
        value = self.spool if self.spool is not None else os.environ.get(SPOOL_ENV)
        return Path(value).expanduser() if value else None

    def _publish(self, fields: Mapping[str, Any] | None) -> tuple[dict[str, Any] | None, int]:
        key = hmac_key()
        spool = Spool(self.spool_dir, self.store_id) if self.spool_dir else None
        spool_problem = spool.problem() if spool else None
        if spool_problem:  # still publish this run's record; say so at the end
            spool = None
        with ExitStack() as stack:
            if spool:
                try:
                    stack.enter_context(spool.locked())
                except AuditError as exc:  # another runner publishes the spool: spool into it only
                    spool_problem = exc.message
            adopted: list[Path] = []
            invalid: list[str] = []
            record: dict[str, Any] | None = None
            try:
                self._sync(key)
                if spool and not spool_problem:
                    adopted, invalid = self._adopt(spool, key)
                if fields is not None:
                    record = self._commit(fields, key)
                pushed = self.push(key, synced=True)
            except AuditError as exc:
                if fields is not None and record is None:  # the fetch failed: keep the record in the clone
                    self._ensure_clone()
                    if self._rev("HEAD") is None and self._rev(f"refs/heads/{self.branch}") is None:
                        self._git("checkout", "-q", "--orphan", self.branch)
                    record = self._commit(fields, key)
                raise self._kept(exc, spool, record, spool_problem) from exc
            for path in adopted:  # published (or found already published): only now leave the spool
                path.unlink(missing_ok=True)
        if invalid and spool:
            raise AuditError(
                f"the audit spool {spool.directory} holds entries that are not valid records, left there "
                f"and not published: {'; '.join(invalid)}",
                hint="keep them for the auditor (tampering or a broken disk), then move them out of the "
                     "spool")
        if spool_problem:
            raise AuditError(f"{pushed} record(s) pushed to {self.location}, but {spool_problem}",
                             hint="records of a failed push would be lost with the job's disk: fix the spool "
                                  "(AWX: Settings > Jobs > Paths to expose to isolated jobs)")
        return record, pushed

    def _adopt(self, spool: Spool, key: bytes | None) -> tuple[list[Path], list[str]]:
        """Commit the spooled records this branch lacks; the entries to remove after the push."""
        present = {body_digest(r) for r in _parse_records(self._lines("HEAD"))}
        entries, invalid = spool.entries(key)
        for _path, rec in entries:
            digest = body_digest(rec)
            if digest not in present:  # else: already published or waiting in this clone
                self._commit(record_body(rec), key)
                present.add(digest)
        return [path for path, _rec in entries], invalid

    def _kept(self, exc: AuditError, spool: Spool | None, record: Mapping[str, Any] | None,
              spool_problem: str | None = None) -> AuditPushError:
        """The error of a run whose records could not be published, after saving them in the spool."""
        where = f"the record {record['seq']} waits" if record else "unpublished records wait"
        if spool is None:
            return AuditPushError(
                f"{exc.message}; {where} in {self.clone}" + (f" ({spool_problem})" if spool_problem else ""),
                hint="the next edgeops run (or 'edgeops audit push') pushes them once the remote is "
                     "reachable")
        try:
            remote = self._rev(self.remote_ref)
            published = {body_digest(r) for r in _parse_records(self._lines(remote))} if remote else set()
            pending = [r for r in _parse_records(self._lines("HEAD")) if body_digest(r) not in published]
            written = spool.put(pending)
        except (OSError, AuditError) as spool_exc:
            cause = spool_exc.message if isinstance(spool_exc, AuditError) else str(spool_exc)
            return AuditPushError(
                f"{exc.message}; and writing them to the audit spool {spool.directory} failed ({cause}): "
                f"{where} only in {self.clone}",
                hint="make the spool writable for this job (AWX: Settings > Jobs > Paths to expose to "
                     "isolated jobs), then run 'edgeops audit push' from this machine")
        return AuditPushError(
            f"{exc.message}; {len(pending)} unpublished record(s) saved in the audit spool {spool.directory} "
            f"({written} new)",
            hint=f"the next run from any runner with {SPOOL_ENV}={spool.directory} publishes them once the "
                 "remote is reachable (or run 'edgeops audit push' with it); never delete the spool's files")

    def push(self, key: bytes | None = None, synced: bool = False) -> int:
        """Push the unpublished records with their anchors; retry on a non-fast-forward."""
        key = key if key is not None else hmac_key()
        last_error = ""
        for attempt in range(self.attempts):
            remote = self._sync(key) if (attempt or not synced) else self._rev(self.remote_ref)
            pending = self._pending(remote)
            if not pending:
                return 0
            tags = [self._anchor(c, s, h, key) for c, s, h in pending]
            proc = self._git("push", "--atomic", "--porcelain", "origin",
                             f"refs/heads/{self.branch}:refs/heads/{self.branch}",
                             *(f"refs/tags/{t}:refs/tags/{t}" for t in tags), ok=(0, 1, 128))
            if proc.returncode == 0:
                return len(pending)
            text = proc.stdout + proc.stderr
            last_error = _last_line(proc.stderr) or _last_line(proc.stdout)
            if not any(word in text for word in _REJECTED):
                raise AuditPushError(
                    f"push failed for the audit store {self.location}: {last_error}; "
                    f"{len(pending)} record(s) wait in {self.clone}",
                    hint="the next edgeops run (or 'edgeops audit push') pushes them once the remote "
                         "is reachable")
            time.sleep(min(0.05 * (attempt + 1), 1.0))  # another runner pushed first: re-chain, retry
        raise AuditPushError(f"push failed for the audit store {self.location} after {self.attempts} "
                             f"attempts: {last_error}", hint="retry; the records wait in the clone")

    # -- reading ---------------------------------------------------------------------
    def records(self) -> Iterator[dict[str, Any]]:
        """Every parseable record of the remote branch (fetched now)."""
        if self.fetch():
            yield from _parse_records(self._lines(self.remote_ref))

    def verify(self, key: bytes | None = None, trusted: TrustedKeys | None = None) -> Verdict:
        """Check the chain, the append-only history of the branch and the anchors.

        Reads through a clone of its own (``<clone>.verify``), never the
        writer's, which may hold unpublished records; that clone remembers the
        branch head and the anchors it saw last, so a later force-push, a
        deleted anchor or a re-created one is found even when the remote was
        cleaned up.  With ``trusted`` (default: ``EDGEOPS_AUDIT_TRUSTED_KEYS``)
        every anchor must carry a good signature by one of those keys.
        """
        reader = GitStore(self.url, self.branch, self.clone.with_name(self.clone.name + ".verify"))
        trusted = trusted if trusted is not None else trusted_keys_from_env()
        return reader._verify(key if key is not None else hmac_key(), trusted)

    def _tag_objects(self) -> dict[str, str]:
        out = self._git("for-each-ref", "--format=%(refname:strip=2) %(objectname)",
                        f"refs/tags/{TAG_PREFIX}").stdout
        return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)

    def _verify(self, key: bytes | None, trusted: TrustedKeys | None = None) -> Verdict:
        chain = Chain(key, signatures=trusted.describe() if trusted else None)
        self._ensure_clone()
        seen = self._rev(self.remote_ref)
        seen_tags = self._tag_objects()
        exists = self.fetch()
        anchors = self._anchors(chain)
        if not exists:
            if anchors:
                chain.fail(1, f"the branch {self.branch} is gone but {len(anchors)} anchors remain: deleted")
                return chain.verdict(store=self.location)
            return Verdict(True, 0, None, None, bool(key), ("no audit records yet",), self.location,
                           chain.signatures)
        tip = self._rev(self.remote_ref)
        if tip is None:
            raise AuditError(f"fetch of the audit store {self.location} left no {self.remote_ref}")
        if not chain.feed(self._lines(tip)):
            return chain.verdict(store=self.location)
        commits = self._history(tip, chain)
        if chain.problem is None:
            self._check_anchors(anchors, commits, tip, chain, seen_tags, trusted)
        if chain.problem is None and seen and seen != tip and not self._is_ancestor(seen, tip):
            chain.fail(self._first_difference(seen, tip),
                       f"the branch was force-pushed: {seen[:12]}, fetched before, "
                       "is no longer in its history")
        return chain.verdict(store=self.location)

    def _first_difference(self, old: str, new: str) -> int:
        old_recs = list(_parse_records(self._lines(old)))
        new_recs = list(_parse_records(self._lines(new)))
        for i, rec in enumerate(old_recs):
            if i >= len(new_recs) or new_recs[i].get("hash") != rec.get("hash"):
                return i + 1
        return len(old_recs) + 1

    def _history(self, tip: str, chain: Chain) -> dict[int, str]:
        """seq -> commit that added it; fails the chain when a commit removed or changed a line."""
        out = self._git("log", "--reverse", "--first-parent", "--diff-merges=first-parent", "-p",
                        "--unified=0", "--no-color", "--no-renames", "--no-ext-diff",
                        "--format=%x1e%H", tip, "--", CHAIN_FILE).stdout
        commits: dict[int, str] = {}
        for chunk in out.split("\x1e")[1:]:
            commit, _sep, patch = chunk.partition("\n")
            for line in patch.splitlines():
                if line.startswith(("---", "+++")):
                    continue
                if line.startswith("-"):
                    try:
                        seq = int(json.loads(line[1:])["seq"])
                    except (ValueError, KeyError, TypeError):
                        seq = 1
                    chain.fail(seq, f"commit {commit[:12]} removed or changed record {seq}: "
                                    "the branch history was rewritten in place")
                    return commits
                if line.startswith("+"):
                    try:
                        rec = json.loads(line[1:])
                        seq = int(rec["seq"])
                    except (ValueError, KeyError, TypeError):
                        continue
                    if seq <= len(chain.hashes) and rec.get("hash") == chain.hashes[seq - 1]:
                        commits[seq] = commit
        previous: str | None = None
        for seq in range(1, len(chain.hashes) + 1):
            adding = commits.get(seq)
            if adding is None:
                chain.fail(seq, f"no commit on the branch adds record {seq}")
                return commits
            if previous is not None and previous != adding and not self._is_ancestor(previous, adding):
                chain.fail(seq, f"the commit of record {seq} does not descend from the commit of record "
                                f"{seq - 1}")
                return commits
            previous = adding
        return commits

    def _anchors(self, chain: Chain) -> dict[int, dict[str, Any]]:
        out = self._git("for-each-ref",
                        "--format=%(refname:strip=2)%1f%(*objectname)%1f%(objectname)%1f%(contents)%1e",
                        f"refs/tags/{TAG_PREFIX}").stdout
        anchors: dict[int, dict[str, Any]] = {}
        for chunk in out.split("\x1e"):
            if "\x1f" not in chunk:
                continue
            name, target, obj, contents = chunk.strip("\n").split("\x1f", 3)
            try:
                body = json.loads(next(line for line in contents.splitlines() if line.startswith("{")))
                anchors[int(body["seq"])] = {**body, "tag": name, "target": target, "object": obj}
            except (StopIteration, ValueError, KeyError, TypeError):
                anchors[int(name.rsplit("/", 1)[-1] or 0)] = {"tag": name, "target": target, "object": obj,
                                                              "bad": True}
        return anchors

    def _check_anchors(self, anchors: dict[int, dict[str, Any]], commits: dict[int, str], tip: str,
                       chain: Chain, seen_tags: Mapping[str, str] | None = None,
                       trusted: TrustedKeys | None = None) -> None:
        last = len(chain.hashes)
        problems: list[tuple[int, int, str]] = []  # (rank, seq, problem): content first, then history
        seen_tags = seen_tags or {}
        for seq, a in sorted(anchors.items()):
            before = seen_tags.get(a["tag"])
            if before and before != a["object"]:
                problems.append((0, seq, f"the anchor {a['tag']} was re-created: its tag object was "
                                         f"{before[:12]} when this verifier last saw it, "
                                         f"now {a['object'][:12]}"))
                continue
            if a.get("bad"):
                problems.append((0, seq, f"the anchor {a['tag']} is unreadable"))
                continue
            if chain.key:
                body = {k: a.get(k) for k in ("seq", "hash", "commit")}
                if not hmac.compare_digest(str(a.get("hmac", "")), _mac(chain.key, canonical(body))):
                    problems.append((0, seq, f"the anchor {a['tag']} has no valid HMAC: forged"))
                    continue
            if a.get("commit") != a.get("target"):
                problems.append((0, seq, f"the anchor {a['tag']} points at another commit than it names"))
            elif seq > last:
                problems.append((1, last + 1, f"records {last + 1}..{max(anchors)} are anchored but missing "
                                              "from the branch: truncated"))
            elif chain.hashes[seq - 1] != a.get("hash"):
                problems.append((0, seq, f"record {seq} is not the record its anchor {a['tag']} names: "
                                         "the branch was rewritten"))
            elif commits.get(seq) != a.get("target") or not self._is_ancestor(str(a["target"]), tip):
                problems.append((2, seq, f"the commit of record {seq} is not the anchored one: the branch "
                                         "history was rewritten (force-push)"))
        missing = [seq for seq in range(1, last + 1) if seq not in anchors]
        if missing:
            problems.append((1, missing[0], f"record {missing[0]} has no anchor tag {TAG_PREFIX}"
                                            f"{missing[0]:08d}: anchors were deleted"))
        if trusted is not None:
            bad_before = min((seq for _rank, seq, _p in problems), default=None)
            signature = self._check_signatures(anchors, trusted, bad_before)
            if signature is not None:
                problems.append((0, *signature))
        if problems:
            _rank, seq, problem = min(problems)  # content first, then truncation, then history
            chain.fail(seq, problem)

    def _check_signatures(self, anchors: Mapping[int, Mapping[str, Any]], trusted: TrustedKeys,
                          stop: int | None) -> tuple[int, str] | None:
        """The first anchor (below ``stop``) without a good signature by a trusted key."""
        with trusted.git_environment() as (options, env):
            for seq, a in sorted(anchors.items()):
                if stop is not None and seq >= stop:
                    return None
                proc = _run_git(["-C", str(self.clone), *options, "verify-tag", "--raw", str(a["tag"])],
                                env=env)
                if proc.returncode != 0:
                    return seq, _signature_problem(str(a["tag"]), proc)
        return None


def signing_options(value: str | None) -> tuple[list[str], list[str]]:
    """``git`` options and ``git tag`` options that sign an anchor as ``EDGEOPS_AUDIT_SIGN`` says.

    Unset, empty or ``0``/``false``/``no``/``off``: an unsigned annotated tag.  ``1``/``true``/
    ``yes``/``on``: ``git tag -s`` with Git's own ``user.signingKey``.  ``ssh:<file>``: an SSH
    signature with that private key file (``gpg.format=ssh``).  Anything else is an OpenPGP key
    id, fingerprint or user id for ``git tag -u``.
    """
    text = (value or "").strip()
    if text.lower() in ("", "0", "false", "no", "off"):
        return ["-c", "tag.gpgsign=false"], ["-a"]
    if text.lower() in ("1", "true", "yes", "on"):
        return [], ["-s"]
    if text.startswith("ssh:"):
        keyfile = Path(text[4:]).expanduser()
        if not text[4:] or not keyfile.is_file():
            raise AuditError(f"{SIGN_ENV}={text}: no SSH private key file {keyfile}",
                             hint="use ssh:<path to the private key that signs the anchors>")
        return ["-c", "gpg.format=ssh", "-c", f"user.signingKey={keyfile}"], ["-s"]
    return ["-c", "gpg.format=openpgp"], ["-u", text]


def _last_line(text: str) -> str:
    """Git's own reason: its first ``fatal:``/``error:`` line, else its last line."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    for line in lines:
        if line.startswith(("fatal:", "error:")):
            return line
    return lines[-1] if lines else ""


def _state_home() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "edgeops"


def default_store_spec() -> str:
    """``EDGEOPS_AUDIT_STORE``, else ``EDGEOPS_AUDIT_LOG``, else the local file in the state directory."""
    return (os.environ.get(STORE_ENV) or os.environ.get("EDGEOPS_AUDIT_LOG")
            or str(_state_home() / "audit.jsonl"))


def open_store(spec: str | Path | None = None) -> LocalStore | GitStore:
    """The store a spec names: ``git+<url>[#branch]`` for Git, anything else is a file path."""
    text = str(spec) if spec else default_store_spec()
    if text.startswith("git+"):
        url, _sep, branch = text[4:].partition("#")
        if not url:
            raise AuditError(f"the audit store {text!r} names no Git URL",
                             hint="use git+<url>[#branch], e.g. git+ssh://git@git.example.com/ops/audit.git")
        return GitStore(url, branch or DEFAULT_BRANCH)
    return LocalStore(Path(text).expanduser())
