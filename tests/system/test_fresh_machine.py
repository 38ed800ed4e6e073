"""A fresh Debian 12 machine gets every program the project runs from scripts/setup.sh.

The machines this suite usually runs on carry what earlier work installed by
hand; a package that ``scripts/setup.sh`` forgets shows only on a machine
that never saw the project.  So this test builds one: a clean Debian 12
root filesystem (``debootstrap --variant=minbase``, the base the lab image
also starts from), runs ``scripts/setup.sh --system-only`` in it - setup.sh's
own apt step, nothing added by hand - and checks every program of
``tests/system/commands.yml`` there.  Then it runs the whole of
``scripts/setup.sh`` there on a copy of this checkout's tracked files (venv,
pip from PyPI with none of this machine's pip settings or wheel caches, npm
from the registry) and runs the tools it installed: edgeops, ansible-playbook,
molecule, ansible-doc on a module of the collection, gitlab-ci-local.

Needs root, debootstrap, the Debian archive, PyPI and the npm registry (as
``scripts/setup.sh`` itself).  Takes about eight minutes; nothing is left behind.
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
# Nothing of this machine's environment (its PIP_* settings, for one) reaches the clean root.
ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C",
       "DEBIAN_FRONTEND": "noninteractive", "HOME": "/root"}


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


def test_the_whole_setup_runs_and_its_tools_work(fresh_root: Path) -> None:
    """setup.sh past its apt step (venv, pip, the collection link, gitlab-ci-local) on a clean root."""
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"],
                             capture_output=True, check=True).stdout
    dest = fresh_root / "srv" / "checkout"
    dest.mkdir(parents=True)
    archive = fresh_root / "checkout.tar"
    subprocess.run(["tar", "-C", str(ROOT), "--null", "-T", "-", "-c", "-f", str(archive)],
                   input=tracked, check=True)
    _run(["tar", "-C", str(dest), "-x", "-f", str(archive)], "unpacking the checkout")
    # The network's trust anchors, as the network's resolver (resolv.conf) above: where TLS to
    # PyPI and npm is inspected by a proxy with its own CA, the clean root needs that CA as any
    # machine on the network does. The host's bundle is copied aside and named to pip and
    # Node; no package and no other setting of this machine goes in.
    shutil.copy2("/etc/ssl/certs/ca-certificates.crt", fresh_root / "srv" / "network-ca.crt")
    (fresh_root / "srv" / "setup-and-tools.sh").write_text(
        "set -eo pipefail\n"
        "export PIP_CERT=/srv/network-ca.crt SSL_CERT_FILE=/srv/network-ca.crt"
        " NODE_EXTRA_CA_CERTS=/srv/network-ca.crt\n"
        "cd /srv/checkout\n"
        "bash scripts/setup.sh\n"
        ". scripts/env.sh\n"  # bash: what users source (it also picks a UTF-8 locale; ENV has LANG=C)
        "edgeops --version\n"
        "ansible-playbook --version | head -1\n"
        "molecule --version | head -1\n"
        "ansible-doc -t module edgeops.gitops.etcd_disk | head -1\n"
        ".cache/npm/node_modules/.bin/gitlab-ci-local --version\n",
        encoding="utf-8",
    )
    out = _in_root(fresh_root, "bash /srv/setup-and-tools.sh",
                   "scripts/setup.sh and the tools it installs, in a clean Debian 12 root")
    lines = out.splitlines()
    assert any(line.startswith("ansible-playbook [core 2.19") for line in lines), out
    assert any("etcd_disk" in line for line in lines), out
    assert lines[-1].strip().startswith("4.64.1"), out
