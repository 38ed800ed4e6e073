"""The audit trail for the command line.

The chain and both stores (the local file, the Git audit branch) live in the
collection, ``plugins/plugin_utils/_audit.py``, because the
``edgeops.gitops.drift`` callback appends the same record where the
``edgeops`` package is not installed (plain ``ansible-playbook``, AWX).  This
module loads that one implementation and adds what only the command line
needs: store errors as :class:`~edgeops.errors.EdgeopsError`, time filters.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from edgeops.errors import EdgeopsError
from edgeops.report import load_report_module

_MODULE = "ansible_collections.edgeops.gitops.plugins.plugin_utils._audit"


def _load() -> ModuleType:
    load_report_module()  # puts the collection on sys.path (or says how to install it)
    return importlib.import_module(_MODULE)


_impl = _load()
GENESIS: str = _impl.GENESIS
HMAC_ENV: str = _impl.HMAC_ENV
SCHEMA: str = _impl.SCHEMA
AuditError: type[Exception] = _impl.AuditError
AuditPushError: type[Exception] = _impl.AuditPushError
canonical: Any = _impl.canonical
seal: Any = _impl.seal
utc_now: Any = _impl.utc_now
actor: Any = _impl.actor
git_state: Any = _impl.git_state
summarise_report: Any = _impl.summarise_report
run_record: Any = _impl.run_record
#: ``AuditLog(path)``: the local file store (kept under its old name).
AuditLog: Any = _impl.LocalStore
GitStore: Any = _impl.GitStore
TrustedKeys: Any = _impl.TrustedKeys
TRUSTED_KEYS_ENV: str = _impl.TRUSTED_KEYS_ENV
default_store_spec: Any = _impl.default_store_spec


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the collection's audit errors into ``Error:``/``Hint:`` for the command line."""
    try:
        yield
    except AuditError as exc:
        raise EdgeopsError(getattr(exc, "message", str(exc)), hint=getattr(exc, "hint", None)) from exc


def open_store(spec: str | Path | None = None) -> Any:
    """The store ``spec`` names (``git+<url>[#branch]`` or a file), default from the environment."""
    with user_errors():
        return _impl.open_store(spec)


def verify(store: Any, key: bytes | None = None, trusted_keys: Path | str | None = None) -> Any:
    """Verify a store; the :class:`Verdict` names the first bad record.

    ``trusted_keys`` (default ``$EDGEOPS_AUDIT_TRUSTED_KEYS``) names the keys every anchor of a Git
    store must be signed by; a local file store has no anchors to sign, so naming keys for it is
    an error rather than a check that silently did not happen.
    """
    with user_errors():
        trusted = _impl.TrustedKeys.load(trusted_keys) if trusted_keys else _impl.trusted_keys_from_env()
        if trusted is not None and not isinstance(store, _impl.GitStore):
            raise EdgeopsError(
                f"trusted keys were given ({trusted.path}), but {store.location} is a local file store: "
                "it has no signed anchors to check",
                hint=f"verify a git+URL store, or unset {TRUSTED_KEYS_ENV} / drop --trusted-keys")
        if isinstance(store, _impl.GitStore):
            return store.verify(key, trusted)
        return store.verify(key)


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
