# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic of the sysctl_profile module: validate, parse, compare, plan, apply.

Nothing here imports Ansible.  Every function takes ``proc_root`` (normally
``/proc/sys``) so the unit tests can point it at a temporary directory.
Runs on targets: Python 3.8+ syntax only.
"""

from __future__ import annotations

import errno
import os
import re
from typing import Any, Dict, Iterable, Mapping

PROC_SYS = "/proc/sys"

HEADER = (
    "# Managed by Ansible (edgeops.gitops.sysctl_profile). Do not edit by hand:\n"
    "# this file is owned whole, local changes are reported as drift and overwritten.\n"
)

PORT_RANGE = "net.ipv4.ip_local_port_range"
UNPRIVILEGED_PORT_START = "net.ipv4.ip_unprivileged_port_start"
RESERVED_PORTS = "net.ipv4.ip_local_reserved_ports"

#: Keys another key is validated against by the kernel: written (and listed in
#: the file, which systemd-sysctl applies in order) before the others.
FIRST = (UNPRIVILEGED_PORT_START,)

#: errno values that mean "this sysctl is read-only here" (read-only /proc/sys
#: mount in a container, a key owned by the initial user namespace, ...).
READ_ONLY_ERRNOS = (errno.EROFS, errno.EACCES, errno.EPERM)

STATUS_IN_SYNC = "in_sync"
STATUS_CHANGED = "changed"
STATUS_READ_ONLY = "not_applied_read_only"
STATUS_REMOVED = "removed"

_INTS = re.compile(r"^-?\d+(?:\s+-?\d+)*$")
_INT_MIN = -(2**63)
_INT_MAX = 2**64 - 1

#: One key of the per-key report (plan(), apply_runtime()).
Entry = Dict[str, Any]


class SysctlError(Exception):
    """Bad input or a failed kernel operation; the message is for the user."""


def reserve_ports(settings: Mapping[str, Any], ports: str) -> dict[str, Any]:
    """``settings`` with ``ports`` (``LOW-HIGH``) added to ip_local_reserved_ports when needed.

    Needed when the ephemeral port range of ``settings`` (ip_local_port_range) overlaps ``ports``:
    the kernel would otherwise hand out ports in it (Kubernetes NodePorts) as source ports. The
    reservation is added to the reserved ports ``settings`` already has; ``ports`` empty, a profile
    without a port range, or no overlap: ``settings`` unchanged.
    """
    result = dict(settings)
    if not ports:
        return result
    if not re.match(r"^\d+-\d+$", str(ports)):
        raise SysctlError(f"reserve_ports: {ports!r} is not a port range LOW-HIGH (e.g. 30000-32767)")
    raw = settings.get(PORT_RANGE, "")
    port_range = (raw if isinstance(raw, str) else " ".join(str(v) for v in raw)).split()
    low, high = (int(v) for v in str(ports).split("-"))
    if len(port_range) != 2 or not (int(port_range[0]) <= high and low <= int(port_range[1])):
        return result
    result[RESERVED_PORTS] = ",".join(v for v in (str(settings.get(RESERVED_PORTS, "")), str(ports)) if v)
    return result


def normalise(value: object) -> str:
    """Collapse whitespace the way the comparison needs it (the kernel prints tabs)."""
    return " ".join(str(value).split())


def key_path(proc_root: str, key: str) -> str:
    """Return the file under ``proc_root`` for ``key`` (``a.b.c`` or ``a/b/c``)."""
    parts = key.split("/") if "/" in key else key.split(".")
    if not key or any(part in ("", ".", "..") for part in parts):
        raise SysctlError(f"{key}: malformed key name")
    return os.path.join(proc_root, *parts)


def value_text(key: str, value: Any) -> str:
    """Turn a module argument value into the text written to the kernel."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return " ".join(value_text(key, item) for item in value)
    if isinstance(value, str):
        text = normalise(value)
        if "\n" in value or "#" in text or ";" in text[:1]:
            raise SysctlError(f"{key} = {value!r}: a value must be one line without comments")
        if text == "" and key != RESERVED_PORTS:
            raise SysctlError(f"{key} = {value!r}: the value is empty")
        return text
    raise SysctlError(
        f"{key} = {value!r}: expected a string, an integer or a list of integers, got {type(value).__name__}"
    )


def read_runtime(proc_root: str, key: str) -> str | None:
    """Current kernel value of ``key`` (normalised), or None when it cannot be read."""
    try:
        with open(key_path(proc_root, key)) as handle:
            return normalise(handle.read())
    except OSError:
        return None


def writable(proc_root: str, key: str) -> bool:
    """Predict (for check mode) whether writing ``key`` would be refused as read-only."""
    return os.access(key_path(proc_root, key), os.W_OK)


def canonical_reserved_ports(text: str) -> str:
    """Kernel form of an ip_local_reserved_ports list: sorted, merged ``a-b`` ranges."""
    ranges = []
    for item in [part.strip() for part in text.replace(" ", ",").split(",")]:
        if item == "":
            continue
        match = re.match(r"^(\d+)(?:-(\d+))?$", item)
        if not match:
            raise ValueError(f"'{item}' is not a port or a port range (use 30000-32767,8080)")
        low = int(match.group(1))
        high = int(match.group(2)) if match.group(2) is not None else low
        if high > 65535:
            raise ValueError(f"port {high} is above 65535")
        if low > high:
            raise ValueError(f"range '{item}' is inverted")
        ranges.append((low, high))
    merged: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(high, merged[-1][1]))
        else:
            merged.append((low, high))
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in merged)


def _ints(key: str, text: str, count: int | None = None) -> list[int]:
    if not _INTS.match(text):
        takes = f"{count} integers" if count and count > 1 else "an integer"
        raise ValueError(f"not numeric: this key takes {takes}")
    numbers = [int(part) for part in text.split()]
    if count is not None and len(numbers) != count:
        raise ValueError(f"this key takes {count} integer(s), got {len(numbers)}")
    for number in numbers:
        if number < _INT_MIN or number > _INT_MAX:
            raise ValueError(f"{number} is out of the kernel's integer range")
    return numbers


def _check_port_range(text: str, unprivileged_start: int | None) -> str:
    low, high = _ints(PORT_RANGE, text, 2)
    if not (1 <= low <= 65535 and 1 <= high <= 65535):
        raise ValueError("ports must be between 1 and 65535")
    if low > high:
        raise ValueError(f"the range is inverted (low end {low} above high end {high})")
    if unprivileged_start is not None and low < unprivileged_start:
        raise ValueError(
            f"the low end {low} is below {UNPRIVILEGED_PORT_START} = {unprivileged_start}; the kernel "
            f"refuses it (EINVAL): start the range at {unprivileged_start} or above, or lower "
            f"{UNPRIVILEGED_PORT_START} in the same profile"
        )
    return f"{low} {high}"


def canonical_value(key: str, text: str, current: str | None, desired: Mapping[str, str | None]) -> str:
    """Validate ``text`` for ``key`` and return its canonical form.

    ``current`` is the key's runtime value (its shape tells a numeric key from a
    string key); ``desired`` is the whole desired profile (as text), for keys
    the kernel checks against others.  Raises ValueError with the reason.
    """
    if key == PORT_RANGE:
        return _check_port_range(text, _unprivileged_start(desired.get(UNPRIVILEGED_PORT_START)))
    if key == RESERVED_PORTS:
        return canonical_reserved_ports(text)
    if key == UNPRIVILEGED_PORT_START:
        (start,) = _ints(key, text, 1)
        if not 0 <= start <= 65535:
            raise ValueError("must be between 0 and 65535")
        return str(start)
    if current is not None and current != "" and _INTS.match(current):
        return " ".join(str(n) for n in _ints(key, text, len(current.split())))
    return text


def _unprivileged_start(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return None


def validate(proc_root: str, settings: dict[str, Any]) -> dict[str, str]:
    """Check every key and value before anything is touched.

    Returns ``{key: canonical value text}``; raises SysctlError naming every bad
    key, its value and why.
    """
    if not isinstance(settings, dict) or not settings:
        raise SysctlError("settings: expected a non-empty dict of key -> value")
    if not os.path.isdir(os.path.join(proc_root, "net", "core")):
        raise SysctlError("{}/net/core is missing on this host: mount procfs (a container needs /proc)"
                          " before managing sysctls; nothing changed".format(proc_root.rstrip("/")))
    errors = []
    texts = {}
    for key, value in settings.items():
        key = str(key).strip()
        try:
            path = key_path(proc_root, key)
            texts[key] = value_text(key, value)
        except SysctlError as err:
            errors.append(str(err))
            continue
        if not os.path.exists(path):
            errors.append(f"{key} = {value!r}: unknown key, {path} does not exist on this host")
            texts.pop(key)
        elif os.path.isdir(path):
            errors.append(f"{key} = {value!r}: {path} is a directory, not a key")
            texts.pop(key)
    context: dict[str, str | None] = dict(texts)
    if PORT_RANGE in texts and UNPRIVILEGED_PORT_START not in context:
        context[UNPRIVILEGED_PORT_START] = read_runtime(proc_root, UNPRIVILEGED_PORT_START)
    result = {}
    for key, text in texts.items():
        try:
            result[key] = canonical_value(key, text, read_runtime(proc_root, key), context)
        except ValueError as err:
            errors.append(f"{key} = {settings.get(key, text)!r}: {err}")
    if errors:
        raise SysctlError("invalid sysctl profile, nothing changed: " + "; ".join(errors))
    return result


def ordered(keys: Iterable[str]) -> list[str]:
    """File and apply order: dependencies first (FIRST), then sorted."""
    first = [key for key in FIRST if key in keys]
    return first + sorted(key for key in keys if key not in FIRST)


def render(values: dict[str, str]) -> str:
    """The file text for ``values`` (``{key: text}``)."""
    lines = [HEADER]
    for key in ordered(values):
        lines.append(f"{key} = {values[key]}\n")
    return "".join(lines)


def parse(text: str | None) -> dict[str, str]:
    """Parse sysctl.conf text into ``{key: normalised value}`` (last one wins)."""
    values = {}
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if "=" not in line:
            continue
        key, value = line.split("=", 1)
        key = key.strip().lstrip("-").strip()
        values[key] = normalise(value)
    return values


def keep_higher(desired: dict[str, str], runtime: Mapping[str, str | None],
                keys: Iterable[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Raise desired values for ``keys`` to the runtime value when that is higher.

    Returns ``(effective, kept)``: ``kept`` maps each raised key to its
    requested value.  Only single-integer keys take part.
    """
    effective = dict(desired)
    kept = {}
    for key in keys:
        want = desired.get(key)
        have = runtime.get(key)
        if want is None or have is None:
            continue
        if not (_INTS.match(want) and _INTS.match(have)) or len(want.split()) != 1 or len(have.split()) != 1:
            raise SysctlError(f"keep_higher: {key} is not a single-integer key ({want!r})")
        if int(have) > int(want):
            effective[key] = have
            kept[key] = want
    return effective, kept


def compare(proc_root: str, settings: Any, file_text: str, apply: bool,
            keep: Iterable[str] = ()) -> tuple[dict[str, str], list[Entry]]:
    """Validate ``settings``, read the kernel and the file's text, and plan each key.

    Returns the desired values (``keep`` keys raised to a higher runtime value) and the
    per-key report of :func:`plan`. Reads only; shared by sysctl_profile and kubeadm_node.
    """
    desired = validate(proc_root, settings)
    runtime = {key: read_runtime(proc_root, key) for key in desired}
    desired, requested = keep_higher(desired, runtime, keep)
    file_before = parse(file_text)
    runtime.update({k: read_runtime(proc_root, k) for k in file_before if k not in runtime})
    can_write = {key: writable(proc_root, key) for key in desired}
    return desired, plan(desired, file_before, runtime, apply, can_write, requested)


def plan(desired: dict[str, str], file_before: Mapping[str, str | None], runtime: Mapping[str, str | None],
         apply: bool, can_write: dict[str, bool], requested: dict[str, str] | None = None) -> list[Entry]:
    """Per-key report before acting.

    ``desired``: ``{key: text}``; ``file_before``: parsed current file;
    ``runtime``: ``{key: normalised runtime value}``; ``can_write``: ``{key: bool}``.
    Returns a list of dicts (key, value, requested, file_before, runtime_before,
    runtime_after, status, kept_higher, apply).
    """
    requested = requested or {}
    report = []
    for key in ordered(desired):
        value = desired[key]
        have = runtime.get(key)
        in_file = file_before.get(key)
        runtime_differs = apply and _compare(key, have) != _compare(key, value)
        file_differs = _compare(key, in_file) != _compare(key, value)
        status = STATUS_IN_SYNC
        if runtime_differs and not can_write.get(key, True):
            status = STATUS_READ_ONLY
        elif runtime_differs or file_differs:
            status = STATUS_CHANGED
        report.append({
            "key": key,
            "value": value,
            "requested": requested.get(key, value),
            "kept_higher": key in requested,
            "file_before": in_file,
            "runtime_before": have,
            "runtime_after": have,
            "status": status,
            "apply": bool(runtime_differs and can_write.get(key, True)),
        })
    for key in sorted(set(file_before) - set(desired)):
        report.append({
            "key": key,
            "value": None,
            "requested": None,
            "kept_higher": False,
            "file_before": file_before[key],
            "runtime_before": runtime.get(key),
            "runtime_after": runtime.get(key),
            "status": STATUS_REMOVED,
            "apply": False,
        })
    return report


def changes(report: list[Entry], apply: bool = True) -> list[dict[str, Any]]:
    """What differs, one item per key, for the drift report.

    ``[{key, before, after, where}]`` with ``where`` the places that differ
    from the profile (``file``, ``runtime``), from the per-key ``report`` of
    :func:`plan` (taken before acting).
    """
    out = []
    for entry in report:
        key, value = entry["key"], entry["value"]
        if entry["status"] == STATUS_IN_SYNC:
            continue
        in_file, at_runtime = entry["file_before"], entry["runtime_before"]
        where = []
        if _compare(key, in_file) != _compare(key, value):
            where.append("file")
        if apply and value is not None and _compare(key, at_runtime) != _compare(key, value):
            where.append("runtime")
        if where == ["file"]:
            before = in_file
        elif where == ["runtime"] or _compare(key, in_file) == _compare(key, at_runtime):
            before = at_runtime
        else:
            before = f"{in_file} (file), {at_runtime} (runtime)"
        out.append({"key": key, "before": before, "after": value, "where": where})
    return out


def _compare(key: str, value: Any) -> str | None:
    if value is None:
        return None
    text = normalise(value)
    if key == RESERVED_PORTS:
        try:
            return canonical_reserved_ports(text)
        except ValueError:
            return text
    return text


def write_runtime(proc_root: str, key: str, value: Any) -> bool:
    """Write one value to the kernel.  Returns False when the key is read-only here."""
    path = key_path(proc_root, key)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    except OSError as err:
        if err.errno in READ_ONLY_ERRNOS:
            return False
        raise SysctlError(f"write failed for {key} ({path}): {os.strerror(err.errno or 0)}") from err
    try:
        os.write(fd, (f"{value}\n").encode())
    except OSError as err:
        if err.errno in READ_ONLY_ERRNOS:
            return False
        raise SysctlError(
            f"write failed for {key} = {value}: {os.strerror(err.errno or 0)} (the kernel refused the value)"
        ) from err
    finally:
        os.close(fd)
    return True


def apply_runtime(proc_root: str, report: list[Entry]) -> list[str]:
    """Write the planned runtime values, read them back and verify.

    Updates ``report`` in place (status, runtime_after).  On a refused value
    the keys already written are put back to their previous values and
    SysctlError is raised, so a failed call leaves the runtime as it was.
    Returns the list of keys found read-only.
    """
    done: list[Entry] = []
    read_only = []
    for entry in report:
        if not entry["apply"]:
            continue
        key = entry["key"]
        try:
            ok = write_runtime(proc_root, key, entry["value"])
        except SysctlError:
            _rollback(proc_root, done)
            raise
        if not ok:
            entry["status"] = STATUS_READ_ONLY
            read_only.append(key)
            continue
        done.append(entry)
        after = read_runtime(proc_root, key)
        entry["runtime_after"] = after
        if _compare(key, after) != _compare(key, entry["value"]):
            _rollback(proc_root, done)
            raise SysctlError(
                "verify failed for {}: wrote {}, the kernel reads back {}".format(key, entry["value"], after)
            )
    return read_only


def _rollback(proc_root: str, entries: list[Entry]) -> None:
    for entry in reversed(entries):
        if entry["runtime_before"] is not None:
            try:
                write_runtime(proc_root, entry["key"], entry["runtime_before"])
            except SysctlError:  # best effort: the original error is the one to report
                continue
