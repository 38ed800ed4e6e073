# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sizes: the one parser for every size the collection reads.

fio's ``--size``/``--bs``, the MySQL/MariaDB server's size settings and the roles' size
settings (``etcd_storage_min_size``) share one syntax: digits, optionally one of k, m, g, t, p
or e (binary: k = 1024, as fio and the server read them; case ignored), optionally followed by
``b`` or ``ib`` (``4096``, ``512m``, ``12G``, ``4KiB``, ``8 GB``). Used by the fsync_latency
module, the mysql_tuning and etcd_disk_candidates filters and, through the size_bytes filter,
the roles. Pure Python, no Ansible imports; runs on targets (Python 3.8+ syntax).
"""

from __future__ import annotations

import re
from typing import Any

from ansible_collections.edgeops.gitops.plugins.module_utils._types import type_name

_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5, "e": 1024**6}
_SIZE_RE = re.compile(r"^\s*(\d+)\s*([kmgtpe]?)(?:i?b)?\s*$", re.IGNORECASE)
HINT = "use bytes or a number with k, m, g, t, p or e, such as 512m or 12g"


class SizeError(ValueError):
    """A value that is not a size."""


def parse_size(value: Any, name: str = "size", positive: bool = False,
               error: type[Exception] = SizeError) -> int:
    """Bytes from an int (or a float without fraction) or a size string.

    ``name`` is the setting the message names; ``positive`` refuses 0 as well as negative
    sizes; ``error`` is the exception class raised (the caller's own error type).
    """
    what = f"{name} {value!r} ({type_name(value)})"
    if isinstance(value, bool):
        raise error(f"{what} is not a size: {HINT}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        result = int(value)
    elif isinstance(value, str):
        match = _SIZE_RE.match(str(value))  # str(): plain str, also for Ansible's tagged strings
        if not match:
            raise error(f"{what} is not a size: {HINT}")
        result = int(match.group(1)) * _UNITS[match.group(2).lower()]
    else:
        raise error(f"{what} is not a size: {HINT}")
    if result < 0 or (positive and result == 0):
        raise error(f"{what} is not a size: it must be greater than 0")
    return result
