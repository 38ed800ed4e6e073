# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""fdatasync latency measurement: the etcd disk check that fio is used for.

Equivalent of ``fio --rw=write --ioengine=sync --fdatasync=1 --bs=2300
--size=22m``: sequential writes of ``block_size`` bytes into a temporary file,
``fdatasync`` after each one, timing every fdatasync. Pure Python, no Ansible
imports; runs on the target (Python 3.8+ syntax).
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import tempfile
import time
from typing import Any, Iterable, NoReturn, Sequence

from ansible_collections.edgeops.gitops.plugins.module_utils._size import parse_size

#: fio's etcd recipe: 2300-byte writes (a typical etcd WAL entry), 22 MiB.
DEFAULT_BLOCK_SIZE = 2300
DEFAULT_SIZE = 22 * 1024 * 1024


class FsyncError(Exception):
    """A measurement that could not be made (bad input or I/O error)."""


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of an ascending list (the value below which pct% fall)."""
    if not sorted_values:
        raise FsyncError("no samples")
    rank = max(1, math.ceil(pct / 100.0 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summarize(latencies_ns: Iterable[float], duration_s: float) -> dict[str, Any]:
    """Figures in milliseconds from fdatasync latencies in nanoseconds."""
    ordered = sorted(latencies_ns)
    ms = 1e6
    return {
        "samples": len(ordered),
        "p50_ms": round(percentile(ordered, 50) / ms, 3),
        "p90_ms": round(percentile(ordered, 90) / ms, 3),
        "p99_ms": round(percentile(ordered, 99) / ms, 3),
        "max_ms": round(ordered[-1] / ms, 3),
        "duration_s": round(duration_s, 3),
    }


class _Interrupted(BaseException):
    """Raised from the SIGTERM/SIGHUP handler so ``finally`` blocks run."""


def _raise_interrupted(signum: int, frame: Any) -> NoReturn:  # pylint: disable=unused-argument
    raise _Interrupted(f"interrupted by signal {signum}")


def measure(directory: str, size: int | str = DEFAULT_SIZE, block_size: int | str = DEFAULT_BLOCK_SIZE,
            preallocate: bool = True) -> dict[str, Any]:
    """Write ``size`` bytes in ``block_size`` pieces into a temp file in ``directory``.

    fdatasync after every write; return the figures of :func:`summarize`.
    The temporary file is removed afterwards, also on error, Ctrl-C, SIGTERM
    or SIGHUP. ``preallocate`` reserves the file's blocks first, as fio and
    etcd's WAL both do.
    """
    size = parse_size(size, "size", positive=True, error=FsyncError)
    block_size = parse_size(block_size, "block_size", positive=True, error=FsyncError)
    if block_size > size:
        raise FsyncError(f"block size {block_size} is larger than size {size}")
    if not os.path.isdir(directory):
        raise FsyncError(f"measure failed for {directory}: not a directory")
    count = size // block_size
    block = os.urandom(block_size)
    latencies = [0] * count
    previous = {}
    if _is_main_thread():
        for sig in (signal.SIGTERM, signal.SIGHUP):
            previous[sig] = signal.signal(sig, _raise_interrupted)
    path = None
    fd = -1
    try:
        try:
            fd, path = tempfile.mkstemp(prefix=".fsync_latency.", dir=directory)
            started = time.monotonic()
            if preallocate and hasattr(os, "posix_fallocate"):
                with contextlib.suppress(OSError):  # not supported by this filesystem: measure without
                    os.posix_fallocate(fd, 0, count * block_size)
            clock = time.perf_counter_ns
            write = os.write
            sync = os.fdatasync
            for i in range(count):
                written = write(fd, block)
                if written != block_size:
                    raise FsyncError(f"short write ({written} of {block_size} bytes)")
                t0 = clock()
                sync(fd)
                latencies[i] = clock() - t0
            duration = time.monotonic() - started
        except OSError as exc:
            raise FsyncError(f"measure failed for {directory}: {exc.strerror or exc}") from exc
    finally:
        if fd >= 0:
            os.close(fd)
        if path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return summarize(latencies, duration)


def _is_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
