"""The one place the lab talks to podman (and losetup).

Every podman call runs with ``CONTAINERS_CONF`` pointing at the settings this
project ships (runc, cgroupfs, explicit ulimits); the host's
/etc/containers is never edited.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from edgeops.errors import EdgeopsError

INSTALL_HINT = "install it with: apt-get install podman runc netavark aardvark-dns conmon"


def containers_conf() -> Path:
    """Path of the containers.conf shipped with edgeops."""
    return Path(str(resources.files("edgeops.lab") / "data" / "containers.conf"))


def podman_env() -> dict[str, str]:
    """Environment for podman: ours, with CONTAINERS_CONF and LANG=C."""
    env = dict(os.environ)
    env.setdefault("CONTAINERS_CONF", str(containers_conf()))
    env["LANG"] = env["LC_ALL"] = "C"
    return env


def _run(
    argv: Sequence[str], *, check: bool = True, input_: bytes | None = None
) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(
            list(argv),
            input=input_.decode() if input_ is not None else None,
            capture_output=True,
            text=True,
            env=podman_env(),
            check=False,
        )
    except FileNotFoundError as exc:
        raise EdgeopsError(f"{argv[0]} is not installed", hint=INSTALL_HINT) from exc
    if check and proc.returncode != 0:
        cause = (proc.stderr or proc.stdout).strip().splitlines()
        raise EdgeopsError(
            f"{' '.join(argv[:3])} failed (rc={proc.returncode}): {cause[-1] if cause else 'no output'}"
        )
    return proc


class Podman:
    """Thin wrapper over the podman command line."""

    def __init__(self, executable: str = "podman") -> None:
        self.executable = executable

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return _run([self.executable, *args], check=check)

    def ensure_usable(self) -> None:
        """Fail with a clear message when podman is missing or cannot run containers."""
        if shutil.which(self.executable) is None:
            raise EdgeopsError(f"podman is not installed (no '{self.executable}' on PATH)", hint=INSTALL_HINT)
        proc = self("info", "--format", "{{.Host.OCIRuntime.Name}}", check=False)
        if proc.returncode != 0:
            cause = (proc.stderr or proc.stdout).strip().splitlines()
            raise EdgeopsError(
                "podman is installed but not usable: " + (cause[-1] if cause else "podman info failed"),
                hint=f"check 'podman info' with CONTAINERS_CONF={containers_conf()}; {INSTALL_HINT}",
            )
        if shutil.which("runc") is None:
            raise EdgeopsError(
                "runc is not installed (the lab's containers.conf uses it)",
                hint="install it with: apt-get install runc",
            )

    def image_label(self, image: str, label: str) -> str | None:
        """The value of ``label`` on ``image``, or None when the image does not exist."""
        proc = self("image", "inspect", image, check=False)
        if proc.returncode != 0:
            return None
        data = json.loads(proc.stdout)[0]
        labels = (data.get("Config") or {}).get("Labels") or data.get("Labels") or {}
        return labels.get(label)

    def image_id(self, image: str) -> str | None:
        """The full ID of ``image``, or None."""
        proc = self("image", "inspect", "--format", "{{.Id}}", image, check=False)
        return proc.stdout.strip() if proc.returncode == 0 else None

    def container(self, name: str) -> dict[str, Any] | None:
        """``podman container inspect`` of ``name``, or None when it does not exist."""
        proc = self("container", "inspect", name, check=False)
        if proc.returncode != 0:
            return None
        data: list[dict[str, Any]] = json.loads(proc.stdout)
        return data[0] if data else None

    def containers_with_label(self, label: str) -> list[str]:
        """Names of all containers (running or not) that carry ``label``."""
        proc = self("ps", "-a", "--filter", f"label={label}", "--format", "{{.Names}}")
        return [n for n in proc.stdout.split() if n]

    def network_exists(self, name: str) -> bool:
        return self("network", "exists", name, check=False).returncode == 0


def losetup_find(backing: Path) -> str | None:
    """The loop device attached to ``backing``, or None."""
    proc = _run(["losetup", "--associated", str(backing), "--noheadings", "--output", "NAME"], check=False)
    names = proc.stdout.split()
    return names[0] if proc.returncode == 0 and names else None


def losetup_attach(backing: Path) -> str:
    """Attach ``backing`` to a free loop device and return the device path."""
    return _run(["losetup", "--find", "--show", str(backing)]).stdout.strip()


def losetup_detach(device: str) -> None:
    """Detach ``device``."""
    _run(["losetup", "--detach", device])
