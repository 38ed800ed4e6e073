"""How the controller reaches the lab hosts over SSH, as users reach their VMs.

The lab has one key pair (ed25519, private key 0600) and one known_hosts
file, both in ``<state dir>/ssh/``, outside any checkout.  Each host gets a
non-root user with that public key and passwordless sudo; each host's own
key is read from the container (``podman exec``), never learned on first
use, and pinned in the lab's known_hosts.  ``edgeops lab down`` removes the
directory with the rest of the lab's state.
"""

from __future__ import annotations

import base64
import os
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from edgeops.errors import EdgeopsError

#: The lab user: non-root, key login only, passwordless sudo.
LAB_USER = "edgeops"
KEY_NAME = "id_ed25519"
#: Where each host's own key is; sshd generates it at the container's first boot.
HOST_KEY = "/etc/ssh/ssh_host_ed25519_key.pub"
INSTALL_HINT = "install it with: apt-get install openssh-client"
_USER_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")


@dataclass(frozen=True)
class SshFiles:
    """The lab's SSH files under ``<state dir>/ssh``."""

    directory: Path

    @property
    def private_key(self) -> Path:
        return self.directory / KEY_NAME

    @property
    def public_key(self) -> Path:
        return self.directory / f"{KEY_NAME}.pub"

    @property
    def known_hosts(self) -> Path:
        return self.directory / "known_hosts"

    def common_args(self) -> str:
        """``ansible_ssh_common_args``: the lab's known_hosts, strictly checked."""
        return (
            f"-o UserKnownHostsFile={shlex.quote(str(self.known_hosts))} -o StrictHostKeyChecking=yes"
        )


def ensure_keypair(files: SshFiles) -> bool:
    """Create the lab's ed25519 key pair unless it exists; return True when created.

    The private key is (re)set to mode 0600 and its directory to 0700 on every
    call: ssh refuses a private key that others can read.
    """
    files.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    files.directory.chmod(0o700)
    created = False
    if not files.private_key.exists():
        files.public_key.unlink(missing_ok=True)
        _keygen(["-q", "-t", "ed25519", "-N", "", "-C", "edgeops-lab", "-f", str(files.private_key)])
        created = True
    files.private_key.chmod(0o600)
    if not files.public_key.exists():
        pub = _keygen(["-y", "-f", str(files.private_key)])
        files.public_key.write_text(pub.strip() + "\n", encoding="utf-8")
    return created


def _keygen(args: list[str]) -> str:
    try:
        proc = subprocess.run(
            ["ssh-keygen", *args], capture_output=True, text=True, check=False,
            env={**os.environ, "LANG": "C", "LC_ALL": "C"},
        )
    except FileNotFoundError as exc:
        raise EdgeopsError("ssh-keygen is not installed", hint=INSTALL_HINT) from exc
    if proc.returncode != 0:
        raise EdgeopsError(f"ssh-keygen {args[-1]} failed: {(proc.stderr or proc.stdout).strip()}")
    return proc.stdout


def parse_public_key(text: str, what: str) -> str:
    """``<type> <base64>`` of an OpenSSH public key line, or an error naming ``what``."""
    fields = text.split()
    if len(fields) < 2 or not fields[0].startswith(("ssh-", "ecdsa-", "sk-")):
        raise EdgeopsError(f"{what} is not an OpenSSH public key: {text.strip()[:60]!r}")
    try:
        blob = base64.b64decode(fields[1], validate=True)
    except ValueError as exc:
        raise EdgeopsError(f"{what} is not an OpenSSH public key: its key data is not base64") from exc
    # The blob starts with the key type as an SSH string: a 4-byte length, then the name.
    n = int.from_bytes(blob[:4], "big")
    if blob[4 : 4 + n].decode(errors="replace") != fields[0]:
        raise EdgeopsError(f"{what} is not an OpenSSH public key: its key data is not a {fields[0]} key")
    return f"{fields[0]} {fields[1]}"


def known_hosts_text(entries: list[tuple[str, str, str]]) -> str:
    """known_hosts content for ``(name, address, public key line)`` entries, one line each."""
    lines = [f"{address},{name} {parse_public_key(key, f'the host key of {name}')}"
             for name, address, key in entries]
    return "".join(line + "\n" for line in lines)


def write_if_changed(path: Path, text: str, mode: int = 0o600) -> bool:
    """Write ``text`` to ``path`` atomically unless it already holds it; return True when written."""
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    tmp.replace(path)
    return True


def user_setup_script(user: str, public_key: str) -> str:
    """Shell script (run as root in a host) that gives ``user`` the key and passwordless sudo.

    Idempotent; prints one line per thing it changed.  The sudoers drop-in is
    checked with ``visudo -cf`` before it is moved into place, so a bad one
    never reaches /etc/sudoers.d.
    """
    if not _USER_RE.match(user):
        raise EdgeopsError(f"lab user name {user!r} is not a valid user name")
    key = shlex.quote(parse_public_key(public_key, "the lab public key") + " edgeops-lab")
    sudoers = shlex.quote(f"{user} ALL=(ALL:ALL) NOPASSWD: ALL\n")
    return f"""set -eu
u={user}
if ! id -u "$u" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/bash --comment 'edgeops lab' "$u"
  echo "created user $u"
fi
home=$(getent passwd "$u" | cut -d: -f6)
install -d -m 0700 -o "$u" -g "$u" "$home/.ssh"
if [ "$(cat "$home/.ssh/authorized_keys" 2>/dev/null)" != {key} ]; then
  printf '%s\\n' {key} > "$home/.ssh/authorized_keys.tmp"
  chown "$u:$u" "$home/.ssh/authorized_keys.tmp"
  chmod 0600 "$home/.ssh/authorized_keys.tmp"
  mv "$home/.ssh/authorized_keys.tmp" "$home/.ssh/authorized_keys"
  echo "installed the lab key for $u"
fi
d=/etc/sudoers.d/90-edgeops-lab
if [ "$(cat "$d" 2>/dev/null)" != "$(printf %s {sudoers})" ]; then
  printf %s {sudoers} > "$d.tmp"
  chmod 0440 "$d.tmp"
  visudo -cqf "$d.tmp"
  mv "$d.tmp" "$d"
  echo "passwordless sudo for $u"
fi
"""


def check_login(files: SshFiles, user: str, address: str, name: str, timeout: int = 10) -> None:
    """Log in as ``user`` with the lab key and pinned host key and run ``sudo -n true``.

    Raises an error saying what failed (network, host key, key, sudo).
    """
    argv = [
        "ssh", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={timeout}",
        "-o", f"UserKnownHostsFile={files.known_hosts}", "-o", "StrictHostKeyChecking=yes",
        "-i", str(files.private_key), "-l", user, address, "sudo", "-n", "true",
    ]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=timeout + 20,
                              env={**os.environ, "LANG": "C", "LC_ALL": "C"})
    except FileNotFoundError as exc:
        raise EdgeopsError("ssh is not installed", hint=INSTALL_HINT) from exc
    except subprocess.TimeoutExpired as exc:
        raise EdgeopsError(f"ssh login to {name} ({address}) timed out") from exc
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        cause = lines[-1] if lines else f"rc={proc.returncode}"
        raise EdgeopsError(
            f"ssh login as {user} to {name} ({address}) failed: {cause}",
            hint="the lab network must be reachable from this machine (rootful podman); "
                 f"look at: podman exec {name} journalctl -u ssh",
        )
