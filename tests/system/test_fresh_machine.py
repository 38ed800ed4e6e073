"""A fresh Debian 12 machine gets every program the project runs from scripts/setup.sh.

The machines this suite usually runs on carry what earlier work installed by
hand; a package that ``scripts/setup.sh`` forgets shows only on a machine
that never saw the project.  So this test builds one: a clean Debian 12
root filesystem (``debootstrap --variant=minbase``, the base the lab image
also starts from), runs ``scripts/setup.sh --system-only`` in it - setup.sh's
own apt step, nothing added by hand - and checks every program of
``tests/system/commands.yml`` there, plus that ``python3 -m venv`` works.

Needs root, debootstrap and the Debian archive (as ``scripts/setup.sh``
itself).  Takes about three minutes; nothing is left behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "tests" / "system" / "commands.yml"
SUITE = "bookworm"
MIRROR = os.environ.get("EDGEOPS_DEBIAN_MIRROR", "http://deb.debian.org/debian")
SECURITY = os.environ.get("EDGEOPS_DEBIAN_SECURITY_MIRROR", "http://deb.debian.org/debian-security")
ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C",
       "DEBIAN_FRONTEND": "noninteractive"}


def _run(argv: list[str], what: str) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, env=ENV, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        pytest.fail(f"{what} failed (rc={proc.returncode}):\n{tail}")
    return proc.stdout


def _in_root(rootfs: Path, script: str, what: str) -> str:
    """Run a shell script chrooted in ``rootfs`` with its own /proc, in a private mount namespace.

    The namespace ends with the command, and its mounts with it: nothing to
    unmount afterwards, even when the command fails.
    """
    return _run(
        ["unshare", "--mount", "--propagation", "private", "--fork", "sh", "-c",
         'mount -t proc proc "$0/proc" && mount --rbind /dev "$0/dev" && exec chroot "$0" sh -c "$1"',
         str(rootfs), script],
        what,
    )


@pytest.fixture(scope="module")
def fresh_root() -> Iterator[Path]:
    """A clean Debian 12 minbase root filesystem with setup.sh's packages installed."""
    if os.geteuid() != 0:
        pytest.fail("this test needs root (debootstrap, chroot), as scripts/setup.sh does")
    if shutil.which("debootstrap") is None:
        pytest.fail("debootstrap is not installed: run scripts/setup.sh first")
    work = Path(tempfile.mkdtemp(prefix="edgeops-fresh-", dir="/var/tmp"))
    rootfs = work / "rootfs"
    try:
        _run(["debootstrap", "--variant=minbase", SUITE, str(rootfs), MIRROR], f"debootstrap {SUITE}")
        (rootfs / "etc/apt/sources.list").write_text(
            f"deb {MIRROR} {SUITE} main\n"
            f"deb {MIRROR} {SUITE}-updates main\n"
            f"deb {SECURITY} {SUITE}-security main\n",
            encoding="utf-8",
        )
        shutil.copy2("/etc/resolv.conf", rootfs / "etc/resolv.conf")
        (rootfs / "srv/edgeops/scripts").mkdir(parents=True)
        shutil.copy2(ROOT / "scripts" / "setup.sh", rootfs / "srv/edgeops/scripts/setup.sh")
        _in_root(rootfs, "bash /srv/edgeops/scripts/setup.sh --system-only",
                 "scripts/setup.sh --system-only in a clean Debian 12 root")
        yield rootfs
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_every_program_is_installed(fresh_root: Path) -> None:
    table: dict[str, dict[str, str]] = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    checks = []
    for name, entry in sorted(table.items()):
        probe = f'test -x "{entry["path"]}"' if entry.get("path") else f'command -v "{name}"'
        checks.append(f'{probe} >/dev/null 2>&1 || echo "{name}"')
    missing = _in_root(fresh_root, "; ".join(checks), "looking for the programs").split()
    lines = [
        f"{name}: not on a fresh Debian 12 after scripts/setup.sh; it comes with the package "
        f"'{table[name]['package']}' (used by {table[name]['used_by']})"
        for name in missing
    ]
    assert not lines, "\n".join(lines)


def test_python_venv_works(fresh_root: Path) -> None:
    """setup.sh creates .venv with ``python3 -m venv`` (ensurepip must be there)."""
    out = _in_root(fresh_root, "python3 -m venv /tmp/venv && /tmp/venv/bin/python -m pip --version",
                   "python3 -m venv in the fresh root")
    assert out.startswith("pip "), out
