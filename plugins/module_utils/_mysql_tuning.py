# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure MySQL/MariaDB tuning logic (no Ansible imports; Python 3.8+ syntax).

Used by the ``edgeops.gitops.mysql_tuning`` filter (desired settings from a
host's size) and by the ``mysql_runtime_settings`` / ``mysql_config_validate``
modules (comparing desired settings with what the server reports).
"""

from __future__ import annotations

import re
from typing import Any

from ansible_collections.edgeops.gitops.plugins.module_utils import _size
from ansible_collections.edgeops.gitops.plugins.module_utils._types import type_name

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

FLAVOURS = ("mariadb", "mysql")
DISK_CLASSES = ("nvme", "ssd", "hdd")

#: Buffer pool chunk: 128M is the default on MySQL and on MariaDB before 10.11.x
#: made it "0 = automatic" (any multiple of 128M is also a multiple of the
#: automatic chunk). Source: MySQL 8.0 manual, "Configuring InnoDB Buffer Pool
#: Size"; MariaDB KB, innodb_buffer_pool_chunk_size.
DEFAULT_CHUNK = 128 * MIB

#: ``[EPOCH:]MAJOR.MINOR[.PATCH][suffix]``: dpkg versions carry an epoch (``1:10.11.6-0+deb12u1``,
#: Debian Policy 5.6.12 "Version").
_VERSION_RE = re.compile(r"^\s*(?:\d+:)?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+~ ].*)?$")

#: Server defaults of the buffers the memory guard counts, per flavour.
#: Sources: MySQL 8.0 and MariaDB 10.11 server system variable references
#: (checked against ``SHOW GLOBAL VARIABLES`` of MariaDB 10.11 on Debian).
SERVER_DEFAULTS = {
    "mariadb": {
        "innodb_log_buffer_size": 16 * MIB,
        "key_buffer_size": 128 * MIB,
        "query_cache_size": 1 * MIB,
        "aria_pagecache_buffer_size": 128 * MIB,
        "tmp_table_size": 16 * MIB,
        "max_heap_table_size": 16 * MIB,
        "max_connections": 151,
        "sort_buffer_size": 2 * MIB,
        "read_buffer_size": 128 * KIB,
        "read_rnd_buffer_size": 256 * KIB,
        "join_buffer_size": 256 * KIB,
        "thread_stack": 292 * KIB,
        "binlog_cache_size": 32 * KIB,
    },
    "mysql": {
        "innodb_log_buffer_size": 16 * MIB,
        "key_buffer_size": 8 * MIB,
        "query_cache_size": 0,
        "aria_pagecache_buffer_size": 0,
        "tmp_table_size": 16 * MIB,
        "max_heap_table_size": 16 * MIB,
        "max_connections": 151,
        "sort_buffer_size": 256 * KIB,
        "read_buffer_size": 128 * KIB,
        "read_rnd_buffer_size": 256 * KIB,
        "join_buffer_size": 256 * KIB,
        "thread_stack": 1 * MIB,
        "binlog_cache_size": 32 * KIB,
    },
}

#: MySQLTuner's "maximum possible memory usage": global buffers once, plus
#: per-thread buffers times max_connections (MySQLTuner ``calculations()``).
GLOBAL_BUFFERS = (
    "innodb_buffer_pool_size",
    "innodb_log_buffer_size",
    "key_buffer_size",
    "query_cache_size",
    "aria_pagecache_buffer_size",
)
PER_CONNECTION_BUFFERS = (
    "sort_buffer_size",
    "read_buffer_size",
    "read_rnd_buffer_size",
    "join_buffer_size",
    "thread_stack",
    "binlog_cache_size",
)
#: The memory guard's limit: peak estimate <= 90 % of RAM.
GUARD_RATIO = 0.90

#: Floor of the buffer pool when the memory guard shrinks it: the server's own default (128M on
#: MySQL and MariaDB), which is also what innodb_dedicated_server gives a host under 1 GiB. A tuned
#: configuration never gives InnoDB less than an untuned server would.
MIN_BUFFER_POOL = 128 * MIB

#: What the memory guard shrinks the MyISAM key cache to on MariaDB (default 128M) before it touches
#: the buffer pool: "If you don't make use of MyISAM tables at all, you can set this to a very low
#: value" (MariaDB KB, Optimizing key_buffer_size, https://mariadb.com/kb/en/optimizing-key_buffer_size/);
#: 8M is MySQL's default, enough for the odd MyISAM table on an InnoDB host.
SMALL_KEY_BUFFER = 8 * MIB

#: Measured MemTotal within this fraction below a whole GiB is that GiB: the kernel keeps part of a
#: VM's RAM for itself (a 16 GB VM reports about 15,990 MB), and the plan's nominal size rules.
NOMINAL_TOLERANCE = 0.05
MEMORY_BASES = ("nominal", "measured")


class TuningError(ValueError):
    """Bad input or settings that cannot be satisfied."""


def parse_version(version: Any) -> tuple[int, ...]:
    """``'10.11.6-MariaDB-0+deb12u1'``, ``'1:10.11.6-0+deb12u1'`` -> ``(10, 11, 6)``; raises TuningError."""
    if isinstance(version, float):
        raise TuningError(
            f"version {version!r} (float) is a number: YAML reads an unquoted version as one "
            "(10.10 becomes 10.1, 8.0 loses its patch); quote it, e.g. mysql_host_version: \"10.11\""
        )
    if isinstance(version, (list, tuple)) and 2 <= len(version) <= 3:
        try:
            parts = tuple(int(p) for p in version)
        except (TypeError, ValueError):
            parts = ()
        if parts:
            return parts + (0,) * (3 - len(parts))
    if isinstance(version, str):
        match = _VERSION_RE.match(version)
        if match:
            return (int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))
    raise TuningError(
        f"version {version!r} ({type_name(version)}) does not parse; "
        "expected MAJOR.MINOR[.PATCH], e.g. '10.11' or '8.0.29'"
    )


def parse_size(value: Any) -> int:
    """Server size syntax (``12G``, ``512M``, ``4096``) -> bytes; raises TuningError."""
    return _size.parse_size(value, error=TuningError)


def format_size(nbytes: int) -> str | int:
    """Bytes -> the shortest exact server notation (``12G``, ``1G``, ``640M``)."""
    for suffix, factor in (("T", 1024 * GIB), ("G", GIB), ("M", MIB), ("K", KIB)):
        if nbytes and nbytes % factor == 0:
            return f"{nbytes // factor}{suffix}"
    return nbytes


def buffer_pool_bytes(memory_mb: int, chunk: int, instances: int) -> int:
    """InnoDB buffer pool size for a dedicated host.

    Source: MySQL 8.0 manual, "Enabling Automatic InnoDB Configuration for a
    Dedicated MySQL Server" (``innodb_dedicated_server``): less than 1 GiB of
    RAM -> 128M (the server default); 1 GiB to 4 GiB -> 50 % of RAM; more than
    4 GiB -> 75 % of RAM. The server rounds the pool to a multiple of
    ``innodb_buffer_pool_chunk_size`` x ``innodb_buffer_pool_instances``; we
    round down ourselves so the value we write is the value it reports.
    """
    memory = memory_mb * MIB
    if memory < GIB:
        return 128 * MIB
    size = memory // 2 if memory <= 4 * GIB else memory * 3 // 4
    unit = chunk * instances
    return max(unit, size // unit * unit)


def redo_log_bytes(memory_mb: int) -> int:
    """Size of one InnoDB redo log file (``innodb_log_file_size``, before MySQL 8.0.30 and MariaDB).

    Source: MySQL 8.0 manual, ``innodb_dedicated_server`` table for
    ``innodb_log_file_size`` (8.0.14-8.0.29): less than 8 GiB -> 512M, 8 GiB to
    128 GiB -> 1G, more than 128 GiB -> 2G. Below 1 GiB of RAM we keep 128M
    (the buffer pool's floor; a 512M log on such a host only costs disk and
    crash recovery time).
    """
    memory = memory_mb * MIB
    if memory < GIB:
        return 128 * MIB
    if memory < 8 * GIB:
        return 512 * MIB
    if memory <= 128 * GIB:
        return GIB
    return 2 * GIB


def _round_half_up(value: float) -> int:
    return int(value + 0.5)


def redo_capacity_bytes(memory_mb: int, vcpus: int, version: tuple[int, ...]) -> int:
    """``innodb_redo_log_capacity`` on MySQL 8.0.30 and later, as ``innodb_dedicated_server`` sets it.

    MySQL 8.0.30-8.3: from the detected memory, buffer pool configured explicitly (we always write
    it). MySQL 8.0 manual, "Enabling Automatic InnoDB Configuration for a Dedicated MySQL Server",
    https://dev.mysql.com/doc/refman/8.0/en/innodb-dedicated-server.html (table "Automatically
    Configured Log File Size"): under 2 GB 100MB; 2-4 GB round(0.5 x GB) x 0.5 GB; 4-10.66 GB
    round(0.75 x GB) x 0.5 GB; 10.66-170.66 GB round(0.5625 x GB) GB; more 128 GB.

    MySQL 8.4 and later: (logical processors / 2) GB, at most 16 GB. MySQL 8.4 manual, same section,
    https://dev.mysql.com/doc/refman/8.4/en/innodb-dedicated-server.html ("Before MySQL 8.4, this
    value was based on available memory instead of available logical processors").
    """
    if version >= (8, 4, 0):
        return min(16 * GIB, vcpus * GIB // 2)
    gib = memory_mb / 1024
    if gib < 2:
        return 100 * MIB
    if gib <= 4:
        return _round_half_up(0.5 * gib) * GIB // 2
    if gib < 10.66:
        return _round_half_up(0.75 * gib) * GIB // 2
    if gib <= 170.66:
        return _round_half_up(0.5625 * gib) * GIB
    return 128 * GIB


def io_capacity(flavour: str, version: tuple[int, ...], solid: bool) -> int:
    """``innodb_io_capacity`` (IOPS budget for background flushing) by server and disk class.

    MySQL 8.4 and later on NVMe/SSD: 10000, the server's own default from 8.4 (MySQL 8.4 manual,
    "Configuring InnoDB I/O Capacity", https://dev.mysql.com/doc/refman/8.4/en/innodb-configuring-io-capacity.html:
    "The default value is 10000"); the runbook's 2000 would slow an 8.4 server down fivefold.
    MySQL before 8.4 and MariaDB on NVMe/SSD: the runbook's 2000 (their default 200 suits one rotating
    disk; MySQL 8.0 manual, same section, "Faster hard drives, RAID configurations, and SSDs benefit
    from higher values"). HDD: 200, both servers' pre-8.4 default.
    """
    if not solid:
        return 200
    if flavour == "mysql" and version >= (8, 4, 0):
        return 10000
    return 2000


def nominal_memory_mb(memory_mb: int) -> int:
    """The plan's nominal size of a host that reports ``memory_mb`` (MemTotal, ansible_memtotal_mb).

    The kernel keeps part of the RAM for itself (kernel image, crash kernel, firmware tables), so a
    16 GB VM reports about 15,990 MB. A measured size within :data:`NOMINAL_TOLERANCE` below a whole
    GiB counts as that GiB (15,990 -> 16,384); anything else is taken as measured.
    """
    whole = -(-memory_mb // 1024) * 1024  # next whole GiB (or memory_mb itself)
    if whole - memory_mb <= whole * NOMINAL_TOLERANCE:
        return whole
    return memory_mb


def input_problems(memory_mb: Any, vcpus: Any, disk_class: Any, flavour: Any, io_override: Any = None,
                   memory_basis: Any = "nominal") -> list[tuple[str, str]]:
    """(argument, message) for every bad input, in argument order; empty when all are usable."""
    out: list[tuple[str, str]] = []
    if io_override is not None and (
            isinstance(io_override, bool) or not isinstance(io_override, int) or io_override < 100):
        out.append(("io_capacity",
                    f"io_capacity {io_override!r} ({type_name(io_override)}) must be an integer of at "
                    "least 100 (IOPS; the servers' minimum), or unset for the computed value"))
    if memory_basis not in MEMORY_BASES:
        out.append(("memory_basis",
                    f"memory_basis {memory_basis!r} ({type_name(memory_basis)}) is unknown; "
                    f"expected one of {', '.join(MEMORY_BASES)}"))
    if isinstance(memory_mb, bool) or not isinstance(memory_mb, int) or memory_mb <= 0:
        out.append(("memory_mb",
                    f"memory_mb {memory_mb!r} ({type_name(memory_mb)}) must be a positive integer (MB)"))
    if isinstance(vcpus, bool) or not isinstance(vcpus, int) or vcpus <= 0:
        out.append(("vcpus", f"vcpus {vcpus!r} ({type_name(vcpus)}) must be a positive integer"))
    if disk_class not in DISK_CLASSES:
        out.append(("disk_class", f"disk_class {disk_class!r} ({type_name(disk_class)}) is unknown; "
                                  f"expected one of {', '.join(DISK_CLASSES)}"))
    if flavour not in FLAVOURS:
        out.append(("flavour", f"flavour {flavour!r} ({type_name(flavour)}) is unknown; "
                               f"expected one of {', '.join(FLAVOURS)}"))
    return out


def _check_inputs(memory_mb: Any, vcpus: Any, disk_class: Any, flavour: Any, io_override: Any = None,
                  memory_basis: Any = "nominal") -> None:
    problems = input_problems(memory_mb, vcpus, disk_class, flavour, io_override, memory_basis)
    if problems:
        raise TuningError(problems[0][1])


def normalise_name(name: str) -> str:
    """``innodb-io-capacity`` -> ``innodb_io_capacity``."""
    return str(name).strip().lower().replace("-", "_")


def compute_settings(memory_mb: int, vcpus: int = 1, disk_class: str = "ssd", flavour: str = "mariadb",
                     version: Any = "10.11", overrides: Any = None, io_capacity_override: Any = None,
                     memory_basis: str = "nominal") -> dict[str, Any]:
    """Desired server settings for a dedicated host; see each rule's source."""
    _check_inputs(memory_mb, vcpus, disk_class, flavour, io_capacity_override, memory_basis)
    ver = parse_version(version)
    if overrides is None:
        overrides = {}
    if not isinstance(overrides, dict):
        raise TuningError(f"overrides {overrides!r} ({type_name(overrides)}) must be a dict")
    overrides = {normalise_name(k): v for k, v in overrides.items()}
    if memory_basis == "nominal":
        memory_mb = nominal_memory_mb(memory_mb)

    settings: dict[str, Any] = {}
    mysql = flavour == "mysql"

    # Buffer pool instances exist on MySQL only: MariaDB 10.5 deprecated the
    # variable (a single instance is used) and 10.6 ignores it (MariaDB KB,
    # innodb_buffer_pool_instances). On MySQL the default is 8 for pools of
    # 1 GiB or more; we never use more instances than vCPUs.
    instances = 1
    chunk = parse_size(overrides.get("innodb_buffer_pool_chunk_size", DEFAULT_CHUNK)) or DEFAULT_CHUNK
    if mysql or ver < (10, 5, 0):
        if memory_mb * MIB >= 2 * GIB:
            instances = max(1, min(8, vcpus))
        if "innodb_buffer_pool_instances" in overrides:
            instances = int(overrides["innodb_buffer_pool_instances"])
    settings["innodb_buffer_pool_size"] = format_size(buffer_pool_bytes(memory_mb, chunk, instances))
    if mysql or ver < (10, 5, 0):
        settings["innodb_buffer_pool_instances"] = instances

    # Redo log: MySQL 8.0.30 replaced innodb_log_file_size/innodb_log_files_in_group
    # with innodb_redo_log_capacity (MySQL 8.0 manual, "Redo Log"), sized as
    # innodb_dedicated_server sizes it (redo_capacity_bytes).
    if mysql and ver >= (8, 0, 30):
        settings["innodb_redo_log_capacity"] = format_size(redo_capacity_bytes(memory_mb, vcpus, ver))
    else:
        settings["innodb_log_file_size"] = format_size(redo_log_bytes(memory_mb))

    # Flushing by disk class. NVMe/SSD: bypass the page cache (O_DIRECT), no
    # neighbour flushing (MySQL 8.0 manual, "Optimizing InnoDB Disk I/O":
    # flush neighbours only help rotating disks). MariaDB 11.0 deprecated
    # innodb_flush_method in favour of innodb_data_file_buffering (MDEV-30136):
    # OFF is O_DIRECT, ON is the buffered fsync method.
    solid = disk_class in ("nvme", "ssd")
    if not mysql and ver >= (11, 0, 0):
        settings["innodb_data_file_buffering"] = "OFF" if solid else "ON"
    else:
        settings["innodb_flush_method"] = "O_DIRECT" if solid else "fsync"
    settings["innodb_flush_neighbors"] = 0 if solid else 1

    # I/O capacity per server version and disk (io_capacity), or the user's figure (for example
    # the disk's measured random-write IOPS); innodb_io_capacity_max twice that.
    capacity = io_capacity_override or io_capacity(flavour, ver, solid)
    settings["innodb_io_capacity"] = capacity
    settings["innodb_io_capacity_max"] = 2 * capacity

    for key, value in overrides.items():
        settings[key] = value

    _memory_guard(memory_mb, flavour, ver, settings, overrides, chunk)
    return settings


def estimate_peak(flavour: str, version: tuple[int, ...],
                  settings: dict[str, Any]) -> tuple[int, int, int, int]:
    """(peak bytes, global bytes, per-connection bytes, max_connections)."""
    defaults = dict(SERVER_DEFAULTS[flavour])
    if flavour == "mysql" and version >= (8, 0, 0):
        defaults["query_cache_size"] = 0  # query cache removed in MySQL 8.0

    def get(name: str) -> int:
        value = settings.get(name, defaults.get(name, 0))
        try:
            return parse_size(value)
        except TuningError as exc:
            raise TuningError(f"{name}: {exc}") from None

    global_bytes = sum(get(n) for n in GLOBAL_BUFFERS)
    global_bytes += max(get("tmp_table_size"), get("max_heap_table_size"))
    per_conn = sum(get(n) for n in PER_CONNECTION_BUFFERS)
    connections = get("max_connections")
    return global_bytes + per_conn * connections, global_bytes, per_conn, connections


def _memory_guard(memory_mb: int, flavour: str, ver: tuple[int, ...], settings: dict[str, Any],
                  overrides: dict[str, Any], chunk: int) -> None:
    """Make the peak estimate fit 90 % of RAM, or fail naming what does not fit.

    The connections are what the application needs, so they are never lowered behind the user's
    back: ``max_connections`` is the server default (151) unless overridden. What the guard may
    shrink, only where the user did not set it, in this order: MariaDB's MyISAM key cache (128M ->
    8M; an InnoDB host does not use it), then the buffer pool, in steps of chunk x instances, never
    below :data:`MIN_BUFFER_POOL`. If that is not enough the host is too small for the requested
    settings: the error says how many connections would fit and what to change.
    """
    limit = int(memory_mb * MIB * GUARD_RATIO)
    peak, global_bytes, per_conn, connections = estimate_peak(flavour, ver, settings)
    if peak <= limit:
        return
    if flavour == "mariadb" and "key_buffer_size" not in overrides:
        settings["key_buffer_size"] = format_size(SMALL_KEY_BUFFER)
    if "innodb_buffer_pool_size" not in overrides:
        pool = parse_size(settings["innodb_buffer_pool_size"])
        others = estimate_peak(flavour, ver, settings)[0] - pool
        instances = int(settings.get("innodb_buffer_pool_instances", 1))
        unit = chunk * instances
        fitting = (limit - others) // unit * unit
        if fitting < MIN_BUFFER_POOL:
            fitting = MIN_BUFFER_POOL
            if "innodb_buffer_pool_instances" in settings and "innodb_buffer_pool_instances" not in overrides:
                settings["innodb_buffer_pool_instances"] = 1
        if fitting < pool:
            settings["innodb_buffer_pool_size"] = format_size(fitting)
    peak, global_bytes, per_conn, connections = estimate_peak(flavour, ver, settings)
    if peak <= limit:
        return
    memory_keys = set(GLOBAL_BUFFERS) | set(PER_CONNECTION_BUFFERS) | {
        "max_connections", "tmp_table_size", "max_heap_table_size"}
    culprits = sorted(k for k in overrides if k in memory_keys)
    named = ", ".join(f"{k}={overrides[k]!r}" for k in culprits) or "none (computed settings)"
    room = limit - global_bytes
    fit = max(0, room // per_conn) if per_conn else 0
    raise TuningError(
        f"memory guard: host too small for the requested settings: estimated peak {peak // MIB} MiB "
        f"(global buffers {global_bytes // MIB} MiB, buffer pool at {settings['innodb_buffer_pool_size']}, "
        f"+ {per_conn // KIB} KiB per connection x max_connections {connections}) exceeds 90% of "
        f"{memory_mb} MB RAM ({limit // MIB} MiB); at most {fit} connections fit; overrides responsible: "
        f"{named}. Give the host more memory, or set max_connections (at most {fit}) or smaller "
        "per-connection buffers in the overrides"
    )


# ---------------------------------------------------------------------------
# Comparing desired settings with the running server

_BOOL_TRUE = {"on", "1", "true", "yes"}
_BOOL_FALSE = {"off", "0", "false", "no"}


def normalise_value(value: Any) -> str:
    """A comparable form: sizes in bytes, booleans ON/OFF, enums upper case."""
    if isinstance(value, bool):
        return "ON" if value else "OFF"
    text = str(value).strip()
    low = text.lower()
    if low in _BOOL_TRUE and not low.isdigit():
        return "ON"
    if low in _BOOL_FALSE and not low.isdigit():
        return "OFF"
    try:
        return str(parse_size(text))
    except TuningError:
        return text.upper()


def runtime_differences(desired: dict[str, Any], runtime: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{name: {'before': runtime, 'after': desired}} for every setting that differs.

    ``runtime`` maps lower-case variable names to the server's string values
    (``SHOW GLOBAL VARIABLES``). A desired variable the server does not know is
    reported with ``before: None``.
    """
    diff = {}
    for name, value in desired.items():
        key = normalise_name(name)
        current = runtime.get(key)
        if current is None:
            diff[key] = {"before": None, "after": value}
            continue
        want = normalise_value(value)
        have = normalise_value(current)
        if key in ("skip_name_resolve",) and want == "":
            want = "ON"
        if want != have:
            diff[key] = {"before": current, "after": value}
    return diff
