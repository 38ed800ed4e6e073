"""Build the lab's Debian image with debootstrap + ``podman import``, once.

The image is cached under ``localhost/edgeops-lab:<distro>`` with a label
holding the hash of its recipe (the files in ``edgeops/lab/data/image`` and
the distro); when the recipe changes, the next build replaces it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from edgeops.errors import EdgeopsError, UsageError
from edgeops.lab.podman import Podman, podman_env

#: Debian releases the lab builds, with what the project knows of them.
DISTROS: tuple[str, ...] = ("bookworm", "trixie")
IMAGE_REPO = "localhost/edgeops-lab"
RECIPE_LABEL = "io.edgeops.recipe"
INIT = "/usr/local/sbin/edgeops-init"
DEFAULT_MIRROR = "http://deb.debian.org/debian"


def recipe_dir() -> Path:
    """Directory holding the image recipe files."""
    return Path(str(resources.files("edgeops.lab") / "data" / "image"))


def check_distro(distro: str) -> str:
    """Return ``distro`` or raise a usage error naming the accepted values."""
    if distro not in DISTROS:
        raise UsageError(f"unknown distro {distro!r}: accepted values are {', '.join(DISTROS)}")
    return distro


def packages() -> list[str]:
    """Packages baked into the image (``packages.txt`` without comments)."""
    text = (recipe_dir() / "packages.txt").read_text(encoding="utf-8")
    return [ln.split("#", 1)[0].strip() for ln in text.splitlines() if ln.split("#", 1)[0].strip()]


@dataclass(frozen=True)
class ImageRecipe:
    """What goes into one lab image."""

    distro: str

    @property
    def name(self) -> str:
        return f"{IMAGE_REPO}:{self.distro}"

    @property
    def digest(self) -> str:
        """SHA-256 over the distro and every recipe file (first 16 hex digits)."""
        h = hashlib.sha256(self.distro.encode())
        for path in sorted(recipe_dir().iterdir()):
            h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        return h.hexdigest()[:16]


def _step(msg: str) -> None:
    print(f"lab: {msg}", file=sys.stderr, flush=True)


def ensure_image(distro: str, podman: Podman, *, force: bool = False) -> tuple[str, bool]:
    """Make sure the image for ``distro`` exists and matches its recipe.

    Returns ``(image name, built)`` where ``built`` is True when it was
    (re)built by this call.
    """
    recipe = ImageRecipe(check_distro(distro))
    if not force and podman.image_label(recipe.name, RECIPE_LABEL) == recipe.digest:
        return recipe.name, False
    if shutil.which("debootstrap") is None:
        raise EdgeopsError(
            "debootstrap is not installed", hint="install it with: apt-get install debootstrap"
        )
    if os.geteuid() != 0:
        raise EdgeopsError(
            "building the lab image needs root (debootstrap, podman import)",
            hint="run as root, or build once with: sudo edgeops lab image",
        )
    _step(f"building {recipe.name} (recipe {recipe.digest}) with debootstrap; takes a few minutes")
    mirror = os.environ.get("EDGEOPS_DEBIAN_MIRROR", DEFAULT_MIRROR)
    workdir = Path(tempfile.mkdtemp(prefix=f"edgeops-image-{distro}-", dir="/var/tmp"))
    rootfs = workdir / "rootfs"
    try:
        env = {**os.environ, "LANG": "C", "LC_ALL": "C", "DEBIAN_FRONTEND": "noninteractive"}
        proc = subprocess.run(
            [
                "debootstrap",
                "--variant=minbase",
                "--include=" + ",".join(packages()),
                distro,
                str(rootfs),
                mirror,
            ],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-5:])
            raise EdgeopsError(
                f"debootstrap failed for {distro} from {mirror}:\n{tail}",
                hint="check that the Debian archive is reachable, or set EDGEOPS_DEBIAN_MIRROR",
            )
        for name in ("customize.sh", "edgeops-init"):
            shutil.copy2(recipe_dir() / name, rootfs / "usr/local/sbin" / name)
        (rootfs / "usr/local/sbin/edgeops-init").chmod(0o755)
        (rootfs / "usr/local/sbin/customize.sh").chmod(0o755)
        proc = subprocess.run(
            ["chroot", str(rootfs), "/usr/local/sbin/customize.sh"],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if proc.returncode != 0:
            raise EdgeopsError(f"customising the {distro} image failed: {proc.stderr.strip()}")
        (rootfs / "usr/local/sbin/customize.sh").unlink()
        _step(f"importing {recipe.name}")
        tar = subprocess.Popen(
            ["tar", "-C", str(rootfs), "--numeric-owner", "-c", "."], stdout=subprocess.PIPE
        )
        imp = subprocess.run(
            [
                podman.executable,
                "import",
                "--change",
                f'CMD ["{INIT}"]',
                "--change",
                "STOPSIGNAL SIGRTMIN+3",
                "--change",
                f"LABEL {RECIPE_LABEL}={recipe.digest}",
                "--change",
                f"LABEL io.edgeops.distro={distro}",
                "-",
                recipe.name,
            ],
            stdin=tar.stdout,
            capture_output=True,
            text=True,
            env=podman_env(),
            check=False,
        )
        if tar.stdout is not None:
            tar.stdout.close()
        tar.wait()
        if imp.returncode != 0 or tar.returncode != 0:
            raise EdgeopsError(f"podman import of {recipe.name} failed: {imp.stderr.strip()}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return recipe.name, True
