"""Wall time and controller CPU of one command, its descendants included (import me).

``ru_utime + ru_stime`` from ``wait4`` count a process and every descendant
that was waited for.  SSH's ControlPersist masters are not: they fork into the
background, are re-parented, and their CPU (the encryption of every task)
would be lost.  :func:`measure` therefore makes this process a child
subreaper (``prctl(PR_SET_CHILD_SUBREAPER)``): orphaned descendants are
re-parented here instead of to PID 1, and after the command ends they are
stopped (SIGTERM) and waited for, and their CPU is added.  A run's persistent
connections are thus charged to the run that opened them; give each run its
own control path directory (``ANSIBLE_SSH_CONTROL_PATH_DIR``) so that none is
reused from an earlier run.

    from timing import measure            # bench/ is on sys.path when a bench runs
    s = measure(["edgeops", "drift", "-i", "inventory/lab"], env, cwd=ROOT)
    print(s.wall, s.cpu, s.rc)
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36


@dataclass(frozen=True)
class Sample:
    """One measured command."""

    wall: float  #: seconds
    user: float  #: CPU seconds in user mode: the command, its descendants and its orphans
    sys: float  #: CPU seconds in the kernel, same scope
    orphans: int  #: background descendants (ssh masters...) stopped and counted after the command
    rc: int

    @property
    def cpu(self) -> float:
        """Controller CPU seconds (user + sys)."""
        return self.user + self.sys


def become_subreaper() -> None:
    """Adopt orphaned descendants (Linux >= 3.4); idempotent."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def _reap_orphans(known: set[int], grace: float = 10.0) -> tuple[float, float, int]:
    """Stop the children adopted since ``known`` was taken, wait for them; their (user, sys, count)."""
    me = os.getpid()
    orphans = [p for p in _children(me) if p not in known]
    for pid in orphans:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    user = sys_ = 0.0
    deadline = time.monotonic() + grace
    pending = set(orphans)
    while pending:
        for pid in list(pending):
            try:
                done, _status, usage = os.wait4(pid, os.WNOHANG)
            except ChildProcessError:
                pending.discard(pid)
                continue
            if done:
                user += usage.ru_utime
                sys_ += usage.ru_stime
                pending.discard(pid)
        if pending and time.monotonic() > deadline:
            for pid in pending:
                os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + grace
        if pending:
            time.sleep(0.05)
    return user, sys_, len(orphans)


def measure(
    cmd: Sequence[str],
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stdout: int | None = subprocess.DEVNULL,
) -> Sample:
    """Run ``cmd`` to completion; wall time and the CPU of it, its descendants and its orphans."""
    become_subreaper()
    known = set(_children(os.getpid()))
    t0 = time.monotonic()
    proc = subprocess.Popen(list(cmd), env=dict(env) if env is not None else None, cwd=cwd,
                            stdout=stdout, stderr=subprocess.STDOUT if stdout is not None else None)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    proc.returncode = rc = os.waitstatus_to_exitcode(status)
    o_user, o_sys, n = _reap_orphans(known)
    return Sample(wall=wall, user=usage.ru_utime + o_user, sys=usage.ru_stime + o_sys, orphans=n, rc=rc)
